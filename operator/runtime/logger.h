// Structured logs as JSON lines, one object per line, in the shape
// controller-runtime's zap logger writes ({"time","level","msg","controller",
// "namespace","name","reconcileID", ...}) so log pipelines parse both alike.
// A Logger is a cheap value: with() returns a copy carrying more fields.
// Field names that look like credentials have their values redacted, a last
// guard for "no secret values ever" in logs.
#pragma once

#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace sot::runtime {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn"/"warning", "error" (case-sensitive, as the flag is documented).
kube::Result<LogLevel> parse_log_level(std::string_view text);
// True for field names whose values are redacted ("password", "token",
// "secret", "credential", "apikey", "api_key", "authorization", any case).
bool looks_like_credential(std::string_view key);
std::string_view log_level_name(LogLevel level);

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view line) = 0;  // one complete line, no newline
};

// Writes to a stream (stderr by default) under a mutex so lines never interleave.
class StreamLogSink final : public LogSink {
 public:
  explicit StreamLogSink(std::ostream& out);
  void write(std::string_view line) override;

 private:
  std::mutex mu_;
  std::ostream& out_;
};

class Logger {
 public:
  Logger();  // info level to stderr
  Logger(std::shared_ptr<LogSink> sink, LogLevel level);

  [[nodiscard]] Logger with(const std::string& key, nlohmann::json value) const;
  bool enabled(LogLevel level) const { return level >= level_; }
  LogLevel level() const { return level_; }

  void log(LogLevel level, std::string_view msg, const nlohmann::json& extra = nlohmann::json::object()) const;
  void debug(std::string_view msg, const nlohmann::json& extra = nlohmann::json::object()) const {
    log(LogLevel::kDebug, msg, extra);
  }
  void info(std::string_view msg, const nlohmann::json& extra = nlohmann::json::object()) const {
    log(LogLevel::kInfo, msg, extra);
  }
  void warn(std::string_view msg, const nlohmann::json& extra = nlohmann::json::object()) const {
    log(LogLevel::kWarn, msg, extra);
  }
  void error(std::string_view msg, const nlohmann::json& extra = nlohmann::json::object()) const {
    log(LogLevel::kError, msg, extra);
  }

 private:
  std::shared_ptr<LogSink> sink_;
  LogLevel level_ = LogLevel::kInfo;
  nlohmann::json fields_ = nlohmann::json::object();
};

}  // namespace sot::runtime
