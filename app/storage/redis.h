// Why: Redis is reached only through this interface (commands as argument vectors, replies as
// plain values), so the cache, rate limiter and token store are testable against a fake and the
// hiredis adapter stays one file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace prometheus {
class Registry;
}

namespace sot::kv {

struct Reply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray, kError };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::kNil; }
};

using Command = std::vector<std::string>;

class Store {
 public:
  virtual ~Store() = default;
  [[nodiscard]] virtual Result<Reply> command(const Command& args) = 0;
  // Sends all commands in one round trip; replies come back in order. A Redis error reply for one
  // command is a Reply of type kError, not a failed Result.
  [[nodiscard]] virtual Result<std::vector<Reply>> pipeline(const std::vector<Command>& commands) = 0;
};

struct RedisOptions {
  RedisEndpoint endpoint;
  int pool_size = 16;
  int timeout_ms = 1000;
};

std::unique_ptr<Store> make_redis_pool(const RedisOptions& options, prometheus::Registry* metrics);

}  // namespace sot::kv
