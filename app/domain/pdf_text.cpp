// Why: see pdf_text.h. Poppler reports problems on stderr and through null pointers; both are
// turned into a 422 value, and its stderr chatter is silenced.
#include "domain/pdf_text.h"

#include <memory>
#include <mutex>
#include <vector>

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

namespace sot::domain {

bool looks_like_pdf(std::string_view bytes) {
  return bytes.substr(0, 5) == "%PDF-";
}

Result<std::string> pdf_to_text(std::string_view pdf_bytes, std::size_t max_text_bytes) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
  if (!looks_like_pdf(pdf_bytes)) return make_error(ErrorCode::kUnprocessable, "the document is not a PDF");
  std::vector<char> data(pdf_bytes.begin(), pdf_bytes.end());
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(data.data(), static_cast<int>(data.size())));
  if (!doc) return make_error(ErrorCode::kUnprocessable, "the PDF could not be read");
  if (doc->is_locked()) return make_error(ErrorCode::kUnprocessable, "the PDF is password-protected");
  std::string text;
  const int pages = doc->pages();
  if (pages > 200) return make_error(ErrorCode::kUnprocessable, "the PDF has too many pages for a call sheet");
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const auto bytes = page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
    for (char c : bytes) {
      if (c != '\0') text.push_back(c);  // PostgreSQL text cannot hold NUL
    }
    text.push_back('\n');
    if (text.size() > max_text_bytes) {
      return make_error(ErrorCode::kUnprocessable, "the PDF holds more than " + std::to_string(max_text_bytes / 1024) +
                                                       " KiB of text, too much for a call sheet");
    }
  }
  if (text.find_first_not_of(" \n\r\t\f") == std::string::npos) {
    return make_error(ErrorCode::kUnprocessable, "the PDF contains no extractable text (scanned image?)");
  }
  return text;
}

}  // namespace sot::domain
