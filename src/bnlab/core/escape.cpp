#include "bnlab/core/escape.hpp"

#include <cstdio>

namespace bnlab {
namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xc0) == 0x80; }

// The length of the valid UTF-8 sequence starting at text[i], or 0 when the
// byte there starts none (RFC 3629: no overlong forms, no surrogates, at
// most U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the valid range of the second byte
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead == 0xe0) length = 3, lo = 0xa0;
  else if (lead == 0xed) length = 3, hi = 0x9f;  // not U+D800..U+DFFF
  else if (lead >= 0xe1 && lead <= 0xef) length = 3;
  else if (lead == 0xf0) length = 4, lo = 0x90;
  else if (lead == 0xf4) length = 4, hi = 0x8f;  // not above U+10FFFF
  else if (lead >= 0xf1 && lead <= 0xf3) length = 4;
  else return 0;
  if (i + length > text.size()) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!is_continuation(byte(k))) return 0;
  }
  return length;
}

void append_hex(std::string& out, unsigned char byte) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "\\x%02x", byte);
  out += hex;
}

}  // namespace

std::string escape_control(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const char ch = text[i];
    const auto byte = static_cast<unsigned char>(ch);
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 1 && byte >= 0x20 && byte != 0x7f) {
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\0') {
      out += "\\0";
    } else if (length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {  // C1
      append_hex(out, byte);
      append_hex(out, static_cast<unsigned char>(text[i + 1]));
    } else if (length > 1) {
      out.append(text.substr(i, length));
    } else {  // C0, DEL, or a byte of no valid sequence
      append_hex(out, byte);
      i += 1;
      continue;
    }
    i += length == 0 ? 1 : length;
  }
  return out;
}

std::string quoted(std::string_view text, std::size_t max_length, char quote) {
  const bool cut = text.size() > max_length;
  std::size_t end = cut ? max_length : text.size();
  if (cut) {  // not inside a character: cut before the one the cut would split
    std::size_t start = end;
    for (int back = 0; back < 3 && start > 0 && is_continuation(static_cast<unsigned char>(text[start])); ++back) --start;
    if (start < end && utf8_sequence_length(text, start) > end - start) end = start;
  }
  return quote + escape_control(text.substr(0, end)) + quote + (cut ? "..." : "");
}

}  // namespace bnlab
