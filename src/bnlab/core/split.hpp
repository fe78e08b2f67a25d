#pragma once
// Splitting command-line lists such as "1,2,3" or "16,16,16,16".
#include <string>
#include <vector>

namespace bnlab {

// The fields between commas, verbatim: "a,,b" -> {"a", "", "b"}; "" -> {""}.
// Callers validate each field (an empty one is an error message of theirs).
inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> fields;
  std::string::size_type start = 0;
  while (true) {
    const std::string::size_type comma = text.find(',', start);
    fields.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

// The same with spaces and tabs around each field removed: "0, 1" -> {"0", "1"}.
inline std::vector<std::string> split_commas_trimmed(const std::string& text) {
  std::vector<std::string> fields = split_commas(text);
  for (std::string& field : fields) {
    const std::string::size_type begin = field.find_first_not_of(" \t");
    field = begin == std::string::npos ? std::string() : field.substr(begin, field.find_last_not_of(" \t") - begin + 1);
  }
  return fields;
}

}  // namespace bnlab
