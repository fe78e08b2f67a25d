// bnlab audit: parse options, call bnlab::audit::run_audit, print the JSON
// report or the table, write --output and --recalibrate.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "bnlab/audit/audit.hpp"
#include "bnlab/audit/findings.hpp"
#include "bnlab/experiment/emit.hpp"
#include "bnlab/io/npz_write.hpp"
#include "bnlab/core/output_format.hpp"
#include "bnlab/report/html/audit_page.hpp"
#include "commands.hpp"
#include "output_options.hpp"

namespace bnlab::app {

namespace {
struct AuditOptions {
  std::string dump;
  std::optional<std::string> format, output, recalibrate, html;
};
}  // namespace

void setup_audit(CLI::App& app) {
  auto options = std::make_shared<AuditOptions>();
  CLI::App* cmd = app.add_subcommand(
      "audit",
      "Check the batch-norm layers of your own trained network, from one dump\n"
      "Per layer of DUMP.npz (scripts/bnlab_dump.py writes it): the batch's statistics against the running\n"
      "ones and the eval/train output gap, how precise the batch statistics are at this batch size, how many\n"
      "images recalibration needs, dead and zero-gamma channels; findings with fixed ids (docs/audit.md).");
  cmd->add_option("dump", options->dump, "The dump: L.input, L.running_mean, L.running_var, L.weight, L.bias, ...")
      ->required();
  cmd->add_option("--format", options->format, kFormatHelp);
  cmd->add_option("--output", options->output, "Also write the JSON report to this file (atomically)");
  cmd->add_option("--recalibrate", options->recalibrate,
                  "Write L.running_mean/L.running_var recomputed from the dump (population statistics, unbiased\n"
                  "variance) as an .npz, for model.load_state_dict(..., strict=False)");
  cmd->add_option("--html", options->html, "Also draw the audit as one self-contained HTML page (a row and bars per layer)");
  cmd->footer("\n" + audit::findings_help() +
              "\nExamples:\n"
              "  /usr/bin/python3 scripts/bnlab_dump.py --example resnet18 r.npz && bnlab audit r.npz\n"
              "  bnlab audit dump.npz --output audit.json --recalibrate recalibrated.npz\n"
              "  bnlab audit dump.npz | jq '.summary.layers_with'\n");
  add_quiet_flag(cmd);
  cmd->callback([options] {
    if (options->format) options->format = parse_output_format(*options->format, "--format");  // case-insensitive
    check_outputs(given({{"--output", options->output}, {"--recalibrate", options->recalibrate},
                         {"--html", options->html}}),
                  given({{"dump", options->dump}}));
    const bool table = table_on_stdout(options->format);
    const audit::AuditResult result = audit::run_audit(options->dump);
    std::vector<experiment::OwnFile> own_files;
    if (options->recalibrate) {
      own_files.push_back({*options->recalibrate, [&result](const std::string& path) {
                             write_npz(path, audit::recalibrated_statistics(result));
                           }});
    }
    experiment::emit({.report = audit::to_json(result),
                      .table = table,
                      .table_text = [&] { return audit::format_audit_table(result); },
                      .output = options->output,
                      .html = options->html,
                      .page = [](const nlohmann::ordered_json& r) { return html::render_audit_html(r); },
                      .own_files = std::move(own_files),
                      .quiet = quiet()});
  });
}

}  // namespace bnlab::app
