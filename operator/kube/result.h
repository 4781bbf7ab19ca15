// Expected failures are values, not exceptions. Every call that talks to the API
// server returns a Result<T>: either the value or an Error with a code the caller
// can branch on (NotFound, Conflict, Gone, ...) and the server's own message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sot::kube {

enum class Code {
  kOk,
  kNotFound,
  kAlreadyExists,
  kConflict,
  kInvalid,
  kForbidden,
  kUnauthorized,
  kGone,
  kUnavailable,
  kTimeout,
  kCancelled,
  kTls,
  kInternal,
};

std::string_view code_name(Code code);

struct [[nodiscard]] Error {
  Code code = Code::kInternal;
  std::string message;
  int http_status = 0;  // 0 when the request never got an HTTP answer
  std::string reason;   // the API server's Status.reason, when it sent one

  std::string to_string() const;
};

Error make_error(Code code, std::string message, int http_status = 0, std::string reason = {});

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(data_); }
  Code code() const { return ok() ? Code::kOk : error().code; }

 private:
  std::variant<T, Error> data_;
};

// Result<void>: success or an Error.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() {
  return Unit{};
}

}  // namespace sot::kube
