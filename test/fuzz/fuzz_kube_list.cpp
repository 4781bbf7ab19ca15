// What the operator makes of the API server's answers: list pages followed by
// continue tokens, discovery documents, error Status bodies and watch streams,
// through the real RestClient (over a scripted transport, no socket) and the
// real Informer that turns them into its cache. A broken or hostile answer
// must end in an error value or be skipped, never in a crash of the operator.
//
// Input: answers separated by lines "---"; each answer is "STATUS\nBODY" (a
// first line that is not a number means status 200 and the whole text is the
// body). The first byte's low bit also runs the answers through an Informer.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/errors.h"
#include "kube/transport.h"
#include "runtime/informer.h"
#include "runtime/logger.h"
#include "runtime/store.h"

using namespace sot;
using kube::HttpResponse;

namespace {

std::vector<HttpResponse> split_answers(const std::string& text) {
  std::vector<HttpResponse> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t sep = text.find("\n---\n", start);
    std::string part = text.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
    HttpResponse r{200, part};
    const std::size_t nl = part.find('\n');
    const std::string first = part.substr(0, nl);
    if (!first.empty() && first.size() <= 3 && first.find_first_not_of("0123456789") == std::string::npos) {
      r.status = std::stoi(first);
      r.body = nl == std::string::npos ? std::string() : part.substr(nl + 1);
    }
    out.push_back(std::move(r));
    if (sep == std::string::npos) break;
    start = sep + 5;
  }
  return out;
}

// Answers requests from the script; once it is used up every call fails (a
// refused connection) and `exhausted` wakes whoever waits for that.
class ScriptedTransport final : public kube::HttpTransport {
 public:
  explicit ScriptedTransport(std::vector<HttpResponse> answers) : answers_(answers.begin(), answers.end()) {}

  kube::Result<HttpResponse> send(const kube::HttpRequest&) override {
    auto next = pop();
    if (!next) return kube::make_error(kube::Code::kUnavailable, "script used up");
    return *next;
  }
  kube::Result<HttpResponse> stream(const kube::HttpRequest&, const kube::DataHandler& on_data,
                                    kube::Cancellation&) override {
    auto next = pop();
    if (!next) return kube::make_error(kube::Code::kUnavailable, "script used up");
    if (next->status < 200 || next->status >= 300) return *next;
    const std::string& body = next->body;
    const std::size_t step = 1 + body.size() % 13;
    for (std::size_t pos = 0; pos < body.size(); pos += step) {
      if (!on_data(std::string_view(body).substr(pos, step))) break;
    }
    return HttpResponse{next->status, ""};
  }
  std::string host() const override { return "127.0.0.1:6443"; }

  bool wait_exhausted(std::chrono::seconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return exhausted_; });
  }

 private:
  std::optional<HttpResponse> pop() {
    std::lock_guard lock(mu_);
    if (answers_.empty()) {
      exhausted_ = true;
      cv_.notify_all();
      return std::nullopt;
    }
    HttpResponse r = std::move(answers_.front());
    answers_.pop_front();
    return r;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<HttpResponse> answers_;
  bool exhausted_ = false;
};

std::unique_ptr<kube::RestClient> client_for(const std::vector<HttpResponse>& answers, ScriptedTransport** raw) {
  auto t = std::make_unique<ScriptedTransport>(answers);
  if (raw) *raw = t.get();
  kube::ClientConfig cfg{"https://127.0.0.1:6443", "", "", "", "token", "", "fuzz"};
  return std::make_unique<kube::RestClient>(cfg, std::move(t));
}

void touch(const kube::Json& object) {
  (void)runtime::key_of(object);
  (void)runtime::resource_version_of(object);
}

// Time for the informer's backoff: every wait ends at once at its deadline,
// so a script of failures is replayed in microseconds, not in 0.8 s steps.
class RushClock final : public runtime::Clock {
 public:
  runtime::TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  runtime::WallTime wall_now() const override {
    return runtime::WallTime(std::chrono::seconds(1'700'000'000)) +
           std::chrono::duration_cast<runtime::WallTime::duration>(now() - runtime::TimePoint{});
  }
  void wait_until(std::condition_variable&, std::unique_lock<std::mutex>&, runtime::TimePoint deadline) override {
    std::lock_guard lock(mu_);
    if (deadline > now_) now_ = deadline;
  }

 private:
  mutable std::mutex mu_;
  runtime::TimePoint now_{};
};

class NullSink final : public runtime::LogSink {
 public:
  void write(std::string_view) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool informer = data[0] & 1;
  const auto answers = split_answers(std::string(reinterpret_cast<const char*>(data + 1), size - 1));

  {  // list_all: pages and continue tokens
    auto client = client_for(answers, nullptr);
    auto all = kube::list_all(*client, kube::resources::config_maps(), "ns", {});
    if (all.ok()) {
      for (const auto& item : all->items) touch(item);
    } else {
      (void)all.error().to_string();
    }
  }
  {  // discovery
    auto client = client_for(answers, nullptr);
    (void)client->server_groups();
    (void)client->server_resources("apps", "v1");
    (void)client->server_version();
  }
  {  // one watch, as the informer runs it
    auto client = client_for(answers, nullptr);
    kube::Cancellation cancel;
    for (int i = 0; i < 2; ++i) {
      (void)client->watch(
          kube::resources::config_maps(), "ns", {},
          [](kube::WatchEvent&& ev) {
            touch(ev.object);
            return true;
          },
          cancel);
    }
  }
  if (informer) {  // the informer's list, watch and cache over the same answers
    ScriptedTransport* transport = nullptr;
    auto client = client_for(answers, &transport);
    runtime::InformerOptions options;
    options.resource = kube::resources::config_maps();
    options.namespaces = {"ns"};
    options.page_size = 2;
    RushClock clock;
    runtime::Informer inf(*client, clock, options,
                          runtime::Logger(std::make_shared<NullSink>(), runtime::LogLevel::kError));
    auto handler = std::make_shared<runtime::FuncEventHandler>();
    handler->add = [](const runtime::ObjectPtr& o) { touch(*o); };
    handler->update = [](const runtime::ObjectPtr& a, const runtime::ObjectPtr& b) {
      touch(*a);
      touch(*b);
    };
    handler->remove = [](const runtime::ObjectPtr& o) { touch(*o); };
    inf.add_handler(handler);
    inf.start();
    (void)transport->wait_exhausted(std::chrono::seconds(10));
    inf.stop();
    for (const auto& o : inf.cache().list()) touch(*o);
  }
  return 0;
}
