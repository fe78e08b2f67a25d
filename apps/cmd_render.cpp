// bnlab render: a saved report (compare --output) as a self-contained HTML page.
#include <iostream>
#include <memory>
#include <string>

#include "bnlab/io/atomic_file.hpp"
#include "bnlab/report/compare_config.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "commands.hpp"

namespace bnlab::app {

namespace {
struct RenderOptions {
  std::string report, html;
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
      "per-layer summary and each layer's heat-map figures.");
  cmd->add_option("report", options->report, "The JSON report (schema bnlab.compare/3 or bnlab.compare-layers/1)")
      ->required();
  cmd->add_option("--html", options->html, "The page to write (atomically), e.g. report.html")->required();
  cmd->footer(
      "\nExamples:\n"
      "  bnlab compare --output report.json && bnlab render report.json --html report.html\n"
      "  bnlab compare --html report.html        # the same page in one step\n");
  cmd->callback([options] {
    check_output_path(options->html, "--html");
    const std::string page = html::render_report_html(html::read_report_file(options->report), options->report);
    write_file_atomically(options->html, page);
    std::cerr << "bnlab: wrote " << options->html << "\n";
  });
}

}  // namespace bnlab::app
