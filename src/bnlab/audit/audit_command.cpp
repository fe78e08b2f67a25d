#include "bnlab/audit/audit_command.hpp"

#include <utility>
#include <vector>

#include "bnlab/audit/audit.hpp"
#include "bnlab/audit/findings.hpp"
#include "bnlab/core/output_format.hpp"
#include "bnlab/io/npz_write.hpp"
#include "bnlab/io/output_check.hpp"

namespace bnlab::audit {

void run_audit_command(const AuditCommand& command, const experiment::PageRenderer& page) {
  const std::optional<std::string> format =
      command.format ? std::optional<std::string>(parse_output_format(*command.format, "--format")) : std::nullopt;
  // The outputs before the dump is read: writable, and none of them the dump.
  check_outputs(given({{"--output", command.output}, {"--recalibrate", command.recalibrate}, {"--html", command.html}}),
                {{"dump", command.dump}});
  const bool table = table_on_stdout(format);
  const AuditResult result = run_audit(command.dump);
  std::vector<experiment::OwnFile> own_files;
  if (command.recalibrate) {
    own_files.push_back({*command.recalibrate, [&result](const std::string& path) {
                           write_npz(path, recalibrated_statistics(result));
                         }});
  }
  experiment::emit({.report = to_json(result),
                    .table = table,
                    .table_text = [&] { return format_audit_table(result); },
                    .output = command.output,
                    .html = command.html,
                    .page = page,
                    .own_files = std::move(own_files),
                    .quiet = command.quiet});
}

}  // namespace bnlab::audit
