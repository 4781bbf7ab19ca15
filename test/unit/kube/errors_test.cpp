#include "kube/errors.h"

#include <doctest/doctest.h>

#include "kube/text.h"

using namespace sot::kube;

TEST_CASE("HTTP statuses map to codes") {
  CHECK(error_from_response(404, "").code == Code::kNotFound);
  CHECK(error_from_response(403, "").code == Code::kForbidden);
  CHECK(error_from_response(401, "").code == Code::kUnauthorized);
  CHECK(error_from_response(409, "").code == Code::kConflict);
  CHECK(error_from_response(410, "").code == Code::kGone);
  CHECK(error_from_response(422, "").code == Code::kInvalid);
  CHECK(error_from_response(400, "").code == Code::kInvalid);
  CHECK(error_from_response(429, "").code == Code::kUnavailable);
  CHECK(error_from_response(503, "").code == Code::kUnavailable);
  CHECK(error_from_response(504, "").code == Code::kTimeout);
  CHECK(error_from_response(500, "").code == Code::kInternal);
}

TEST_CASE("a Status body gives the reason and the server's message") {
  const std::string body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" already exists","reason":"AlreadyExists","code":409})";
  Error e = error_from_response(409, body);
  CHECK(e.code == Code::kAlreadyExists);
  CHECK(e.message == "configmaps \"x\" already exists");
  CHECK(e.reason == "AlreadyExists");
  CHECK(e.http_status == 409);
  CHECK(e.to_string() == "AlreadyExists (HTTP 409): configmaps \"x\" already exists");

  Error conflict = error_from_response(
      409, R"({"kind":"Status","reason":"Conflict","message":"the object has been modified","code":409})");
  CHECK(conflict.code == Code::kConflict);

  Error expired = error_from_response(410, R"({"kind":"Status","reason":"Expired","message":"continue expired"})");
  CHECK(expired.code == Code::kGone);
  CHECK(expired.message == "continue expired");
}

TEST_CASE("a watch ERROR event maps through its Status") {
  auto e = error_from_status_object(nlohmann::json::parse(
      R"j({"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (50)"})j"));
  CHECK(e.code == Code::kGone);
  CHECK(e.http_status == 410);
}

TEST_CASE("a Status with fields of the wrong type still maps, never throws") {
  Error e;
  CHECK_NOTHROW(e = error_from_status_object(nlohmann::json::parse(R"({"code":"410","reason":5,"message":[]})")));
  CHECK(e.http_status == 0);
  CHECK(e.message == "request failed");
  CHECK_NOTHROW(e = error_from_status_object(nlohmann::json::parse(R"({"code":99999999999})")));
  CHECK(e.http_status == 0);
  CHECK_NOTHROW(e = error_from_response(404, R"({"kind":"Status","code":"x","reason":{}})"));
  CHECK(e.code == Code::kNotFound);
  CHECK_NOTHROW(e = error_from_response(500, R"({"kind":5})"));
}

TEST_CASE("a non-Status body is kept, shortened") {
  Error e = error_from_response(502, std::string(2000, 'x'));
  CHECK(e.code == Code::kUnavailable);
  CHECK(e.message.size() == 512);
}

// An answer that is not a Status (a proxy's HTML page) is kept to 512 bytes,
// cut on a character boundary: the message ends up in a status condition,
// which the API server (and nlohmann::json's dump()) refuse as invalid UTF-8.
TEST_CASE("a long non-Status body is cut on a character boundary") {
  std::string body = "x";
  while (body.size() < 2000) body += "\xe2\x82\xac";  // three bytes each
  Error e = error_from_response(502, body);
  CHECK(e.message.size() <= 512);
  CHECK(e.message.size() >= 510);
  CHECK_NOTHROW((void)nlohmann::json(e.message).dump());
  CHECK(tail_utf8(body, 1000).size() <= 1000);
  CHECK_NOTHROW((void)nlohmann::json(tail_utf8(body, 1000)).dump());
  CHECK(truncate_utf8("short", 10) == "short");
  CHECK(truncate_utf8("abcdefghij", 8) == "abcde...");
  CHECK(tail_utf8("abc", 2) == "bc");
}
