#include "kube/client.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "kube/deadline.h"
#include "kube/errors.h"
#include "kube/json_fields.h"

namespace sot::kube {
namespace {

constexpr auto kTokenRefresh = std::chrono::minutes(1);

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string append_param(std::string path, std::string_view key, std::string_view value) {
  path += path.find('?') == std::string::npos ? '?' : '&';
  path += key;
  path += '=';
  path += url_encode(value);
  return path;
}

Result<Json> parse_body(const HttpResponse& resp) {
  if (resp.body.empty()) return Json::object();
  auto parsed = Json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return make_error(Code::kInternal, "API server answered with a body that is not JSON", resp.status);
  }
  return parsed;
}

}  // namespace

RestClient::RestClient(ClientConfig config, std::unique_ptr<HttpTransport> transport,
                       std::shared_ptr<RequestObserver> observer)
    : config_(std::move(config)), transport_(std::move(transport)), observer_(std::move(observer)) {
  host_ = transport_->host();
}

std::unique_ptr<RestClient> RestClient::create(const ClientConfig& config, std::shared_ptr<RequestObserver> observer) {
  return std::make_unique<RestClient>(config, make_cpprest_transport(config), std::move(observer));
}

void RestClient::add_auth(HttpRequest& req, const char* accept) {
  std::string token = config_.token;
  if (token.empty() && !config_.token_file.empty()) {
    std::lock_guard lock(token_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (file_token_.empty() || now - token_read_ > kTokenRefresh) {
      std::ifstream in(config_.token_file);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string fresh = trim(ss.str());
      if (!fresh.empty()) file_token_ = std::move(fresh);  // keep the last good token on a read failure
      token_read_ = now;
    }
    token = file_token_;
  }
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  if (!config_.user_agent.empty()) req.headers.emplace_back("User-Agent", config_.user_agent);
  req.headers.emplace_back("Accept", accept);
}

Result<Json> RestClient::call(std::string method, std::string path_and_query, std::string content_type,
                              std::string body, bool parse_answer) {
  HttpRequest req;
  req.method = std::move(method);
  req.path_and_query = std::move(path_and_query);
  req.body = std::move(body);
  add_auth(req);
  if (!content_type.empty()) req.headers.emplace_back("Content-Type", std::move(content_type));
  if (auto left = request_time_left()) {
    if (left->count() <= 0) {
      return make_error(Code::kTimeout,
                        req.method + " " + req.path_and_query + ": deadline passed before the request was sent");
    }
    req.timeout = std::min(req.timeout, *left);
  }

  const auto start = std::chrono::steady_clock::now();
  auto resp = transport_->send(req);
  if (observer_) {
    observer_->observe(req.method, resp.ok() ? resp->status : 0, std::chrono::steady_clock::now() - start);
  }
  if (!resp.ok()) return resp.error();
  if (resp->status < 200 || resp->status >= 300) return error_from_response(resp->status, resp->body);
  if (!parse_answer) return Json::object();
  return parse_body(*resp);
}

Result<Json> RestClient::get(const ResourceRef& ref, const ObjectKey& key) {
  return call("GET", object_path(ref, key));
}

Result<Json> RestClient::list(const ResourceRef& ref, std::string_view ns, const ListOptions& opts) {
  return call("GET", collection_path(ref, ns) + list_query(opts));
}

Result<Json> RestClient::create(const ResourceRef& ref, std::string_view ns, const Json& object) {
  return call("POST", collection_path(ref, ns), "application/json", object.dump());
}

Result<Json> RestClient::apply(const ResourceRef& ref, const ObjectKey& key, const Json& object,
                               const ApplyOptions& opts) {
  std::string path = object_path(ref, key, opts.subresource);
  path = append_param(std::move(path), "fieldManager", field_manager(opts.field_manager));
  if (opts.force) path = append_param(std::move(path), "force", "true");
  // JSON is YAML, so the object goes as it is.
  return call("PATCH", std::move(path), "application/apply-patch+yaml", object.dump(), opts.want_object);
}

Result<Json> RestClient::merge_patch(const ResourceRef& ref, const ObjectKey& key, const Json& patch,
                                     const PatchOptions& opts) {
  std::string path = object_path(ref, key, opts.subresource);
  const std::string& manager = field_manager(opts.field_manager);
  if (!manager.empty()) path = append_param(std::move(path), "fieldManager", manager);
  return call("PATCH", std::move(path), "application/merge-patch+json", patch.dump());
}

Result<Json> RestClient::update(const ResourceRef& ref, const Json& object, const UpdateOptions& opts) {
  const Json& meta = object_field(object, "metadata");
  ObjectKey key{string_field(meta, "namespace"), string_field(meta, "name")};
  if (key.name.empty()) return make_error(Code::kInvalid, "update: object has no metadata.name");
  std::string path = object_path(ref, key, opts.subresource);
  const std::string& manager = field_manager(opts.field_manager);
  if (!manager.empty()) path = append_param(std::move(path), "fieldManager", manager);
  return call("PUT", std::move(path), "application/json", object.dump());
}

Status RestClient::remove(const ResourceRef& ref, const ObjectKey& key, const DeleteOptions& opts) {
  Json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  switch (opts.propagation) {
    case Propagation::kDefault:
      break;
    case Propagation::kForeground:
      body["propagationPolicy"] = "Foreground";
      break;
    case Propagation::kBackground:
      body["propagationPolicy"] = "Background";
      break;
    case Propagation::kOrphan:
      body["propagationPolicy"] = "Orphan";
      break;
  }
  if (!opts.precondition_uid.empty()) body["preconditions"]["uid"] = opts.precondition_uid;
  if (!opts.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = opts.precondition_resource_version;
  }
  auto r = call("DELETE", object_path(ref, key), "application/json", body.dump());
  if (!r.ok()) return r.error();
  return ok_status();
}

Result<WatchEnd> RestClient::watch(const ResourceRef& ref, std::string_view ns, const WatchOptions& opts,
                                   const WatchHandler& handler, Cancellation& cancel) {
  HttpRequest req;
  req.method = "GET";
  req.path_and_query = collection_path(ref, ns) + watch_query(opts);
  // The server ends the watch after timeout_seconds; allow a margin for the
  // last bytes before the client gives up on a silent connection.
  req.timeout = std::chrono::seconds(opts.timeout_seconds > 0 ? opts.timeout_seconds + 30 : 3600);
  add_auth(req);

  WatchDecoder decoder;
  std::optional<Error> stream_error;
  bool stopped = false;
  const auto start = std::chrono::steady_clock::now();
  auto resp = transport_->stream(
      req,
      [&](std::string_view chunk) {
        auto events = decoder.feed(chunk);
        if (!events.ok()) {
          stream_error = events.error();
          return false;
        }
        for (auto& ev : *events) {
          if (ev.type == EventType::kError) {
            stream_error = error_from_status_object(ev.object);
            return false;
          }
          if (!handler(std::move(ev))) {
            stopped = true;
            return false;
          }
        }
        return true;
      },
      cancel);
  if (observer_) {
    observer_->observe("WATCH", resp.ok() ? resp->status : 0, std::chrono::steady_clock::now() - start);
  }
  if (stream_error) return *stream_error;
  if (stopped) return WatchEnd::kStoppedByHandler;
  if (!resp.ok()) {
    if (resp.code() == Code::kCancelled || cancel.cancelled()) return WatchEnd::kCancelled;
    return resp.error();
  }
  if (resp->status < 200 || resp->status >= 300) return error_from_response(resp->status, resp->body);
  if (cancel.cancelled()) return WatchEnd::kCancelled;
  return WatchEnd::kServerClosed;
}

Result<std::vector<GroupVersion>> RestClient::server_groups() {
  std::vector<GroupVersion> out;
  auto core = call("GET", "/api");
  if (!core.ok()) return core.error();
  for (const auto& v : array_field(*core, "versions")) {
    if (v.is_string()) out.push_back({"", v.get<std::string>(), true});
  }
  auto groups = call("GET", "/apis");
  if (!groups.ok()) return groups.error();
  for (const auto& g : array_field(*groups, "groups")) {
    const std::string name = string_field(g, "name");
    const std::string preferred = string_field(object_field(g, "preferredVersion"), "version");
    for (const auto& v : array_field(g, "versions")) {
      const std::string version = string_field(v, "version");
      out.push_back({name, version, version == preferred});
    }
  }
  return out;
}

Result<std::vector<ApiResource>> RestClient::server_resources(std::string_view group, std::string_view version) {
  std::string path =
      group.empty() ? "/api/" + std::string(version) : "/apis/" + std::string(group) + "/" + std::string(version);
  auto list = call("GET", std::move(path));
  if (!list.ok()) return list.error();
  std::vector<ApiResource> out;
  for (const auto& r : array_field(*list, "resources")) {
    ApiResource res;
    res.name = string_field(r, "name");
    res.kind = string_field(r, "kind");
    res.namespaced = bool_field(r, "namespaced");
    for (const auto& v : array_field(r, "verbs")) {
      if (v.is_string()) res.verbs.push_back(v.get<std::string>());
    }
    out.push_back(std::move(res));
  }
  return out;
}

Result<Json> RestClient::server_version() {
  return call("GET", "/version");
}

Result<HttpResponse> RestClient::get_raw(const std::string& path_and_query, std::chrono::milliseconds timeout) {
  HttpRequest req;
  req.method = "GET";
  req.path_and_query = path_and_query;
  req.timeout = timeout;
  add_auth(req, "*/*");
  const auto start = std::chrono::steady_clock::now();
  auto resp = transport_->send(req);
  if (observer_) {
    observer_->observe(req.method, resp.ok() ? resp->status : 0, std::chrono::steady_clock::now() - start);
  }
  return resp;
}

Result<ListAll> list_all(KubeClient& client, const ResourceRef& ref, std::string_view ns, ListOptions opts) {
  ListAll out;
  for (;;) {
    auto page = client.list(ref, ns, opts);
    if (!page.ok()) return page.error();
    if (page->is_object()) {
      if (auto items = page->find("items"); items != page->end() && items->is_array()) {
        for (auto& item : *items) out.items.push_back(std::move(item));
      }
    }
    const Json& meta = object_field(*page, "metadata");
    out.resource_version = string_field(meta, "resourceVersion");
    std::string next = string_field(meta, "continue");
    if (next.empty()) break;
    opts.continue_token = std::move(next);
    opts.resource_version.clear();  // continue carries its own snapshot
  }
  return out;
}

}  // namespace sot::kube
