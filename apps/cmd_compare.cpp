// bnlab compare: placeholder, replaced by the real subcommand.
#include "commands.hpp"

namespace bnlab::app {
void setup_compare(CLI::App& app) { app.add_subcommand("compare", "(not yet implemented)"); }
}  // namespace bnlab::app
