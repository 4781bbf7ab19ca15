#include <deque>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kube/client.h"
#include "kube/deadline.h"

using namespace sot::kube;

namespace {

// Records every request and answers from a script.
class FakeTransport final : public HttpTransport {
 public:
  std::vector<HttpRequest> requests;
  std::deque<Result<HttpResponse>> answers;
  std::vector<std::string> stream_chunks;
  int stream_status = 200;

  Result<HttpResponse> send(const HttpRequest& request) override {
    requests.push_back(request);
    REQUIRE_FALSE(answers.empty());
    auto a = answers.front();
    answers.pop_front();
    return a;
  }
  Result<HttpResponse> stream(const HttpRequest& request, const DataHandler& on_data, Cancellation&) override {
    requests.push_back(request);
    if (stream_status != 200) return HttpResponse{stream_status, R"({"kind":"Status","code":410,"reason":"Gone"})"};
    for (const auto& c : stream_chunks) {
      if (!on_data(c)) break;
    }
    return HttpResponse{200, ""};
  }
  std::string host() const override { return "127.0.0.1:6443"; }
};

std::string header(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

// A client configured as the program "test-operator" would configure it.
ClientConfig config() {
  ClientConfig cfg{"https://127.0.0.1:6443", "", "", "", "tok", "", "test"};
  cfg.field_manager = "test-operator";
  return cfg;
}

struct Fixture {
  FakeTransport* transport = nullptr;
  std::unique_ptr<RestClient> client;
  explicit Fixture(ClientConfig cfg = config()) {
    auto t = std::make_unique<FakeTransport>();
    transport = t.get();
    client = std::make_unique<RestClient>(cfg, std::move(t));
  }
};

}  // namespace

TEST_CASE("server-side apply sends apply-patch+yaml with fieldManager and force") {
  Fixture f;
  f.transport->answers.push_back(HttpResponse{200, R"({"metadata":{"name":"x"}})"});
  auto r = f.client->apply(resources::config_maps(), {"ns", "x"}, {{"data", {{"a", "b"}}}}, ApplyOptions{});
  REQUIRE(r.ok());
  const auto& req = f.transport->requests.at(0);
  CHECK(req.method == "PATCH");
  CHECK(req.path_and_query == "/api/v1/namespaces/ns/configmaps/x?fieldManager=test-operator&force=true");
  CHECK(header(req, "Content-Type") == "application/apply-patch+yaml");
  CHECK(header(req, "Authorization") == "Bearer tok");
  CHECK(req.body == R"({"data":{"a":"b"}})");
}

TEST_CASE("a field manager named in the options wins over the configured one; without either none is sent") {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.transport->answers.push_back(HttpResponse{200, "{}"});
  PatchOptions po;
  po.field_manager = "someone-else";
  CHECK(f.client->merge_patch(resources::config_maps(), {"ns", "x"}, {{"data", nullptr}}, po).ok());
  CHECK(f.transport->requests[0].path_and_query == "/api/v1/namespaces/ns/configmaps/x?fieldManager=someone-else");
  CHECK(header(f.transport->requests[0], "User-Agent").empty());  // none configured: the transport's own
  Fixture anonymous({"https://127.0.0.1:6443", "", "", "", "tok", "", "test"});
  anonymous.transport->answers.push_back(HttpResponse{200, "{}"});
  CHECK(anonymous.client->merge_patch(resources::config_maps(), {"ns", "x"}, {{"data", nullptr}}, PatchOptions{}).ok());
  CHECK(anonymous.transport->requests[0].path_and_query == "/api/v1/namespaces/ns/configmaps/x");
}

TEST_CASE("get_raw hands back any HTTP status and body, with the configured user agent") {
  ClientConfig cfg = config();
  cfg.user_agent = "kubectl-example/1.0";
  Fixture f(cfg);
  f.transport->answers.push_back(HttpResponse{503, "not ready: postgres"});
  auto r = f.client->get_raw("/api/v1/namespaces/ns/services/x:http/proxy/ready");
  REQUIRE(r.ok());
  CHECK(r->status == 503);
  CHECK(r->body == "not ready: postgres");
  const auto& req = f.transport->requests.at(0);
  CHECK(req.method == "GET");
  CHECK(header(req, "Accept") == "*/*");
  CHECK(header(req, "User-Agent") == "kubectl-example/1.0");
  CHECK(header(req, "Authorization") == "Bearer tok");
  f.transport->answers.push_back(make_error(Code::kUnavailable, "connection refused"));
  CHECK(f.client->get_raw("/x").code() == Code::kUnavailable);
}

TEST_CASE("status subresource, merge patch, update and delete build the right requests") {
  Fixture f;
  for (int i = 0; i < 4; ++i) f.transport->answers.push_back(HttpResponse{200, "{}"});
  ApplyOptions ao;
  ao.subresource = "status";
  ao.force = false;
  CHECK(f.client->apply(resources::deployments(), {"ns", "d"}, {}, ao).ok());
  CHECK(f.transport->requests[0].path_and_query ==
        "/apis/apps/v1/namespaces/ns/deployments/d/status?fieldManager=test-operator");
  CHECK(f.client->merge_patch(resources::config_maps(), {"ns", "x"}, {{"data", nullptr}}, PatchOptions{}).ok());
  CHECK(header(f.transport->requests[1], "Content-Type") == "application/merge-patch+json");
  CHECK(f.client
            ->update(resources::config_maps(),
                     {{"metadata", {{"name", "x"}, {"namespace", "ns"}, {"resourceVersion", "7"}}}}, UpdateOptions{})
            .ok());
  CHECK(f.transport->requests[2].method == "PUT");
  CHECK(f.transport->requests[2].path_and_query == "/api/v1/namespaces/ns/configmaps/x?fieldManager=test-operator");
  DeleteOptions d;
  d.propagation = Propagation::kForeground;
  d.precondition_uid = "u-1";
  CHECK(f.client->remove(resources::config_maps(), {"ns", "x"}, d).ok());
  auto body = nlohmann::json::parse(f.transport->requests[3].body);
  CHECK(body["propagationPolicy"] == "Foreground");
  CHECK(body["preconditions"]["uid"] == "u-1");
}

TEST_CASE("error answers become coded errors; transport failures pass through") {
  Fixture f;
  f.transport->answers.push_back(
      HttpResponse{409, R"({"kind":"Status","reason":"Conflict","message":"modified","code":409})"});
  f.transport->answers.push_back(make_error(Code::kTls, "TLS handshake failed"));
  f.transport->answers.push_back(HttpResponse{200, "not json"});
  auto conflict = f.client->update(resources::config_maps(), {{"metadata", {{"name", "x"}}}}, UpdateOptions{});
  CHECK(conflict.code() == Code::kConflict);
  CHECK(conflict.error().message == "modified");
  CHECK(f.client->get(resources::config_maps(), {"ns", "x"}).code() == Code::kTls);
  CHECK(f.client->get(resources::config_maps(), {"ns", "x"}).code() == Code::kInternal);
}

TEST_CASE("list_all follows continue tokens") {
  Fixture f;
  f.transport->answers.push_back(
      HttpResponse{200, R"({"metadata":{"continue":"c1","resourceVersion":"10"},"items":[{"a":1}]})"});
  f.transport->answers.push_back(
      HttpResponse{200, R"({"metadata":{"resourceVersion":"11"},"items":[{"a":2},{"a":3}]})"});
  ListOptions lo;
  lo.limit = 1;
  auto all = list_all(*f.client, resources::config_maps(), "ns", lo);
  REQUIRE(all.ok());
  CHECK(all->items.size() == 3);
  CHECK(all->resource_version == "11");
  CHECK(f.transport->requests[1].path_and_query == "/api/v1/namespaces/ns/configmaps?limit=1&continue=c1");
}

// Found by fuzzing (test/fuzz/fuzz_kube_list): a discovery document whose
// entries were not objects threw out of server_resources(). Answers of any
// shape now read as what they hold, with the odd parts skipped.
TEST_CASE("discovery and list answers of the wrong shape are skipped, never thrown on") {
  Fixture f;
  f.transport->answers.push_back(
      HttpResponse{200, R"({"resources":[5,{"name":7,"kind":"Deployment","namespaced":"yes","verbs":["get",1]}]})"});
  std::vector<ApiResource> resources;
  CHECK_NOTHROW(resources = f.client->server_resources("apps", "v1").value());
  REQUIRE(resources.size() == 2);
  CHECK(resources[1].kind == "Deployment");
  CHECK(resources[1].name.empty());
  CHECK_FALSE(resources[1].namespaced);
  CHECK(resources[1].verbs == std::vector<std::string>{"get"});

  f.transport->answers.push_back(HttpResponse{200, R"({"versions":["v1",2]})"});
  f.transport->answers.push_back(HttpResponse{
      200, R"({"groups":[1,{"name":"apps","preferredVersion":"v1","versions":[{"version":3},{"version":"v1"}]}]})"});
  std::vector<GroupVersion> groups;
  CHECK_NOTHROW(groups = f.client->server_groups().value());
  CHECK(groups.size() == 3);

  f.transport->answers.push_back(HttpResponse{200, R"([1,2])"});
  CHECK_NOTHROW((void)list_all(*f.client, resources::config_maps(), "ns", {}));
  f.transport->answers.push_back(HttpResponse{200, R"({"metadata":{"resourceVersion":5,"continue":[]},"items":{}})"});
  auto all = list_all(*f.client, resources::config_maps(), "ns", {});
  REQUIRE(all.ok());
  CHECK(all->items.empty());
  CHECK(all->resource_version.empty());
}

TEST_CASE("watch hands events over as chunks arrive and maps an ERROR 410 to Gone") {
  Fixture f;
  f.transport->stream_chunks = {
      R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
      "\n"
      R"({"type":"BOOK)",
      R"(MARK","object":{"metadata":{"resourceVersion":"9"}}})"
      "\n",
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})"
      "\n"};
  std::vector<EventType> seen;
  Cancellation cancel;
  WatchOptions wo;
  wo.resource_version = "5";
  auto end = f.client->watch(
      resources::config_maps(), "ns", wo,
      [&](WatchEvent&& ev) {
        seen.push_back(ev.type);
        return true;
      },
      cancel);
  CHECK(end.code() == Code::kGone);
  CHECK(seen == std::vector<EventType>{EventType::kAdded, EventType::kBookmark});
  CHECK(f.transport->requests[0].path_and_query ==
        "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=300");
}

TEST_CASE("a handler can stop the watch; an HTTP 410 at start is Gone") {
  Fixture f;
  f.transport->stream_chunks = {R"({"type":"ADDED","object":{}})"
                                "\n"
                                R"({"type":"ADDED","object":{}})"
                                "\n"};
  Cancellation cancel;
  int n = 0;
  auto end = f.client->watch(
      resources::config_maps(), "", WatchOptions{}, [&](WatchEvent&&) { return ++n < 1; }, cancel);
  REQUIRE(end.ok());
  CHECK(*end == WatchEnd::kStoppedByHandler);
  CHECK(n == 1);
  f.transport->stream_status = 410;
  CHECK(f.client
            ->watch(
                resources::config_maps(), "", WatchOptions{}, [](WatchEvent&&) { return true; }, cancel)
            .code() == Code::kGone);
}

TEST_CASE("tokens come from tokenFile when no token is set") {
  char tmpl[] = "/tmp/sot-token-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "file-token\n", 11) == 11);
  close(fd);
  Fixture f(ClientConfig{"https://h:1", "", "", "", "", tmpl, "t"});
  f.transport->answers.push_back(HttpResponse{200, "{}"});
  CHECK(f.client->get(resources::config_maps(), {"a", "b"}).ok());
  CHECK(header(f.transport->requests[0], "Authorization") == "Bearer file-token");
  unlink(tmpl);
}

TEST_CASE("Cancellation runs callbacks once, and at once when already cancelled") {
  Cancellation c;
  int calls = 0;
  auto h = c.on_cancel([&] { ++calls; });
  auto h2 = c.on_cancel([&] { calls += 10; });
  c.remove(h2);
  c.cancel();
  c.cancel();
  CHECK(calls == 1);
  c.on_cancel([&] { calls += 100; });
  CHECK(calls == 101);
  (void)h;
}

TEST_CASE("a request deadline shortens the request's timeout; a passed one sends nothing") {
  Fixture f;
  f.transport->answers.push_back(HttpResponse{200, "{}"});
  f.transport->answers.push_back(HttpResponse{200, "{}"});
  CHECK(f.client->get(resources::leases(), {"ns", "l"}).ok());
  CHECK(f.transport->requests.at(0).timeout == std::chrono::seconds(30));
  {
    RequestDeadline scope(std::chrono::steady_clock::now() + std::chrono::milliseconds(1500));
    CHECK(f.client->get(resources::leases(), {"ns", "l"}).ok());
    CHECK(f.transport->requests.at(1).timeout <= std::chrono::milliseconds(1500));
    CHECK(f.transport->requests.at(1).timeout > std::chrono::milliseconds(1000));
    {
      RequestDeadline passed(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
      auto r = f.client->get(resources::leases(), {"ns", "l"});
      CHECK(r.code() == Code::kTimeout);
      CHECK(f.transport->requests.size() == 2);  // never sent
    }
    CHECK(request_time_left().has_value());  // the outer scope is back
  }
  CHECK_FALSE(request_time_left().has_value());
}
