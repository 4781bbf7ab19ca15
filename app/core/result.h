// Why: expected failures (not found, invalid input, a dependency that is down) are values that
// callers must look at, as Abseil's StatusOr does; exceptions from third-party libraries are
// caught in the adapters and turned into these values, so they never cross a module boundary.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sot {

enum class ErrorCode {
  kInvalid,          // 400: the request is malformed
  kUnauthenticated,  // 401
  kForbidden,        // 403
  kNotFound,         // 404
  kConflict,         // 409
  kGone,             // 410
  kPayloadTooLarge,  // 413
  kUnprocessable,    // 422: well-formed but the content lacks what we need
  kTooManyRequests,  // 429
  kInternal,         // 500
  kBadGateway,       // 502: an upstream (OAuth, weather, maps) answered wrongly
  kUnavailable,      // 503: a dependency (Postgres, Redis) is not reachable
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

int http_status_for(ErrorCode code);
const char* error_name(ErrorCode code);

struct Ok {};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : value_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(value_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(value_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(value_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(value_);
  }

 private:
  std::variant<T, Error> value_;
};

using Status = Result<Ok>;

inline Status ok_status() {
  return Ok{};
}
inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace sot
