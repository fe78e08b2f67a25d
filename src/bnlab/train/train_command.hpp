#pragma once
// `bnlab train` from its options to its outputs: the config file and the
// options merged, the outputs checked before minutes of training, the
// experiment run with its progress lines, the result handed to stdout,
// --output and --html (experiment/emit.hpp). apps/cmd_train.cpp only wires
// the options and passes the page renderer.
#include <optional>
#include <string>

#include "bnlab/experiment/emit.hpp"
#include "bnlab/train/train_config.hpp"

namespace bnlab::train {

struct TrainCommand {
  std::string config_path;          // --config, or "" (configs/train/default.json's values, embedded)
  TrainOverrides overrides;         // every option that is a config key
  std::optional<std::string> html;  // --html: also draw the result as a page
  bool quiet = false;               // --quiet: no progress lines or "wrote" lines
};

// Throws bnlab::Error (one line) for bad input, before any output is written.
void run_train_command(const TrainCommand& command, const experiment::PageRenderer& page);

}  // namespace bnlab::train
