#pragma once
// The one escape rule for every byte bnlab echoes to a terminal: errors,
// notes, tables, check's messages. A value from a file or an argument (an
// .npy dtype, a config key, an .npz member name, `--methods $'3\nX'`) may hold
// a newline, a NUL, a terminal escape or bytes that are not UTF-8; echoed raw
// it would split the one-line message, cut it short, drive the terminal or
// show as mojibake. bnlab::Error applies escape_control to its whole message,
// so every error is one line whatever it quotes; quoted() is for echoing a
// value deliberately. Escaping is idempotent: escaped text is kept as it is.
#include <cstddef>
#include <string>
#include <string_view>

namespace bnlab {

// Escaped, each byte as \xNN unless said otherwise:
//   - C0 control characters (\n \r \t \0 as C escapes) and DEL (0x7f);
//   - C1 control characters (U+0080..U+009F, the UTF-8 sequences C2 80..C2 9F),
//     which some terminals obey like C0's ESC (C2 9B is CSI);
//   - every byte that is not part of a valid UTF-8 sequence (a stray
//     continuation byte, a truncated, overlong or surrogate sequence).
// Every other byte, valid UTF-8 included ("é", "×"), is kept.
std::string escape_control(std::string_view text);

// "text" (or 'text' with quote '\'') with control characters escaped, cut to
// `max_length` bytes of the value, at a character boundary (then "..."
// follows the closing quote).
std::string quoted(std::string_view text, std::size_t max_length = 80, char quote = '"');

}  // namespace bnlab
