#pragma once
// `bnlab compare --format table` (the default on a terminal): the result as
// aligned plain text within kTableWidth columns, whatever the number of
// methods (columns sized to their content; methods that do not fit continue
// in another block). The verdict first, then by default one line per judged
// property in plain words: a mark (holds or not) and the judged value, and a
// two-line legend. With `explain` (compare --explain) the numbers behind it:
// axes and counts; output statistics (not judged, at the configured eps);
// each property's judged value with its criterion and yes/NO; a legend line
// per property.
#include <cstddef>
#include <string>

#include "bnlab/report/compare.hpp"

namespace bnlab {

inline constexpr std::size_t kTableWidth = 100;

struct TableOptions {
  bool explain = false;     // the long table (compare --explain)
  bool utf8_marks = false;  // ✓/✗ for holds/does not (a UTF-8 terminal); false: yes/NO
};

std::string format_compare_table(const CompareResult& result, const TableOptions& options = {});

// Wraps text at `width` columns, the first line starting with `first`, the
// others with `indent`.
std::string wrap_text(const std::string& text, std::size_t width, const std::string& indent,
                      const std::string& first = "");

}  // namespace bnlab
