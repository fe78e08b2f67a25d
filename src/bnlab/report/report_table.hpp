#pragma once
// `bnlab compare --format table`: the report as an aligned plain-text table
// that fits an 80-column terminal: per method the key numbers, then per
// property whether it holds, then the verdict's summary, wrapped.
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab {

std::string format_compare_table(const nlohmann::ordered_json& report);

// Wraps text at `width` columns, each line starting with `indent`.
std::string wrap_text(const std::string& text, std::size_t width, const std::string& indent);

}  // namespace bnlab
