// The informer's cache: the last state of every watched object, keyed by
// namespace/name, shared read-only with reconcilers. Readers get immutable
// snapshots (shared_ptr<const Json>) and never block the watch. Lists filter
// by namespace and by a Kubernetes label selector (equality, set-based and
// existence terms).
//
// Objects are kept packed (MessagePack, then deflated with a dictionary of
// Kubernetes field names: runtime/compact.h) and unpacked on read: an nlohmann
// tree costs about ten times its MessagePack size (a Deployment: ~37 KB as a
// tree, ~3 KB as MessagePack), and the operator reads a handful of children per reconcile
// while it holds thousands. Labels and resourceVersion stay unpacked for
// selector matching and relist diffs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/resource.h"
#include "kube/result.h"

namespace sot::runtime {

using Json = nlohmann::json;
using kube::ObjectKey;
using ObjectPtr = std::shared_ptr<const Json>;

ObjectKey key_of(const Json& object);
std::string resource_version_of(const Json& object);

// Labels as the store keeps them: "key\0value\0" pairs in one string. An
// nlohmann object of six labels is about 1 KB of small allocations; this is
// the bytes themselves, once per cached object.
class PackedLabels {
 public:
  PackedLabels() = default;
  explicit PackedLabels(const Json& labels);  // non-string values are skipped
  std::optional<std::string_view> find(std::string_view key) const;

 private:
  std::string data_;
};

// A parsed label selector: "a=b,c!=d,e,!f,g in (x,y),h notin (z)".
class LabelSelector {
 public:
  static kube::Result<LabelSelector> parse(std::string_view text);
  bool matches(const Json& labels) const;  // labels: a JSON object (or null)
  bool matches(const PackedLabels& labels) const;
  bool empty() const { return terms_.empty(); }

 private:
  enum class Op { kEq, kNotEq, kExists, kNotExists, kIn, kNotIn };
  struct Term {
    std::string key;
    Op op = Op::kEq;
    std::vector<std::string> values;
  };
  template <typename Lookup>
  bool matches_with(Lookup&& lookup) const;
  std::vector<Term> terms_;
};

// The read side that reconcilers see.
class CacheReader {
 public:
  virtual ~CacheReader() = default;
  virtual ObjectPtr get(const ObjectKey& key) const = 0;
  // ns "" = every namespace; selector "" = everything.
  virtual std::vector<ObjectPtr> list(std::string_view ns = {}, const LabelSelector* selector = nullptr) const = 0;
  // The keys list() would return, without unpacking a single object.
  virtual std::vector<ObjectKey> list_keys(std::string_view ns = {}, const LabelSelector* selector = nullptr) const = 0;
  // Objects whose index value (the cache's Indexer) is `value`.
  virtual std::vector<ObjectPtr> by_index(std::string_view value) const = 0;
  virtual std::vector<ObjectKey> keys() const = 0;
  virtual std::size_t size() const = 0;
};

// What a relist changed, computed before the cache is replaced.
struct ReplaceDelta {
  std::vector<ObjectPtr> added;
  std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;  // old, new (resourceVersion differs)
  std::vector<ObjectPtr> deleted;                        // last known state
};

// Maps an object to the one value a cache indexes it by ("" for none), the way
// the operator finds every resource claiming a namespace without unpacking
// them all.
using Indexer = std::function<std::string(const Json&)>;

// An object as the store keeps it: packed, with what lists and relists read.
struct PackedObject {
  ObjectKey key;
  std::vector<std::uint8_t> packed;  // MessagePack, deflated
  std::string resource_version;
  PackedLabels labels;
  std::string index;  // the Indexer's value; "" without one
};

PackedObject pack_object(const Json& object);
ObjectPtr unpack_object(const PackedObject& object);

// What a relist of packed objects changed. Added and updated objects are named
// by key (read them from the store); deleted and replaced ones are kept packed,
// so a relist of thousands never holds them all as trees at once.
struct PackedDelta {
  std::vector<ObjectKey> added;
  std::vector<std::pair<PackedObject, ObjectKey>> updated;  // old, key of the new
  std::vector<PackedObject> deleted;
};

class Store final : public CacheReader {
 public:
  explicit Store(Indexer indexer = {}) : indexer_(std::move(indexer)) {}

  ObjectPtr get(const ObjectKey& key) const override;
  std::vector<ObjectPtr> list(std::string_view ns = {}, const LabelSelector* selector = nullptr) const override;
  std::vector<ObjectKey> list_keys(std::string_view ns = {}, const LabelSelector* selector = nullptr) const override;
  std::vector<ObjectPtr> by_index(std::string_view value) const override;
  // pack_object() plus this store's index value.
  PackedObject pack(const Json& object) const;
  std::vector<ObjectKey> keys() const override;
  std::size_t size() const override;

  // Inserts or replaces; returns the previous object (null if new).
  ObjectPtr upsert(ObjectPtr object);
  // Removes; returns the removed object (null if absent).
  ObjectPtr erase(const ObjectKey& key);
  // Replaces every object in `scope_ns` ("" = all) with `items` and returns
  // the difference: a relist after a watch gap or a 410.
  ReplaceDelta replace(std::string_view scope_ns, std::vector<ObjectPtr> items);
  // The same for objects packed as they arrived (the informer packs each list
  // page before it asks for the next).
  PackedDelta replace_packed(std::string_view scope_ns, std::vector<PackedObject> items);

 private:
  template <typename Visit>
  void each_match(std::string_view ns, const LabelSelector* selector, Visit&& visit) const;

  Indexer indexer_;
  mutable std::shared_mutex mu_;
  std::map<ObjectKey, PackedObject> objects_;
};

// Drops what reconcilers never read before an object is cached: managedFields
// (often half an object's size) and kubectl's last-applied-configuration.
void strip_for_cache(Json& object);

}  // namespace sot::runtime
