#pragma once
// What the subcommands share about their outputs and their words on stderr:
// the files named for the pre-flight check (io/output_check.hpp), the
// "bnlab: wrote PATH" lines, and --quiet.
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "bnlab/core/escape.hpp"
#include "bnlab/experiment/emit.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/output_check.hpp"

namespace bnlab::app {

// True once a subcommand's --quiet was given.
inline bool& quiet_flag() {
  static bool quiet = false;
  return quiet;
}
inline bool quiet() { return quiet_flag(); }

// --quiet: no progress, notes or "wrote" lines on stderr; errors are still
// printed (one line each) and stdout is unchanged.
inline CLI::Option* add_quiet_flag(CLI::App* cmd) {
  return cmd->add_flag_callback(
      "--quiet",
      [] {
        quiet_flag() = true;
        set_note_sink(nullptr);
      },
      "No progress, notes or \"wrote\" lines on stderr (errors are still printed)");
}

// "bnlab: wrote PATH" on stderr (experiment/emit.hpp), unless --quiet.
inline void report_written(const std::string& path) { experiment::report_written(path, quiet()); }

}  // namespace bnlab::app
