#pragma once
// What a terminal can show: whether the user's locale encodes text as UTF-8
// (so a table may use the marks ✓ and ✗, with "yes"/"NO" as the ASCII
// fallback), and how many columns a UTF-8 string takes (for aligning cells
// that hold such marks: a byte count would over-pad them).
#include <cstddef>
#include <string_view>

namespace bnlab {

// The locale's character set, as POSIX picks it: the first of LC_ALL,
// LC_CTYPE and LANG that is set and not empty; UTF-8 when it names "UTF-8"
// or "utf8" (any case), e.g. "C.UTF-8", "en_US.utf8". Unset: not UTF-8.
bool locale_is_utf8();

// The same decision for given values of the three variables (nullptr: unset).
bool locale_is_utf8(const char* lc_all, const char* lc_ctype, const char* lang);

// Columns taken by UTF-8 text whose characters are each one column wide
// (ASCII, ✓, ✗, ×): the number of bytes that do not continue a sequence.
std::size_t display_width(std::string_view text);

}  // namespace bnlab
