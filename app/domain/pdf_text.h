// Why: call sheets come as PDFs; poppler-cpp (Debian's libpoppler-cpp) extracts their text. This is
// the only file that knows poppler.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace sot::domain {

[[nodiscard]] Result<std::string> pdf_to_text(std::string_view pdf_bytes);
bool looks_like_pdf(std::string_view bytes);

}  // namespace sot::domain
