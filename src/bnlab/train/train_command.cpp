#include "bnlab/train/train_command.hpp"

#include <vector>

#include "bnlab/core/output_format.hpp"
#include "bnlab/core/progress.hpp"
#include "bnlab/io/output_check.hpp"
#include "bnlab/train/experiment.hpp"
#include "bnlab/train/train_report.hpp"

namespace bnlab::train {

void run_train_command(const TrainCommand& command, const experiment::PageRenderer& page) {
  TrainConfig config = command.config_path.empty() ? TrainConfig{} : load_train_config(command.config_path);
  apply_overrides(config, command.overrides);  // ranges and relations checked here
  // The outputs before minutes of training: writable, and none of them an input.
  check_outputs(given({{"--output", config.output}, {"--html", command.html}}),
                given({{"--config", nonempty(command.config_path)}}));
  const bool table = table_on_stdout(config.format);
  // Per-run lines and step counters on stderr (core/progress.hpp), unless quiet.
  const ProgressLines progress = [quiet = command.quiet](const std::string& line, bool transient) {
    if (!quiet) progress_line("train", line, transient);
  };
  const TrainResult result = run_experiment(config, progress);
  experiment::emit({.report = to_json(result),
                    .table = table,
                    .table_text = [&] { return format_table(result); },
                    .output = config.output,
                    .html = command.html,
                    .page = page,
                    .own_files = {},
                    .quiet = command.quiet});
}

}  // namespace bnlab::train
