#include "bnlab/core/output_format.hpp"

#include <unistd.h>

#include <cctype>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"

namespace bnlab {

std::string parse_output_format(const std::string& text, const std::string& what) {
  std::string name = text;
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (name == "json" || name == "table") return name;
  if (name == "text") return "table";
  throw Error(what + ": unknown format " + quoted(text) + " (valid: json, table)");
}

bool table_on_stdout(const std::optional<std::string>& format) {
  return format ? *format == "table" : ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace bnlab
