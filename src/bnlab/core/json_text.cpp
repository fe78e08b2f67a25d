// JSON values and paths in messages (json_text.hpp).
#include "bnlab/core/json_text.hpp"

#include <cmath>

namespace bnlab {

std::string json_pointer_token(const std::string& key) {
  std::string out;
  for (char ch : key) {
    if (ch == '~') out += "~0";
    else if (ch == '/') out += "~1";
    else out += ch;
  }
  return out;
}

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return nlohmann::json(value).dump();  // shortest round-trip form
}

std::string cut_preview(std::string text) {
  if (text.size() > kPreviewChars) text = text.substr(0, kPreviewChars - 3) + "...";
  return text;
}

}  // namespace bnlab
