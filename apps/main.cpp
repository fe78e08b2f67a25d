// bnlab: measures how batch normalization should be applied to an (N, C, H, W)
// feature map. Subcommands live in cmd_*.cpp; this file wires them and turns
// every error into one line on stderr and a non-zero exit.
#include <exception>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "bnlab/core/error.hpp"
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand's own failure, already reported (e.g. check's differences)
  } catch (const CLI::ParseError& e) {
    std::cerr << "bnlab: " << bnlab::app::usage_error_line(app, e, argc, argv) << "\n";
    return bnlab::app::kUsageError;
  } catch (const bnlab::Error& e) {
    std::cerr << "bnlab: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bnlab: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
