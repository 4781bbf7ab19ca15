#include "runtime/logger.h"

#include <algorithm>
#include <iostream>

#include "runtime/clock.h"

namespace sot::runtime {

bool looks_like_credential(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"password", "token", "secret", "credential", "apikey", "api_key", "authorization"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  return false;
}

namespace {

void put(nlohmann::json& line, const std::string& key, const nlohmann::json& value) {
  line[key] = looks_like_credential(key) ? nlohmann::json("<redacted>") : value;
}

}  // namespace

kube::Result<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return kube::make_error(kube::Code::kInvalid,
                          "--log-level: \"" + std::string(text) + "\" is not one of debug, info, warn, error");
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

StreamLogSink::StreamLogSink(std::ostream& out) : out_(out) {}

void StreamLogSink::write(std::string_view line) {
  std::lock_guard lock(mu_);
  out_ << line << '\n';
  out_.flush();
}

Logger::Logger() : Logger(std::make_shared<StreamLogSink>(std::cerr), LogLevel::kInfo) {}

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel level) : sink_(std::move(sink)), level_(level) {}

Logger Logger::with(const std::string& key, nlohmann::json value) const {
  Logger copy = *this;
  put(copy.fields_, key, value);
  return copy;
}

void Logger::log(LogLevel level, std::string_view msg, const nlohmann::json& extra) const {
  if (!enabled(level) || !sink_) return;
  nlohmann::json line = nlohmann::json::object();
  line["time"] = format_micro_time(std::chrono::system_clock::now());
  line["level"] = log_level_name(level);
  line["msg"] = msg;
  for (const auto& [k, v] : fields_.items()) line[k] = v;
  if (extra.is_object()) {
    for (const auto& [k, v] : extra.items()) put(line, k, v);
  }
  sink_->write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace sot::runtime
