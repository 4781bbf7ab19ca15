// Why: call-sheet import (text or PDF, as a raw body, a multipart form or JSON), read by the
// domain parser and deduplicated per user by the SHA-256 of the uploaded bytes.
#include "common/base64.h"
#include "common/digest.h"
#include "core/log.h"
#include "domain/call_sheet.h"
#include "domain/pdf_text.h"
#include "service/application.h"

namespace sot {
namespace {
// The first file part of a multipart/form-data body: (content type, bytes).
std::optional<std::pair<std::string, std::string>> first_multipart_file(std::string_view content_type,
                                                                        const std::string& body) {
  const auto b = content_type.find("boundary=");
  if (b == std::string_view::npos) return std::nullopt;
  std::string boundary(content_type.substr(b + 9));
  if (const auto semi = boundary.find(';'); semi != std::string::npos) boundary.resize(semi);
  if (boundary.size() >= 2 && boundary.front() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delimiter = "--" + boundary;
  std::size_t pos = body.find(delimiter);
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) break;
    const auto headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string::npos) break;
    const std::string headers = http::to_lower(body.substr(pos, headers_end - pos));
    const auto next = body.find("\r\n" + delimiter, headers_end + 4);
    if (next == std::string::npos) break;
    if (headers.find("filename=") != std::string::npos || headers.find("name=\"file\"") != std::string::npos ||
        headers.find("name=\"text\"") != std::string::npos) {
      std::string type = "text/plain";
      if (const auto ct = headers.find("content-type:"); ct != std::string::npos) {
        const auto end = headers.find("\r\n", ct);
        type = headers.substr(ct + 13, end == std::string::npos ? std::string::npos : end - ct - 13);
        while (!type.empty() && type.front() == ' ') type.erase(type.begin());
      }
      return std::make_pair(type, body.substr(headers_end + 4, next - headers_end - 4));
    }
    pos = next + 2;
  }
  return std::nullopt;
}

nlohmann::json sheet_to_schedule(const domain::CallSheet& sheet) {
  nlohmann::json contacts = nlohmann::json::array();
  for (const auto& c : sheet.contacts) contacts.push_back(domain::to_json(c));
  return {{"shootingDate", domain::format_date(*sheet.shooting_date)},
          {"callTime", domain::format_hhmm(*sheet.call_time)},
          {"title", sheet.title},
          {"location", sheet.location},
          {"baseLocation", sheet.base_location},
          {"sceneType", sheet.scene_type},
          {"scenes", sheet.scenes},
          {"equipment", sheet.equipment},
          {"contacts", contacts},
          {"safetyNotes", sheet.safety_notes},
          {"notes", sheet.notes}};
}

}  // namespace

Result<http::Response> Application::schedules_import(RequestContext& ctx) {
  const std::string content_type = http::to_lower(ctx.request.header("content-type"));
  std::string document;
  bool pdf = false;
  if (content_type.rfind("application/pdf", 0) == 0) {
    document = ctx.request.body;
    pdf = true;
  } else if (content_type.rfind("text/plain", 0) == 0) {
    document = ctx.request.body;
  } else if (content_type.rfind("multipart/form-data", 0) == 0) {
    auto part = first_multipart_file(ctx.request.header("content-type"), ctx.request.body);
    if (!part) return make_error(ErrorCode::kInvalid, "the form has no file part");
    document = std::move(part->second);
    pdf = part->first.rfind("application/pdf", 0) == 0 || domain::looks_like_pdf(document);
  } else if (content_type.find("json") != std::string::npos) {
    auto body = parse_json_body(ctx.request, deps_.config.max_body_bytes);  // may carry a whole PDF
    if (!body) return body.error();
    if (body->contains("text") && (*body)["text"].is_string()) {
      document = (*body)["text"];
    } else if (body->contains("pdfBase64") && (*body)["pdfBase64"].is_string()) {
      auto decoded = common::base64_decode((*body)["pdfBase64"].get<std::string>());
      if (!decoded) return make_error(ErrorCode::kInvalid, "pdfBase64 is not valid base64");
      document = std::move(*decoded);
      pdf = true;
    } else {
      return make_error(ErrorCode::kInvalid, "give the call sheet as {\"text\": ...} or {\"pdfBase64\": ...}");
    }
  } else {
    return make_error(ErrorCode::kInvalid,
                      "send the call sheet as application/pdf, text/plain, multipart/form-data or JSON");
  }
  if (document.empty()) return make_error(ErrorCode::kInvalid, "the call sheet is empty");
  if (!pdf && !valid_utf8(document)) {
    return make_error(ErrorCode::kInvalid, "the call sheet text must be UTF-8 without NUL characters");
  }
  const std::string hash = common::sha256_hex(document);
  const std::string source = pdf ? "pdf" : "text";

  auto duplicate_response = [&](const std::string& id) -> Result<http::Response> {
    deps_.metrics.schedule_imported("duplicate");
    auto schedule = load_schedule(ctx.user_id(), id);
    if (!schedule) return schedule.error();
    return json_response(200, {{"duplicate", true}, {"schedule", *schedule}, {"contentHash", hash}});
  };
  auto existing = schedules_.find_imported(ctx.user_id(), hash);
  if (!existing) {
    deps_.metrics.schedule_imported("error");
    return existing.error();
  }
  if (*existing) return duplicate_response(**existing);

  std::string text = document;
  if (pdf) {
    if (!domain::looks_like_pdf(document)) {
      deps_.metrics.schedule_imported("invalid");
      return make_error(ErrorCode::kUnprocessable, "the document is not a PDF");
    }
    auto extracted = deps_.pdf.extract(document);
    if (!extracted) {
      const ErrorCode code = extracted.error().code;
      deps_.metrics.pdf_extraction(code == ErrorCode::kUnprocessable ? "refused"
                                   : code == ErrorCode::kUnavailable ? "busy"
                                                                     : "error");
      deps_.metrics.schedule_imported(code == ErrorCode::kUnprocessable ? "invalid" : "error");
      if (code != ErrorCode::kUnprocessable) {
        log::warn("PDF extraction failed", {{"requestId", ctx.request_id}, {"error", extracted.error().message}});
      }
      return extracted.error();
    }
    deps_.metrics.pdf_extraction("ok");
    text = std::move(extracted).value();
  }
  const auto parsed = domain::parse_call_sheet(text);
  if (!parsed.missing.empty()) {
    deps_.metrics.schedule_imported("invalid");
    std::string list;
    for (const auto& m : parsed.missing) list += (list.empty() ? "" : ", ") + m;
    return json_response(422, {{"error", "unprocessable_entity"},
                               {"message", "the call sheet lacks required fields: " + list},
                               {"missing", parsed.missing},
                               {"requestId", ctx.request_id}});
  }
  const nlohmann::json schedule = sheet_to_schedule(parsed.sheet);
  auto created_id = schedules_.create_imported(ctx.user_id(), schedule, source, hash);
  if (!created_id) {
    deps_.metrics.schedule_imported("error");
    return created_id.error();
  }
  if (!*created_id) {  // the same document was imported meanwhile: answer with that schedule
    auto again = schedules_.find_imported(ctx.user_id(), hash);
    if (again && *again) return duplicate_response(**again);
    deps_.metrics.schedule_imported("error");
    return make_error(ErrorCode::kConflict, "imported concurrently");
  }
  const std::string new_id = std::move(**created_id);
  deps_.metrics.schedule_imported("success");
  invalidate_cache(ctx.user_id());
  auto created = load_schedule(ctx.user_id(), new_id);
  if (!created) return created.error();
  log::info("call sheet imported", {{"requestId", ctx.request_id}, {"scheduleId", new_id}, {"source", source}});
  auto r = json_response(201, {{"duplicate", false}, {"schedule", *created}, {"contentHash", hash}});
  r.headers.emplace_back("location", "/api/schedules/" + new_id);
  return r;
}

}  // namespace sot
