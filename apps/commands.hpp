#pragma once
// One setup_* function per subcommand (CLI11's subcom_in_files pattern): each
// registers its options and a callback that is one call into the library.
#include <CLI/CLI.hpp>

namespace bnlab::app {

void setup_normalize(CLI::App& app);
void setup_synth(CLI::App& app);
void setup_compare(CLI::App& app);
void setup_check(CLI::App& app);
void setup_explain(CLI::App& app);
void setup_bench(CLI::App& app);
void setup_train(CLI::App& app);
void setup_render(CLI::App& app);
void setup_audit(CLI::App& app);

}  // namespace bnlab::app
