#include "runtime/store.h"

#include <algorithm>
#include <cctype>

#include "kube/json_fields.h"
#include "runtime/compact.h"

namespace sot::runtime {

ObjectKey key_of(const Json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  return {kube::string_field(*meta, "namespace"), kube::string_field(*meta, "name")};
}

std::string resource_version_of(const Json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  return kube::string_field(*meta, "resourceVersion");
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits at commas that are not inside parentheses.
std::vector<std::string_view> split_terms(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (text[i] == ',' && depth == 0) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(text.substr(start));
  return out;
}

bool valid_key(std::string_view k) {
  if (k.empty()) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

}  // namespace

kube::Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  for (std::string_view raw : split_terms(text)) {
    std::string_view t = trim(raw);
    auto bad = [&] {
      return kube::make_error(kube::Code::kInvalid, "invalid label selector term \"" + std::string(t) + "\"");
    };
    if (t.empty()) return bad();
    Term term;
    if (t.front() == '!') {
      term.key = std::string(trim(t.substr(1)));
      term.op = Op::kNotExists;
    } else if (auto p = t.find(" notin "); p != std::string_view::npos || t.find(" in ") != std::string_view::npos) {
      const bool notin = p != std::string_view::npos;
      if (!notin) p = t.find(" in ");
      term.key = std::string(trim(t.substr(0, p)));
      term.op = notin ? Op::kNotIn : Op::kIn;
      std::string_view rest = trim(t.substr(p + (notin ? 7 : 4)));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return bad();
      rest = rest.substr(1, rest.size() - 2);
      std::size_t start = 0;
      while (start <= rest.size()) {
        auto comma = rest.find(',', start);
        if (comma == std::string_view::npos) comma = rest.size();
        term.values.emplace_back(trim(rest.substr(start, comma - start)));
        start = comma + 1;
      }
    } else if (auto ne = t.find("!="); ne != std::string_view::npos) {
      term.key = std::string(trim(t.substr(0, ne)));
      term.op = Op::kNotEq;
      term.values.emplace_back(trim(t.substr(ne + 2)));
    } else if (auto eq = t.find('='); eq != std::string_view::npos) {
      term.key = std::string(trim(t.substr(0, eq)));
      term.op = Op::kEq;
      std::string_view v = t.substr(eq + 1);
      if (!v.empty() && v.front() == '=') v.remove_prefix(1);
      term.values.emplace_back(trim(v));
    } else {
      term.key = std::string(t);
      term.op = Op::kExists;
    }
    if (!valid_key(term.key)) return bad();
    sel.terms_.push_back(std::move(term));
  }
  return sel;
}

PackedLabels::PackedLabels(const Json& labels) {
  if (!labels.is_object()) return;
  for (const auto& [key, value] : labels.items()) {
    if (!value.is_string()) continue;
    data_.append(key).push_back('\0');
    data_.append(value.get_ref<const std::string&>()).push_back('\0');
  }
  data_.shrink_to_fit();
}

std::optional<std::string_view> PackedLabels::find(std::string_view key) const {
  std::string_view rest = data_;
  while (!rest.empty()) {
    const auto k_end = rest.find('\0');
    const auto v_end = rest.find('\0', k_end + 1);
    if (rest.substr(0, k_end) == key) return rest.substr(k_end + 1, v_end - k_end - 1);
    rest.remove_prefix(v_end + 1);
  }
  return std::nullopt;
}

bool LabelSelector::matches(const Json& labels) const {
  return matches_with([&](const std::string& key) -> std::optional<std::string_view> {
    if (!labels.is_object()) return std::nullopt;
    auto it = labels.find(key);
    if (it == labels.end() || !it->is_string()) return std::nullopt;
    return std::string_view(it->get_ref<const std::string&>());
  });
}

bool LabelSelector::matches(const PackedLabels& labels) const {
  return matches_with([&](const std::string& key) { return labels.find(key); });
}

template <typename Lookup>
bool LabelSelector::matches_with(Lookup&& lookup) const {
  for (const auto& term : terms_) {
    const std::optional<std::string_view> value = lookup(term.key);
    const auto in_values = [&] {
      return value && std::find(term.values.begin(), term.values.end(), *value) != term.values.end();
    };
    switch (term.op) {
      case Op::kEq:
      case Op::kIn:
        if (!in_values()) return false;
        break;
      case Op::kNotEq:
      case Op::kNotIn:
        if (in_values()) return false;
        break;
      case Op::kExists:
        if (!value) return false;
        break;
      case Op::kNotExists:
        if (value) return false;
        break;
    }
  }
  return true;
}

PackedObject pack_object(const Json& object) {
  PackedObject e;
  e.key = key_of(object);
  e.packed = deflate_bytes(Json::to_msgpack(object));
  e.resource_version = resource_version_of(object);
  const auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) {
    const auto labels = meta->find("labels");
    if (labels != meta->end()) e.labels = PackedLabels(*labels);
  }
  return e;
}

ObjectPtr unpack_object(const PackedObject& entry) {
  return std::make_shared<const Json>(Json::from_msgpack(inflate_bytes(entry.packed)));
}

ObjectPtr Store::get(const ObjectKey& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : unpack_object(it->second);
}

PackedObject Store::pack(const Json& object) const {
  PackedObject e = pack_object(object);
  if (indexer_) e.index = indexer_(object);
  return e;
}

template <typename Visit>
void Store::each_match(std::string_view ns, const LabelSelector* selector, Visit&& visit) const {
  std::shared_lock lock(mu_);
  auto it = ns.empty() ? objects_.begin() : objects_.lower_bound(ObjectKey{std::string(ns), ""});
  for (; it != objects_.end(); ++it) {
    if (!ns.empty() && it->first.ns != ns) break;
    if (selector != nullptr && !selector->empty() && !selector->matches(it->second.labels)) continue;
    visit(it->first, it->second);
  }
}

std::vector<ObjectPtr> Store::list(std::string_view ns, const LabelSelector* selector) const {
  std::vector<ObjectPtr> out;
  each_match(ns, selector, [&](const ObjectKey&, const PackedObject& o) { out.push_back(unpack_object(o)); });
  return out;
}

std::vector<ObjectKey> Store::list_keys(std::string_view ns, const LabelSelector* selector) const {
  std::vector<ObjectKey> out;
  each_match(ns, selector, [&](const ObjectKey& k, const PackedObject&) { out.push_back(k); });
  return out;
}

std::vector<ObjectPtr> Store::by_index(std::string_view value) const {
  std::vector<ObjectPtr> out;
  each_match({}, nullptr, [&](const ObjectKey&, const PackedObject& o) {
    if (!o.index.empty() && o.index == value) out.push_back(unpack_object(o));
  });
  return out;
}

std::vector<ObjectKey> Store::keys() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectKey> out;
  out.reserve(objects_.size());
  for (const auto& [k, v] : objects_) out.push_back(k);
  return out;
}

std::size_t Store::size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

ObjectPtr Store::upsert(ObjectPtr object) {
  ObjectKey key = key_of(*object);
  PackedObject packed = pack(*object);
  std::unique_lock lock(mu_);
  auto [it, inserted] = objects_.try_emplace(std::move(key));
  ObjectPtr old = inserted ? nullptr : unpack_object(it->second);
  it->second = std::move(packed);
  return old;
}

ObjectPtr Store::erase(const ObjectKey& key) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = unpack_object(it->second);
  objects_.erase(it);
  return old;
}

ReplaceDelta Store::replace(std::string_view scope_ns, std::vector<ObjectPtr> items) {
  // The tree form of replace_packed(): same diff, objects handed back whole.
  std::map<ObjectKey, ObjectPtr> given;
  std::vector<PackedObject> packed;
  packed.reserve(items.size());
  for (auto& item : items) {
    packed.push_back(pack(*item));
    given[packed.back().key] = std::move(item);
  }
  PackedDelta changes = replace_packed(scope_ns, std::move(packed));
  ReplaceDelta delta;
  for (const auto& old : changes.deleted) delta.deleted.push_back(unpack_object(old));
  for (const auto& [old, key] : changes.updated) delta.updated.emplace_back(unpack_object(old), given[key]);
  for (const auto& key : changes.added) delta.added.push_back(given[key]);
  return delta;
}

PackedDelta Store::replace_packed(std::string_view scope_ns, std::vector<PackedObject> items) {
  PackedDelta delta;
  std::map<ObjectKey, PackedObject> fresh;
  for (auto& item : items) {
    ObjectKey k = item.key;
    fresh[std::move(k)] = std::move(item);
  }
  std::unique_lock lock(mu_);
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (!scope_ns.empty() && it->first.ns != scope_ns) {
      ++it;
      continue;
    }
    auto f = fresh.find(it->first);
    if (f == fresh.end()) {
      delta.deleted.push_back(std::move(it->second));
      it = objects_.erase(it);
      continue;
    }
    if (it->second.resource_version != f->second.resource_version) {
      delta.updated.emplace_back(std::move(it->second), it->first);
    }
    it->second = std::move(f->second);
    fresh.erase(f);
    ++it;
  }
  for (auto& [k, obj] : fresh) {
    delta.added.push_back(k);
    objects_.emplace(k, std::move(obj));
  }
  return delta;
}

void strip_for_cache(Json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return;
  meta->erase("managedFields");
  auto ann = meta->find("annotations");
  if (ann != meta->end() && ann->is_object()) {
    ann->erase("kubectl.kubernetes.io/last-applied-configuration");
    if (ann->empty()) meta->erase("annotations");
  }
}

}  // namespace sot::runtime
