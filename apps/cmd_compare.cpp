// bnlab compare: parse options, merge them over the config file, call
// bnlab::run_compare, print the JSON report or the table.
#include <iostream>
#include <memory>

#include "bnlab/io/atomic_file.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/core/memory_policy.hpp"
#include "bnlab/report/report_table.hpp"
#include "commands.hpp"
#include "number_options.hpp"

namespace bnlab::app {

namespace {
struct CompareOptions {
  std::string config_path;
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
      "by finite differences), invariance to spatial shifts and channel rescaling; then judge every\n"
      "property of DESIGN.md §2 per method. With no options: the embedded default (conv-like\n"
      "16x16x16x16, seed 0, methods 1,2,3), JSON report on stdout.");
  cmd->add_option("--methods", o.methods, "Comma-separated: 1, 2, 3 (or bn), ln, in, gn:G  [default: 1,2,3]");
  cmd->add_option("--input", o.input, "Your own (N,C,H,W) tensor as .npy (float32/float64), e.g. dumped with numpy.save");
  cmd->add_option("--layout", o.layout, "Layout of --input: NCHW or NHWC  [default: NCHW]");
  cmd->add_option("--shape", o.shape, "Synthesize N,C,H,W instead  [default: 16,16,16,16]");
  cmd->add_option("--dist", o.dist, "Synthetic distribution: normal, conv-like, offset  [default: conv-like]");
  add_seed_option(cmd, "--seed", [&o](std::uint64_t seed) { o.seed = seed; },
                  "Seed for the synthetic tensor and every seeded probe", "0");
  cmd->add_option("--config", options->config_path,
                  "JSON config holding any of these options (keys: methods, input, layout, shape, dist, seed,\n"
                  "eps, momentum, format, output, description); command-line options override it");
  add_number_option(cmd, "--eps", kEpsRange, [&o](double eps) { o.eps = eps; },
                    "Added to the variance", "1e-5");
  add_number_option(cmd, "--momentum", kMomentumRange, [&o](double momentum) { o.momentum = momentum; },
                    "Running-statistics momentum", "0.1");
  cmd->add_option("--format", o.format, "json (the report) or table (a summary for the terminal)  [default: json]");
  cmd->add_option("--output", o.output, "Also write the JSON report to this file (atomically)");
  cmd->footer(
      "\nExamples:\n"
      "  bnlab compare --methods 1,2,3 --format table\n"
      "  bnlab compare --config configs/small-batch.json\n"
      "  bnlab compare --input acts.npy --layout NHWC --methods 1,2,3,ln,in,gn:8 --output report.json\n"
      "  bnlab compare | jq '.verdict.summary'\n");
  cmd->callback([options] {
    CompareConfig config = options->config_path.empty() ? CompareConfig{} : load_compare_config(options->config_path);
    apply_overrides(config, options->overrides);
    keep_freed_memory();  // the probes allocate many input-sized tensors in turn
    nlohmann::ordered_json report = run_compare(config);
    std::string json = report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    if (config.output) write_file_atomically(*config.output, json);
    if (config.format == "table") std::cout << format_compare_table(report);
    else if (!config.output) std::cout << json;
    else std::cerr << "bnlab: wrote " << *config.output << "\n";
  });
}

}  // namespace bnlab::app
