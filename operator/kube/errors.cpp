#include "kube/errors.h"

#include <string>

#include "kube/json_fields.h"
#include "kube/text.h"

namespace sot::kube {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk:
      return "Ok";
    case Code::kNotFound:
      return "NotFound";
    case Code::kAlreadyExists:
      return "AlreadyExists";
    case Code::kConflict:
      return "Conflict";
    case Code::kInvalid:
      return "Invalid";
    case Code::kForbidden:
      return "Forbidden";
    case Code::kUnauthorized:
      return "Unauthorized";
    case Code::kGone:
      return "Gone";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kTimeout:
      return "Timeout";
    case Code::kCancelled:
      return "Cancelled";
    case Code::kTls:
      return "TLS";
    case Code::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Error::to_string() const {
  std::string out(code_name(code));
  if (http_status != 0) out += " (HTTP " + std::to_string(http_status) + ")";
  if (!message.empty()) out += ": " + message;
  return out;
}

Error make_error(Code code, std::string message, int http_status, std::string reason) {
  return Error{code, std::move(message), http_status, std::move(reason)};
}

namespace {

Code code_for(int http_status, std::string_view reason) {
  // The reason is more precise than the status where the two disagree.
  if (reason == "AlreadyExists") return Code::kAlreadyExists;
  if (reason == "Expired" || reason == "Gone") return Code::kGone;
  if (reason == "Conflict") return Code::kConflict;
  switch (http_status) {
    case 400:
      return Code::kInvalid;
    case 401:
      return Code::kUnauthorized;
    case 403:
      return Code::kForbidden;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 410:
      return Code::kGone;
    case 422:
      return Code::kInvalid;
    case 408:
    case 504:
      return Code::kTimeout;
    case 429:
    case 502:
    case 503:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

}  // namespace

Error error_from_status_object(const nlohmann::json& status) {
  // A Status is the server's word, but its fields are read as it sent them:
  // a code that is not a small integer reads as 0.
  const std::int64_t code = int_field(status, "code");
  const int http = code >= 0 && code <= 999 ? static_cast<int>(code) : 0;
  std::string reason = string_field(status, "reason");
  std::string message = string_field(status, "message");
  if (message.empty()) message = reason.empty() ? "request failed" : reason;
  return make_error(code_for(http, reason), std::move(message), http, std::move(reason));
}

Error error_from_response(int http_status, std::string_view body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (string_field(parsed, "kind") == "Status") {
    if (!parsed.contains("code")) parsed["code"] = http_status;
    Error e = error_from_status_object(parsed);
    e.http_status = http_status;
    e.code = code_for(http_status, e.reason);
    return e;
  }
  std::string text = truncate_utf8(body, 512, "");
  if (text.empty()) text = "HTTP " + std::to_string(http_status);
  return make_error(code_for(http_status, {}), std::move(text), http_status);
}

}  // namespace sot::kube
