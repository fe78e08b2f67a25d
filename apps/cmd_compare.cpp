// bnlab compare: its options (the config keys' rows, --config, --explain,
// --html, --quiet) into a CompareCommand, then run_compare_command.
#include <memory>

#include "bnlab/report/compare_command.hpp"
#include "commands.hpp"
#include "key_options.hpp"
#include "output_options.hpp"

namespace bnlab::app {


void setup_compare(CLI::App& app) {
  auto options = std::make_shared<CompareCommand>();
  CompareOverrides& o = options->overrides;
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Measure every method on one tensor and judge the properties: the main experiment\n"
      "Apply each method to one tensor and measure what it does: output statistics, gradients (checked\n"
      "by finite differences), invariance to spatial shifts and channel rescaling, what happens to\n"
      "differences between samples; then judge every property (docs/properties.md) per method.\n"
      "With no options: the embedded default (conv-like 16x16x16x16, seed 0, methods 1,2,3); a table\n"
      "on a terminal, the JSON report when stdout is a pipe or a file.");
  add_key_options(cmd, compare_keys(), o);  // one option per config key with a flag (compare_config.cpp)
  cmd->add_option("--config", options->config_path,
                  "JSON config holding any of the keys " + key_names(compare_keys()) +
                      "; command-line options override it");
  cmd->add_flag("--explain", options->explain,
                "The long table: axes and counts, output statistics, every property with its criterion, a\n"
                "legend line per property (implies --format table)");
  cmd->add_option("--html", options->html,
                  "Also draw the report as one self-contained HTML page (figures, verdict table; see bnlab render)");
  cmd->footer(
      "\nExamples:\n"
      "  bnlab compare --methods 1,2,3\n"
      "  bnlab compare --explain                                     # the criteria and the numbers behind the verdict\n"
      "  bnlab compare --config configs/small-batch.json --format table\n"
      "  bnlab compare --input acts.npy --layout NHWC --methods 1,2,3,ln,in,gn:8 --output report.json\n"
      "  bnlab compare --html report.html                            # open report.html in a browser\n"
      "  bnlab compare --input resnet18_acts.npz --format table       # every 4-d array, one row per layer\n"
      "  bnlab compare | jq '.verdict.summary'\n");
  add_quiet_flag(cmd);
  cmd->callback([options] {
    options->quiet = quiet();
    run_compare_command(*options);
  });
}

}  // namespace bnlab::app
