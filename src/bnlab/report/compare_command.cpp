#include "bnlab/report/compare_command.hpp"

#include <functional>
#include <utility>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/memory_policy.hpp"
#include "bnlab/core/output_format.hpp"
#include "bnlab/core/progress.hpp"
#include "bnlab/core/terminal_text.hpp"
#include "bnlab/experiment/emit.hpp"
#include "bnlab/io/output_check.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "bnlab/report/layers_table.hpp"
#include "bnlab/report/report_table.hpp"

namespace bnlab {

void run_compare_command(const CompareCommand& command) {
  CompareConfig config = command.config_path.empty() ? CompareConfig{} : load_compare_config(command.config_path);
  apply_overrides(config, command.overrides);
  // The outputs before minutes of computation: writable, and none of them an input.
  check_outputs(given({{"--output", config.output}, {"--html", command.html}}),
                given({{"--config", nonempty(command.config_path)},
                       {"--input", config.input}}));
  if (command.explain && config.format && *config.format == "json")
    throw Error("--explain: a table option, and the format asked for is json");
  const bool table = command.explain || table_on_stdout(config.format);
  // The report to --output and --html, and to stdout as JSON or as the table.
  auto emit = [&](nlohmann::ordered_json report, std::function<std::string()> table_text) {
    experiment::emit({.report = std::move(report),
                      .table = table,
                      .table_text = std::move(table_text),
                      .output = config.output,
                      .html = command.html,
                      .page = [](const nlohmann::ordered_json& r) { return html::render_report_html(r); },
                      .own_files = {},
                      .quiet = command.quiet});
  };
  if (compare_input_is_archive(config)) {  // an .npz: one block per layer, a summary across layers
    if (command.explain) {
      throw Error("--explain: the long table is one tensor's; an .npz input gives one row per layer (its JSON, "
                  "--output, holds every layer's blocks; --html draws each layer's figures)");
    }
    keep_freed_memory();  // each layer's probes allocate their tensors in turn
    const LayersResult layers = compare_layers(config);
    emit(to_json(layers), [&] { return format_layers_table(layers); });
    return;
  }
  check_layers_need_archive(config);
  CompareResult result;
  {
    Progress progress("compare", 1);  // + the steps compare() adds; on stderr, when it is a terminal and the run is slow
    // Keep freed memory from the start: the input and the probes' few
    // input-sized tensors come from a heap in huge pages, and a freed tensor's
    // pages serve the next one instead of faulting in new ones.
    keep_freed_memory();
    result = run_compare_result(config, command.quiet ? nullptr : &progress);
  }
  emit(to_json(result), [&] {
    return format_compare_table(result, TableOptions{.explain = command.explain, .utf8_marks = locale_is_utf8()});
  });
}

}  // namespace bnlab
