#pragma once
// `bnlab compare --format table` (the default on a terminal): the result as
// aligned plain text within kTableWidth columns, whatever the number of
// methods (columns sized to their content; methods that do not fit continue
// in another block). Sections: axes and counts; output statistics (not
// judged, at the configured eps); each property's judged value with its
// criterion and yes/NO; a legend (one plain line per property); the verdict.
#include <cstddef>
#include <string>

#include "bnlab/report/compare.hpp"

namespace bnlab {

inline constexpr std::size_t kTableWidth = 100;

std::string format_compare_table(const CompareResult& result);

// Wraps text at `width` columns, the first line starting with `first`, the
// others with `indent`.
std::string wrap_text(const std::string& text, std::size_t width, const std::string& indent,
                      const std::string& first = "");

}  // namespace bnlab
