// bnlab: measures how batch normalization should be applied to an (N, C, H, W)
// feature map. Subcommands live in cmd_*.cpp; this file wires them and turns
// every error into one line on stderr and a non-zero exit.
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <sstream>

#include <CLI/CLI.hpp>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/size.hpp"
#include "bnlab/core/wait_policy.hpp"
#include "commands.hpp"
#include "usage.hpp"

namespace {

// Lists each subcommand with the first line of its description only; the
// whole description heads the subcommand's own --help.
class OneLineSubcommandFormatter : public CLI::Formatter {
 public:
  std::string make_subcommand(const CLI::App* sub) const override {
    std::stringstream out;
    std::string description = sub->get_description();
    CLI::detail::format_help(out, sub->get_display_name(true), description.substr(0, description.find('\n')),
                             column_width_);
    return out.str();
  }
};

// "compare " when a subcommand was chosen, "" otherwise.
std::string subcommand_name(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) return sub->get_name() + " ";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  bnlab::restart_with_passive_waiting(argv);  // before libgomp starts a thread
  CLI::App app{"bnlab: a laboratory for batch normalization of (N, C, H, W) feature maps.\n" +
                   bnlab::app::methods_overview() +
                   "Exit codes: 0 ok, 1 run-time error (bad input, files, check found differences), 2 usage error.",
               "bnlab"};
  app.formatter(std::make_shared<OneLineSubcommandFormatter>());
  app.require_subcommand(1);
  app.set_version_flag("--version", "bnlab 0.1.0");
  bnlab::app::setup_normalize(app);
  bnlab::app::setup_synth(app);
  bnlab::app::setup_compare(app);
  bnlab::app::setup_check(app);
  bnlab::app::setup_explain(app);
  bnlab::app::setup_bench(app);
  bnlab::app::setup_train(app);
  bnlab::app::setup_render(app);
  // Every failure ends here as ONE line on stderr (control characters
  // escaped) and a non-zero exit: bnlab::Error names its culprit itself.
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // an exit code chosen by a subcommand, already reported
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {  // a usage error: one line naming the nearest valid word, exit 2
    std::cerr << "bnlab: " << bnlab::escape_control(bnlab::app::usage_error_line(app, e, argc, argv)) << "\n";
    return bnlab::app::kUsageError;
  } catch (const bnlab::Error& e) {
    std::cerr << "bnlab: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "bnlab: out of memory in bnlab " << subcommand_name(app)
              << "(std::bad_alloc): the input or shape needs more than this machine's "
              << bnlab::human_bytes(double(bnlab::physical_memory_bytes())) << " of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bnlab: internal error: " << bnlab::escape_control(e.what()) << "\n";
    return 1;
  } catch (...) {
    std::cerr << "bnlab: internal error: an unknown exception\n";
    return 1;
  }
  return 0;
}
