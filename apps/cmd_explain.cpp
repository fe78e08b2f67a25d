// bnlab explain: print what each method computes on one shape (text or JSON).
#include <iostream>
#include <memory>
#include <string>

#include "bnlab/explain/explain.hpp"
#include "commands.hpp"
#include "bnlab/core/output_format.hpp"
#include "output_options.hpp"

namespace bnlab::app {

namespace {
struct ExplainOptions {
  std::string shape = "16,16,16,16";
  std::string methods = "1,2,3,ln,in,gn:4";
  std::string format = "table";
};
}  // namespace

void setup_explain(CLI::App& app) {
  auto options = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explain",
      "Print each method's formula, axes and counts for one shape, and what \"per feature map\" means\n"
      "Explain each method on one (N, C, H, W) shape: its formula with indices, the axes it reduces,\n"
      "the number and size of its statistics, its natural gamma/beta, its eval mode; then what\n"
      "\"per feature map\" means in the BN paper (Ioffe & Szegedy 2015, section 3.2).");
  cmd->add_option("--shape", options->shape, "Feature-map shape N,C,H,W")->capture_default_str();
  cmd->add_option("--methods", options->methods,
                  "Comma-separated, case-insensitive: " + valid_method_names() + " (gn:G with C % G != 0 is skipped)")
      ->capture_default_str();
  cmd->add_option("--format", options->format, "table (80 columns of text) or json (schema bnlab.explain/1)")
      ->capture_default_str();
  cmd->footer("\nExample:\n  bnlab explain --shape 2,6,4,5 --methods 1,2,3,gn:3\n");
  add_quiet_flag(cmd);
  cmd->callback([options] {
    const std::string format = parse_output_format(options->format, "--format");
    Dims dims = parse_dims(options->shape, "--shape");
    std::vector<Method> methods = parse_method_list(options->methods, "--methods");
    if (format == "json") std::cout << explain_json(dims, methods).dump(2) << "\n";
    else std::cout << explain_text(dims, methods);
  });
}

}  // namespace bnlab::app
