// bnlab check: compare a report against a golden one; exit 1 if they differ.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bnlab/check/report_check.hpp"
#include "commands.hpp"
#include "output_options.hpp"

namespace bnlab::app {

namespace {
struct CheckOptions {
  std::string golden, report;
  double rtol = 1e-6;
  double atol = 1e-12;
  std::vector<std::string> ignore;
};

// A tolerance: a finite number >= 0. (CLI::NonNegativeNumber's message prints DBL_MAX in full.)
const CLI::Validator kTolerance(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      double value = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(value >= 0) || value > 1e300) {
        return "must be a finite number >= 0 (got " + text + ")";
      }
      return {};
    },
    "NONNEGATIVE", "TOLERANCE");
}  // namespace

void setup_check(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Compare a report against a golden one; exit 1 listing every difference\n"
      "Compare a JSON report against a golden one: the same keys, array lengths and types; strings,\n"
      "booleans and nulls equal; numbers within |a - b| <= atol + rtol * max(|a|, |b|).\n"
      "Prints each difference as '<JSON pointer>: <golden and report values>' and a count; differing\n"
      "strings are shown around their first difference.\n"
      "Exit codes: 0 the reports agree, 1 they differ or a file cannot be read or parsed.");
  cmd->add_option("--golden", options->golden, "The reference report (JSON)")->required();
  cmd->add_option("--report", options->report, "The report to check (JSON)")->required();
  cmd->add_option("--rtol", options->rtol, "Relative tolerance for numbers")
      ->check(kTolerance)
      ->capture_default_str();
  cmd->add_option("--atol", options->atol, "Absolute tolerance for numbers (matters for values near 0)")
      ->check(kTolerance)
      ->capture_default_str();
  cmd->add_option("--ignore", options->ignore,
                  "Skip this key and everything under it: a JSON pointer such as /input/path (repeatable)");
  cmd->footer(
      "\nExamples:\n"
      "  bnlab check --golden golden.json --report report.json --rtol 1e-9\n"
      "  bnlab check --golden golden.json --report report.json --ignore /input/path --ignore /config/input\n");
  add_quiet_flag(cmd);
  cmd->callback([options] {
    CheckResult result =
        check_report_files(options->golden, options->report, options->rtol, options->atol, options->ignore);
    std::cout << result.text << std::flush;
    // CLI11's App::exit turns a RuntimeError into its exit code without printing anything.
    if (!result.agree()) throw CLI::RuntimeError(1);
  });
}

}  // namespace bnlab::app
