// PDF call sheets (app/domain/pdf_text, poppler-cpp): an uploaded file goes
// through looks_like_pdf(), then poppler, then the call-sheet parser. Any
// bytes must end in text or an error value. Findings inside poppler itself
// are Debian's library, not ours; they are reported, not fixed here.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/call_sheet.h"
#include "domain/pdf_text.h"

using namespace sot::domain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!looks_like_pdf(bytes)) return 0;
  auto text = pdf_to_text(bytes);
  if (text.ok()) (void)parse_call_sheet(*text);
  return 0;
}
