#include "bnlab/train/train_method.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/split.hpp"

namespace bnlab::train {
namespace {

std::string trimmed_lower(const std::string& text) {
  std::size_t first = 0, last = text.size();
  while (first < last && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  while (last > first && std::isspace(static_cast<unsigned char>(text[last - 1]))) --last;
  std::string out = text.substr(first, last - first);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

bool names_baseline(const std::string& text) {
  const std::string t = trimmed_lower(text);
  return t == kNoNormId || t == "no" || t == "identity";
}

}  // namespace

TrainMethod parse_train_method(const std::string& text, const std::string& what) {
  if (names_baseline(text)) {
    return TrainMethod{kNoNormId, "no normalization (per-channel scale and bias, as a conv bias)", kNoNormId,
                       kNoNormId, std::nullopt};
  }
  const Method m = parse_method(text, what);
  return TrainMethod{m.id, m.title, m.name, m.column, m};
}

std::vector<TrainMethod> parse_train_method_list(const std::string& text, const std::string& what) {
  std::vector<TrainMethod> out;
  std::set<std::string> seen;
  for (const std::string& item : split_commas(text)) {
    if (trimmed_lower(item).empty()) {
      throw Error(what + ": empty method name in " + quoted(text) + " (valid: " +
                  valid_train_method_names() + ")");
    }
    TrainMethod m = parse_train_method(item, what);
    if (!seen.insert(m.id).second) throw Error(what + ": method " + m.id + " is listed twice");
    out.push_back(std::move(m));
  }
  return out;
}

std::string valid_train_method_names() { return std::string(kNoNormId) + ", " + valid_method_names(); }

}  // namespace bnlab::train
