#pragma once
// `bnlab compare` from its options to its outputs: the config file and the
// options merged, the outputs checked before any work, then one tensor's
// report (or an .npz archive's per-layer report) handed to stdout,
// --output and --html through experiment/emit.hpp. apps/cmd_compare.cpp
// only wires the options into a CompareCommand and calls run_compare_command.
#include <optional>
#include <string>

#include "bnlab/report/compare_config.hpp"

namespace bnlab {

struct CompareCommand {
  std::string config_path;          // --config, or "" (the embedded default)
  CompareOverrides overrides;       // every option that is a config key
  std::optional<std::string> html;  // --html: also draw the report as a page (bnlab render)
  bool explain = false;             // --explain: the long table
  bool quiet = false;               // --quiet: no progress, notes or "wrote" lines
};

// Throws bnlab::Error (one line) for bad input, before any output is written.
void run_compare_command(const CompareCommand& command);

}  // namespace bnlab
