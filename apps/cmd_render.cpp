// bnlab render: a saved report (compare --output, train --output) as a self-contained HTML page.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/train_schema.hpp"
#include "bnlab/io/atomic_file.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "commands.hpp"
#include "output_options.hpp"

namespace bnlab::app {

namespace {
struct RenderOptions {
  std::vector<std::string> reports;
  std::string train, html;
};
}  // namespace

void setup_render(CLI::App& app) {
  auto options = std::make_shared<RenderOptions>();
  CLI::App* cmd = app.add_subcommand(
      "render",
      "Draw a saved report as one HTML page: figures, verdict table, input summary\n"
      "Draw a saved report (bnlab compare --output REPORT.json) as one self-contained HTML page: inline\n"
      "SVG figures (which values share a statistic, output per channel, the shared spatial pattern, shifts,\n"
      "where the statistics live, batch size), the verdict table with its legend and the input summary.\n"
      "No script, no network, no external font: it opens offline in any browser and prints on paper; the\n"
      "same report gives the same bytes. An .npz layers report (schema bnlab.compare-layers/1) gives its\n"
      "per-layer summary and each layer's heat-map figures; a training result (bnlab train --output\n"
      "TRAIN.json, schema bnlab.train/1) its loss curves, accuracy bars and summary. A compare report and\n"
      "a training result (--train, or a second positional file) make one page together.");
  cmd->add_option("report", options->reports,
                  std::string("The JSON report (schema ") + kCompareSchema + ", " + kCompareLayersSchema + " or " +
                      train::kTrainSchema + "); a second\nfile, a training result, joins the first on one page (the same as --train)")
      ->required()
      ->expected(1, 2);
  cmd->add_option("--train", options->train,
                  "A training result (bnlab train --output TRAIN.json) whose section follows the compare report");
  cmd->add_option("--html", options->html, "The page to write (atomically), e.g. report.html")->required();
  cmd->footer(
      "\nExamples:\n"
      "  bnlab compare --output report.json && bnlab render report.json --html report.html\n"
      "  bnlab compare --html report.html        # the same page in one step\n"
      "  bnlab train --output train.json && bnlab render train.json --html train.html\n"
      "  bnlab render report.json --train train.json --html both.html\n");
  add_quiet_flag(cmd);
  cmd->callback([options] {
    std::vector<std::string> files = options->reports;
    if (!options->train.empty()) files.push_back(options->train);
    if (files.size() > 2) throw Error("--train: the page joins one compare report and one training result; got 3 files");
    std::vector<NamedPath> inputs;  // the page never replaces a report it draws
    for (const std::string& file : files) inputs.push_back({file == options->train ? "--train" : "report", file});
    check_outputs({{"--html", options->html}}, inputs);
    const nlohmann::ordered_json first = html::read_report_file(files[0]);
    const std::string page =
        files.size() == 1 ? html::render_report_html(first, files[0])
                          : html::render_joined_html(first, files[0], html::read_report_file(files[1]), files[1]);
    write_file_atomically(options->html, page);
    report_written(options->html);
  });
}

}  // namespace bnlab::app
