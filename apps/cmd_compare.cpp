// bnlab compare: parse options, merge them over the config file, call
// bnlab::run_compare_result, print the JSON report or the table.
#include <iostream>
#include <functional>
#include <memory>

#include "bnlab/core/error.hpp"
#include "bnlab/core/memory_policy.hpp"
#include "bnlab/core/progress.hpp"
#include "bnlab/core/terminal_text.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/experiment/emit.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "bnlab/report/layers_table.hpp"
#include "bnlab/report/report_table.hpp"
#include "commands.hpp"
#include "key_options.hpp"
#include "output_options.hpp"
#include "bnlab/core/output_format.hpp"

namespace bnlab::app {

namespace {
struct CompareOptions {
  std::string config_path;
  std::optional<std::string> html;  // --html: also draw the report as a page (bnlab render)
  bool explain = false;             // --explain: the long table
  CompareOverrides overrides;
};
}  // namespace

void setup_compare(CLI::App& app) {
  auto options = std::make_shared<CompareOptions>();
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
    CompareConfig config = options->config_path.empty() ? CompareConfig{} : load_compare_config(options->config_path);
    apply_overrides(config, options->overrides);
    check_outputs(given({{"--output", config.output}, {"--html", options->html}}),  // before minutes of computation
                  given({{"--config", nonempty(options->config_path)}, {"--input", config.input}}));
    if (options->explain && config.format && *config.format == "json")
      throw Error("--explain: a table option, and the format asked for is json");
    const bool table = options->explain || table_on_stdout(config.format);
    // The report to --output and --html, and to stdout as JSON or as the table (experiment/emit.hpp).
    auto emit = [&](nlohmann::ordered_json report, std::function<std::string()> table_text) {
      experiment::emit({.report = std::move(report),
                        .table = table,
                        .table_text = std::move(table_text),
                        .output = config.output,
                        .html = options->html,
                        .page = [](const nlohmann::ordered_json& r) { return html::render_report_html(r); },
                        .own_files = {},
                        .quiet = quiet()});
    };
    if (compare_input_is_archive(config)) {  // an .npz: one block per layer, a summary across layers
      if (options->explain) {
        throw Error("--explain: the long table is one tensor's; an .npz input gives one row per layer (its JSON, "
                    "--output, holds every layer's blocks; --html draws each layer's figures)");
      }
      keep_freed_memory();  // each layer's probes allocate their tensors in turn
      const LayersResult layers = compare_layers(config);
      emit(to_json(layers), [&] { return format_layers_table(layers); });
      return;
    }
    check_layers_need_archive(config);
    CompareResult result;
    {
      Progress progress("compare", 1);  // + the steps compare() adds; on stderr, when it is a terminal and the run is slow
      // Once the input is in memory (its reading buffers went back to the
      // kernel at once), keep freed memory: the probes' few input-sized
      // tensors then reuse pages already mapped instead of faulting in new ones.
      result = run_compare_result(config, quiet() ? nullptr : &progress, keep_freed_memory);
    }
    emit(to_json(result),
         [&] { return format_compare_table(result, TableOptions{.explain = options->explain, .utf8_marks = locale_is_utf8()}); });
  });
}

}  // namespace bnlab::app
