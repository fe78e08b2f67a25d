#include "usage.hpp"

#include <algorithm>

#include "bnlab/core/split.hpp"
#include "bnlab/engine/method.hpp"

namespace bnlab::app {
namespace {

std::string with_suggestion(const std::string& what, const std::string& word, const std::vector<std::string>& names,
                            const std::string& help) {
  const std::string near = nearest_name(word, names);
  return "unknown " + what + " '" + word + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?") + " (" + help +
         ")";
}

// Long option names of a subcommand: "--methods", ...
std::vector<std::string> option_names(const CLI::App& sub) {
  std::vector<std::string> names;
  for (const CLI::Option* option : sub.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  }
  return names;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

std::string methods_overview() {
  std::string out = "Methods (--methods; candidates answer the question, references are per-sample norms):\n";
  for (const MethodRow& row : method_table()) {
    std::string names = row.parametrized ? std::string(row.id) + ":G" : std::string(row.id);
    if (*row.aliases) names += std::string(", ") + row.aliases;
    names.resize(std::max<std::size_t>(names.size(), 6), ' ');
    out += "  " + names + "  " + row.title + (row.role == MethodRole::candidate ? "  [candidate]" : "  [reference]") + "\n";
  }
  std::string spellings;  // PyTorch's names, accepted too (the table's spellings): "batchnorm, batchnorm2d = 3; ..."
  for (const MethodRow& row : method_table()) {
    if (*row.spellings == '\0') continue;
    std::string names;
    for (const std::string& name : split_commas(row.spellings)) names += (names.empty() ? "" : ", ") + name + (row.parametrized ? ":G" : "");
    spellings += (spellings.empty() ? "" : "; ") + names + " = " + row.id + (row.parametrized ? ":G" : "");
  }
  if (!spellings.empty()) out += "  Also accepted, in any case:\n    " + spellings + "\n";
  return out;
}

std::string usage_error_line(CLI::App& app, const CLI::ParseError& error, int argc, char** argv) {
  std::vector<std::string> subcommands;
  for (const CLI::App* sub : app.get_subcommands({})) subcommands.push_back(sub->get_name());
  // The subcommand given, if any: the first argument that names one.
  CLI::App* chosen = nullptr;
  int first_word = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("-", 0) == 0) continue;
    if (!first_word) first_word = i;
    if (std::find(subcommands.begin(), subcommands.end(), arg) != subcommands.end()) {
      chosen = app.get_subcommand(arg);
      break;
    }
  }
  if (!chosen && first_word) return with_suggestion("subcommand", argv[first_word], subcommands, "bnlab --help lists them");
  if (chosen) {
    const std::vector<std::string> names = option_names(*chosen);
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0) continue;
      arg = arg.substr(0, arg.find('='));
      if (std::find(names.begin(), names.end(), arg) == names.end() && arg != "--help") {
        return with_suggestion("option", arg, names, "bnlab " + chosen->get_name() + " --help lists them");
      }
    }
    return one_line(error.what()) + " (bnlab " + chosen->get_name() + " --help)";
  }
  return one_line(error.what()) + " (bnlab --help)";
}

}  // namespace bnlab::app
