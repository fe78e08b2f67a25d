#include "bnlab/core/escape.hpp"

#include <cstdio>

namespace bnlab {

std::string escape_control(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte >= 0x20 && byte != 0x7f) {
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\0') {
      out += "\\0";
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    }
  }
  return out;
}

std::string quoted(std::string_view text, std::size_t max_length, char quote) {
  const bool cut = text.size() > max_length;
  return quote + escape_control(cut ? text.substr(0, max_length) : text) + quote + (cut ? "..." : "");
}

}  // namespace bnlab
