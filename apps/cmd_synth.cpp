// bnlab synth: parse options, synthesize a tensor, write it as .npy, print what was written.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "bnlab/io/npy.hpp"
#include "bnlab/synth/synth.hpp"
#include "commands.hpp"
#include "number_options.hpp"
#include "output_options.hpp"

namespace bnlab::app {

namespace {
struct SynthOptions {
  std::string shape = "16,16,16,16";
  std::string dist = "conv-like";
  std::uint64_t seed = 0;
  std::string output;
  std::string layout = "NCHW";
};
}  // namespace

void setup_synth(CLI::App& app) {
  auto options = std::make_shared<SynthOptions>();
  CLI::App* cmd = app.add_subcommand(
      "synth",
      "Write a synthesized float32 (N, C, H, W) tensor as .npy\n"
      "The same shape, distribution and seed give the same bytes on every machine.");
  cmd->add_option("--shape", options->shape, "N,C,H,W")->capture_default_str();
  std::string dist_help;  // one line per distribution, from the library's descriptions
  for (Distribution dist : kDistributions) {
    if (!dist_help.empty()) dist_help += "\n";
    dist_help += to_string(dist);
    dist_help += ": ";
    dist_help += describe(dist);
  }
  cmd->add_option("--dist", options->dist, dist_help)->capture_default_str();
  add_seed_option(cmd, "--seed", [options](std::uint64_t seed) { options->seed = seed; },
                  "Seed of the generator (mt19937_64)", "0");
  cmd->add_option("--output", options->output, "Output .npy path (written atomically)")->required();
  cmd->add_option("--layout", options->layout, "NCHW, or NHWC to write (N, H, W, C) like a channels-last dump")
      ->capture_default_str();
  cmd->footer("\nExample:\n  bnlab synth --shape 8,16,12,12 --dist conv-like --seed 7 --output x.npy\n");
  add_quiet_flag(cmd);
  cmd->callback([options] {
    SynthSpec spec{parse_dims(options->shape, "--shape"), parse_distribution(options->dist, "--dist"), options->seed};
    DataLayout layout = parse_data_layout(options->layout, "--layout");
    check_outputs({{"--output", options->output}});  // before the tensor is synthesized
    write_feature_map(options->output, synthesize(spec), layout);
    nlohmann::ordered_json written = {{"schema", "bnlab.synth/1"},
                                      {"output", options->output},
                                      {"shape_nchw", spec.dims.to_vector()},
                                      {"layout", to_string(layout)},
                                      {"dist", to_string(spec.dist)},
                                      {"seed", spec.seed}};
    std::cout << written.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  });
}

}  // namespace bnlab::app
