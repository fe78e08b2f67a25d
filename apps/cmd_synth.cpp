// bnlab synth: placeholder until the synthesis library lands.
#include "commands.hpp"

namespace bnlab::app {
void setup_synth(CLI::App& app) { app.add_subcommand("synth", "Write a synthesized (N, C, H, W) tensor as .npy"); }
}  // namespace bnlab::app
