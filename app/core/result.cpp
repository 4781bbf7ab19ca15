// Why: one place maps error codes to HTTP statuses and stable machine-readable names, so every
// handler answers the same way for the same kind of failure.
#include "core/result.h"

namespace sot {

int http_status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kGone:
      return 410;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnprocessable:
      return 422;
    case ErrorCode::kTooManyRequests:
      return 429;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kBadGateway:
      return 502;
    case ErrorCode::kUnavailable:
      return 503;
  }
  return 500;
}

const char* error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid:
      return "bad_request";
    case ErrorCode::kUnauthenticated:
      return "unauthorized";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kGone:
      return "gone";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kUnprocessable:
      return "unprocessable_entity";
    case ErrorCode::kTooManyRequests:
      return "too_many_requests";
    case ErrorCode::kInternal:
      return "internal_error";
    case ErrorCode::kBadGateway:
      return "bad_gateway";
    case ErrorCode::kUnavailable:
      return "service_unavailable";
  }
  return "internal_error";
}

}  // namespace sot
