#include "bnlab/experiment/config_keys.hpp"

#include <cctype>

#include "bnlab/core/error.hpp"
#include "bnlab/core/nearest_name.hpp"
#include "bnlab/io/json_text.hpp"

namespace bnlab::experiment {

void KeyValue::fail(const std::string& what) const { throw Error(at() + ": " + what); }

KeyValue KeyValue::item(std::size_t i) const { return KeyValue{value[i], path, where + "/" + std::to_string(i)}; }

std::string KeyValue::shown() const { return json_preview(value); }

std::string KeyValue::string() const {
  if (!value.is_string()) fail("expected a string, got " + shown());
  return value.get<std::string>();
}

std::string option_help(const KeyText& key) {
  std::string help = key.help + " (" + key.type + ")";
  if (!help.empty()) help[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(help[0])));
  if (!key.default_text.empty()) help += "  [default: " + key.default_text + "]";
  return help;
}

std::string markdown_key_table(const std::vector<KeyText>& keys) {
  std::string table = "| key | option | value | meaning (default) |\n|---|---|---|---|\n";
  for (const KeyText& key : keys) {
    table += "| `" + key.name + "` | " + (key.flag.empty() ? "" : "`" + key.flag + "`") + " | " + key.type + " | " +
             key.help + (key.default_text.empty() ? "" : " (`" + key.default_text + "`)") + " |\n";
  }
  return table;
}

std::string unknown_key_message(const std::string& key, const std::vector<KeyText>& keys) {
  std::vector<std::string> names;
  std::string valid;
  for (const KeyText& k : keys) {
    names.push_back(k.name);
    valid += (valid.empty() ? "" : ", ") + k.name;
  }
  const std::string nearest = nearest_name(key, names);
  return "unknown key" + (nearest.empty() ? "" : "; did you mean \"" + nearest + "\"?") + " (valid: " + valid + ")";
}

}  // namespace bnlab::experiment
