#pragma once
// A subcommand's config keys as its command-line options: one option per row
// of the config's keys (bnlab/experiment/config_keys.hpp) that has a flag,
// with the row's help; the option's text goes through the row into the
// overrides, which apply_overrides merges over the config file.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bnlab/experiment/config_keys.hpp"

namespace bnlab::app {

template <class Config, class Overrides>
void add_key_options(CLI::App* cmd, const std::vector<experiment::ConfigKey<Config, Overrides>>& keys,
                     Overrides& overrides) {
  for (const auto& key : keys) {
    if (key.text.flag.empty()) continue;
    const auto* row = &key;  // the rows live as long as the program
    if (!key.many_words) {
      cmd->add_option_function<std::string>(
          key.text.flag, [row, &overrides](const std::string& text) { row->from_option(overrides, text); },
          experiment::option_help(key.text));
      continue;
    }
    cmd->add_option_function<std::vector<std::string>>(
        key.text.flag,
        [row, &overrides](const std::vector<std::string>& words) {
          std::string joined;
          for (const std::string& word : words) joined += (joined.empty() ? "" : ",") + word;
          row->from_option(overrides, joined);
        },
        experiment::option_help(key.text));
  }
}

// "methods, input, ...": every key a config file may hold, for --config's help.
template <class Config, class Overrides>
std::string key_names(const std::vector<experiment::ConfigKey<Config, Overrides>>& keys) {
  std::string names;
  for (const auto& key : keys) names += (names.empty() ? "" : ", ") + key.text.name;
  return names;
}

}  // namespace bnlab::app
