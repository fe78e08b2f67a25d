// bnlab bench: placeholder, replaced by the real subcommand.
#include "commands.hpp"

namespace bnlab::app {
void setup_bench(CLI::App& app) { app.add_subcommand("bench", "(not yet implemented)"); }
}  // namespace bnlab::app
