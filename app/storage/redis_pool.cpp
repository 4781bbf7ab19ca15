// Why: the hiredis adapter: a bounded pool of blocking connections with socket timeouts, AUTH and
// SELECT on connect. A connection that saw an I/O error is dropped, so the pool heals itself once
// Redis is reachable again; callers see kUnavailable meanwhile.
#include <condition_variable>
#include <deque>
#include <mutex>

#include <hiredis/hiredis.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "storage/redis.h"

namespace sot::kv {
namespace {

struct CtxDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using CtxPtr = std::unique_ptr<redisContext, CtxDeleter>;

Reply convert(const redisReply* r) {
  Reply out;
  if (r == nullptr) return out;
  switch (r->type) {
    case REDIS_REPLY_NIL:
      out.type = Reply::Type::kNil;
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      break;
  }
  return out;
}

class RedisPool final : public Store {
 public:
  RedisPool(const RedisOptions& options, prometheus::Registry* registry) : options_(options) {
    if (registry != nullptr) {
      auto& family = prometheus::BuildCounter()
                         .Name("redis_commands_total")
                         .Help("Redis round trips by result")
                         .Register(*registry);
      ok_ = &family.Add({{"result", "success"}});
      failed_ = &family.Add({{"result", "error"}});
    }
  }

  Result<Reply> command(const Command& args) override {
    auto replies = pipeline({args});
    if (!replies) return replies.error();
    Reply reply = std::move(replies->front());
    if (reply.type == Reply::Type::kError) return make_error(ErrorCode::kInternal, "redis: " + reply.str);
    return reply;
  }

  Result<std::vector<Reply>> pipeline(const std::vector<Command>& commands) override {
    auto ctx = acquire();
    if (!ctx) return fail(ctx.error());
    redisContext* c = ctx->get();
    for (const auto& cmd : commands) append(c, cmd);
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    bool broken = false;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK) {
        broken = true;
        break;
      }
      std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw), freeReplyObject);
      replies.push_back(convert(reply.get()));
    }
    if (broken) {
      const std::string why = c->errstr;
      release(std::move(ctx).value(), false);
      return fail(make_error(ErrorCode::kUnavailable, "redis unavailable: " + why));
    }
    release(std::move(ctx).value(), true);
    if (ok_) ok_->Increment();
    return replies;
  }

 private:
  Error fail(Error e) {
    if (failed_) failed_->Increment();
    return e;
  }

  static void append(redisContext* c, const Command& cmd) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
  }

  Result<CtxPtr> acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(options_.timeout_ms * 2),
                      [this] { return !idle_.empty() || open_ < options_.pool_size; })) {
      return make_error(ErrorCode::kUnavailable, "redis pool exhausted");
    }
    if (!idle_.empty()) {
      CtxPtr ctx = std::move(idle_.front());
      idle_.pop_front();
      return ctx;
    }
    ++open_;
    lock.unlock();
    auto ctx = connect();
    if (!ctx) {
      lock.lock();
      --open_;
      cv_.notify_one();
    }
    return ctx;
  }

  void release(CtxPtr ctx, bool reusable) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (reusable && ctx->err == 0)
      idle_.push_front(std::move(ctx));
    else
      --open_;
    cv_.notify_one();
  }

  Result<CtxPtr> connect() {
    timeval tv{options_.timeout_ms / 1000, (options_.timeout_ms % 1000) * 1000};
    CtxPtr ctx(redisConnectWithTimeout(options_.endpoint.host.c_str(), options_.endpoint.port, tv));
    if (!ctx) return make_error(ErrorCode::kUnavailable, "redis unavailable: out of memory");
    if (ctx->err) return make_error(ErrorCode::kUnavailable, std::string("redis unavailable: ") + ctx->errstr);
    redisSetTimeout(ctx.get(), tv);
    redisEnableKeepAlive(ctx.get());
    std::vector<Command> setup;
    if (!options_.endpoint.password.empty()) {
      if (options_.endpoint.username.empty())
        setup.push_back({"AUTH", options_.endpoint.password});
      else
        setup.push_back({"AUTH", options_.endpoint.username, options_.endpoint.password});
    }
    if (options_.endpoint.db != 0) setup.push_back({"SELECT", std::to_string(options_.endpoint.db)});
    for (const auto& cmd : setup) {
      append(ctx.get(), cmd);
      void* raw = nullptr;
      if (redisGetReply(ctx.get(), &raw) != REDIS_OK) {
        return make_error(ErrorCode::kUnavailable, std::string("redis unavailable: ") + ctx->errstr);
      }
      std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw), freeReplyObject);
      if (reply->type == REDIS_REPLY_ERROR) {
        // The reply text is Redis's ("WRONGPASS ..."), it does not contain the password.
        return make_error(ErrorCode::kUnavailable,
                          "redis refused " + cmd[0] + ": " + std::string(reply->str, reply->len));
      }
    }
    return ctx;
  }

  RedisOptions options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<CtxPtr> idle_;
  int open_ = 0;
  prometheus::Counter* ok_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> make_redis_pool(const RedisOptions& options, prometheus::Registry* metrics) {
  return std::make_unique<RedisPool>(options, metrics);
}

}  // namespace sot::kv
