// bnlab audit: its options (the dump, --format, --output, --recalibrate,
// --html, --quiet) into an AuditCommand, then run_audit_command with the
// page renderer.
#include <memory>

#include "bnlab/audit/audit_command.hpp"
#include "bnlab/audit/findings.hpp"
#include "bnlab/core/output_format.hpp"
#include "bnlab/report/html/audit_page.hpp"
#include "commands.hpp"
#include "output_options.hpp"

namespace bnlab::app {


void setup_audit(CLI::App& app) {
  auto options = std::make_shared<audit::AuditCommand>();
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
    options->quiet = quiet();
    audit::run_audit_command(*options, [](const nlohmann::ordered_json& r) { return html::render_audit_html(r); });
  });
}

}  // namespace bnlab::app
