// bnlab normalize: placeholder until .npy I/O lands.
#include "commands.hpp"

namespace bnlab::app {
void setup_normalize(CLI::App& app) { app.add_subcommand("normalize", "Normalize a .npy tensor"); }
}  // namespace bnlab::app
