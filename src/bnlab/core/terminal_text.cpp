#include "bnlab/core/terminal_text.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

namespace bnlab {

bool locale_is_utf8(const char* lc_all, const char* lc_ctype, const char* lang) {
  const char* chosen = nullptr;
  for (const char* value : {lc_all, lc_ctype, lang}) {
    if (value && *value) {
      chosen = value;
      break;
    }
  }
  if (!chosen) return false;
  std::string lower;
  for (const char* c = chosen; *c; ++c) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

bool locale_is_utf8() {
  return locale_is_utf8(std::getenv("LC_ALL"), std::getenv("LC_CTYPE"), std::getenv("LANG"));
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (const char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // 10xxxxxx continues a character
  return width;
}

}  // namespace bnlab
