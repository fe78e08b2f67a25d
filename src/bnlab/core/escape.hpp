#pragma once
// The one escape function for values echoed in messages. A value from a file
// or an argument (an .npy dtype, a config key, `--methods $'3\nX'`) may hold a
// newline, a NUL or a terminal escape; echoed raw it would split the one-line
// error, cut it short or drive the terminal. bnlab::Error applies
// escape_control to its whole message, so every error is one line whatever it
// quotes; quoted() is for echoing a value deliberately.
#include <cstddef>
#include <string>
#include <string_view>

namespace bnlab {

// Control characters as C escapes: \n \r \t \0, others (and DEL) as \xNN.
// Every other byte, UTF-8 included, is kept.
std::string escape_control(std::string_view text);

// "text" (or 'text' with quote '\'') with control characters escaped, cut to
// `max_length` bytes of the value (then "..." follows the closing quote).
std::string quoted(std::string_view text, std::size_t max_length = 80, char quote = '"');

}  // namespace bnlab
