#pragma once
// JSON values and paths as they appear in messages: error lines (config
// files, CLI values) and report differences (bnlab check) write them the same way.
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab {

// An object key as one RFC 6901 JSON-pointer token: "~" -> "~0", "/" -> "~1".
std::string json_pointer_token(const std::string& key);

// A number as a user reads it: the shortest form that round-trips
// (0.1, 1e-05), and nan, inf, -inf, which JSON cannot hold.
std::string number_text(double value);

// A value in a message: compact JSON on one line (numbers by number_text),
// cut to kPreviewChars characters ending in "...".
inline constexpr std::size_t kPreviewChars = 60;
std::string cut_preview(std::string text);
template <class Json>
std::string json_preview(const Json& value) {
  if (value.is_number_float()) return number_text(value.template get<double>());
  return cut_preview(value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace bnlab
