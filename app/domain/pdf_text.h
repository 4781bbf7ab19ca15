// Why: call sheets come as PDFs; poppler-cpp (Debian's libpoppler-cpp) extracts their text. This is
// the only file that knows poppler. Poppler's cost is not bounded by the size of its input (a few
// KB can hold millions of glyphs), so the server never calls this itself: it runs in the
// stillontime-pdf-text helper under CPU and memory limits (service/pdf_sandbox.h).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace sot::domain {

// Stops with kUnprocessable once the text passes max_text_bytes.
[[nodiscard]] Result<std::string> pdf_to_text(std::string_view pdf_bytes, std::size_t max_text_bytes = 1024 * 1024);
bool looks_like_pdf(std::string_view bytes);

}  // namespace sot::domain
