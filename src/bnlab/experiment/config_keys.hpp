#pragma once
// The keys of an experiment's config (compare, train) as rows: one row per
// key holds everything said about it (its name, its command-line option,
// what a value is, what it does, its default) and how a value is read, from
// the config file and from the option. The file parser, the command line's
// options and their help, the unknown-key error and the docs' key tables
// (checked by tests/test_readme.cpp) all read the rows, so a key is
// described in one place.
//
// Errors are one line naming the file and JSON pointer ("<file>: /eps: ...")
// or the option ("--eps: ...").
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/io/json_text.hpp"

namespace bnlab::experiment {

// What is said of a key.
struct KeyText {
  std::string name;          // the config file's key: "eps"
  std::string flag;          // its command-line option ("--eps"), or "" (config file only)
  std::string type;          // what a value is: "number in [0, 1]"
  std::string help;          // what it does: "added to the variance"
  std::string default_text;  // "1e-5"; "" when the default is no value (e.g. stdout)
};

// One value of a config file being read: the value, where it is (the file
// and the JSON pointer), and the failure that names them.
struct KeyValue {
  const nlohmann::ordered_json& value;
  const std::string& path;  // the config file, as the user named it
  std::string where;        // "/eps", "/methods/2"
  [[noreturn]] void fail(const std::string& what) const;
  std::string at() const { return path + ": " + where; }  // the prefix of an error about it
  KeyValue item(std::size_t i) const;                       // value[i], at where/i
  std::string shown() const;                                // the value as a message shows it
  std::string string() const;                               // else "expected a string, got ..."
};

// A key's row for a config type and its command-line overrides.
template <class Config, class Overrides>
struct ConfigKey {
  KeyText text;
  std::function<void(Config&, const KeyValue&)> from_file;
  // The option's text into the overrides (checked there, errors naming the
  // flag); empty when the key has no option.
  std::function<void(Overrides&, const std::string&)> from_option = {};
  // The option takes several words (--seeds 0 1 2), handed to from_option
  // joined by commas, as if typed 0,1,2.
  bool many_words = false;
};

// The help of a key's option: "<Help> (<type>)  [default: <default>]".
std::string option_help(const KeyText& key);

// The docs' table of the keys, one line per key:
//   | `name` | `--flag` | type | help (`default`) |
std::string markdown_key_table(const std::vector<KeyText>& keys);

// The error for a key no row names: "unknown key; did you mean "epochs"? (valid: a, b, ...)".
std::string unknown_key_message(const std::string& key, const std::vector<KeyText>& keys);

template <class Config, class Overrides>
std::vector<KeyText> key_texts(const std::vector<ConfigKey<Config, Overrides>>& keys) {
  std::vector<KeyText> texts;
  for (const auto& key : keys) texts.push_back(key.text);
  return texts;
}

// Reads a config file's root object into `config` through the rows, in the
// file's key order; an unknown key is one error naming the nearest valid one.
template <class Config, class Overrides>
void read_config_object(Config& config, const nlohmann::ordered_json& root, const std::string& path,
                        const std::vector<ConfigKey<Config, Overrides>>& keys) {
  if (!root.is_object()) KeyValue{root, path, "/"}.fail("expected an object, got " + KeyValue{root, path, "/"}.shown());
  for (const auto& item : root.items()) {
    const std::string& name = item.key();  // not a structured binding: clang 14 cannot capture one in a lambda
    std::string where("/");  // appended: GCC 12 misreads "/" + std::string as overlapping (-Wrestrict)
    where += pointer_token(name);  // RFC 6901
    const KeyValue value{item.value(), path, where};
    const ConfigKey<Config, Overrides>* row = nullptr;
    for (const auto& key : keys)
      if (key.text.name == name) row = &key;
    if (!row) value.fail(unknown_key_message(name, key_texts(keys)));
    row->from_file(config, value);
  }
}

}  // namespace bnlab::experiment
