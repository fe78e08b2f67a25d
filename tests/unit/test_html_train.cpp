// The training section of the HTML report (bnlab train --html, bnlab render
// TRAIN.json, and joined to a compare page): drawn from a real training run
// on the generated stand-in, well formed and self-contained, loss curves with
// their spread, one accuracy bar per method and measurement (the reason in its
// place where a measurement does not apply), the summary sentence, the same
// bytes for the same result; bad input is one line on stderr.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include <omp.h>

#include "bnlab/core/error.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "bnlab/report/html/svg.hpp"
#include "bnlab/train/experiment.hpp"
#include "bnlab/train/train_report.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace bnlab;
using Json = nlohmann::ordered_json;
using testing::nesting_problem;
using testing::read_text;
using testing::run;
using testing::Run;
using testing::TempDir;

namespace {

// A few steps of real training on the stand-in: Methods 1, 2, 3 (the canvas
// does not apply to 1 and 2), two seeds (a spread), every measurement.
train::TrainConfig tiny_config() {
  train::TrainConfig c;
  c.data = "stand-in";
  c.methods = {"1", "2", "3"};
  c.seeds = {0, 1};
  c.train_images = 96;
  c.epochs = 1;
  c.lr_schedule = train::LrSchedule::constant;
  c.warmup_steps = 0;
  c.precise_bn_images = {48, 96};
  c.batch_size = 16;
  c.lr = 0.05;
  c.test_images = 64;
  c.test_batch_sizes = {32, 2};
  c.shifts = {1, 4};
  c.canvas = 36;
  c.small_batch = 4;
  c.small_batch_images = 32;
  c.loss_every = 2;
  return c;
}

const Json& tiny_result() {
  static const Json result = [] {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    Json j = train::to_json(train::run_experiment(tiny_config(), nullptr));
    omp_set_num_threads(saved);
    return j;
  }();
  return result;
}

// The body of <figure id="ID">, or "" when there is none.
std::string figure_body(const std::string& page, const std::string& id) {
  const std::size_t at = page.find("<figure id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const std::size_t end = page.find("</figure>", at);
  return end == std::string::npos ? "" : page.substr(at, end - at);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::string plus_minus(const Json& stat) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f ± %.3f", stat.at("mean").get<double>(), stat.at("std").get<double>());
  return buf;
}

// Self-contained: nothing fetched, no script, a figure frame with title, axis labels and caption.
void check_page_shape(const std::string& page) {
  INFO(nesting_problem(page));
  CHECK(nesting_problem(page).empty());
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(count(page, "http://") == count(page, "xmlns=\"http://www.w3.org/2000/svg\""));  // the SVG namespace only
  CHECK(page.find("url(") == std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
}

}  // namespace

TEST_CASE("the train page from a real training run: loss curves, accuracy bars, n/a reasons, summary") {
  const Json& result = tiny_result();
  const std::string page = html::render_report_html(result);
  check_page_shape(page);
  CHECK(page.find("<section id=\"train\">") != std::string::npos);
  CHECK(page.find(html::escape(result.at("summary").get<std::string>())) != std::string::npos);

  SECTION("loss curves: per method a line (mean over seeds) and a band (the spread), axes labelled") {
    const std::string fig = figure_body(page, "fig-train-loss");
    REQUIRE(!fig.empty());
    CHECK(fig.find("<h2>") != std::string::npos);
    CHECK(fig.find("<title>") != std::string::npos);
    CHECK(fig.find("<figcaption>") != std::string::npos);
    CHECK(fig.find("What to look for") != std::string::npos);
    CHECK(fig.find("training step (batches of 16 images)") != std::string::npos);
    CHECK(fig.find("training loss (cross-entropy, nats)") != std::string::npos);
    CHECK(count(fig, "<polyline") == 3);
    // Points at steps 2, 4, 6 of the 6 (x from 80 to 700 units): 286.7, 493.3, 700.0.
    CHECK(count(fig, "<polyline points=\"286.7,") == 3);
    CHECK(count(fig, " 493.3,") >= 3);
    CHECK(count(fig, "fill-opacity=\"0.18\"") == 3);
    for (const auto& [id, m] : result.at("methods").items()) {
      INFO(id);
      // The legend gives the final loss over seeds; each curve has one point per loss_every steps.
      CHECK(fig.find("final " + plus_minus(m.at("final_loss"))) != std::string::npos);
      CHECK(m.at("loss_curve").at("mean").size() == 3);  // 96 / 16 = 6 steps, a point every 2
    }
    // The band spans mean +- std: Method 3's first point, on the axis 0 .. y_hi.
    const Json& m3 = result.at("methods").at("3").at("loss_curve");
    CHECK(m3.at("std").at(0).get<double>() > 0);  // two seeds differ
  }

  SECTION("accuracy: a bar per method and measurement at the mean, whiskers, the n/a reason in place") {
    const std::string fig = figure_body(page, "fig-train-accuracy");
    REQUIRE(!fig.empty());
    CHECK(fig.find("<figcaption>") != std::string::npos);
    CHECK(fig.find("What to look for") != std::string::npos);
    CHECK(fig.find("test accuracy (fraction of test images classified correctly)") != std::string::npos);
    CHECK(fig.find("chance (1/10)") != std::string::npos);
    const std::vector<std::string> labels = {"eval mode (running statistics)",
                                             "population statistics, 48 images (eval mode)",
                                             "population statistics, 96 images (eval mode)",
                                             "batch statistics, test batch 32",
                                             "batch statistics, test batch 2",
                                             "shifted by 1 px (eval mode)",
                                             "shifted by 4 px (eval mode)",
                                             "on a 36×36 canvas (eval mode)",
                                             "trained with batch 4 (32 images): eval mode",
                                             "trained with batch 4 (32 images): batch statistics, test batch 32"};
    for (const std::string& label : labels) {
      INFO(label);
      CHECK(count(fig, ">" + label + "</text>") == 1);
    }
    // 10 measurements x 3 methods, less the canvas of Methods 1 and 2.
    CHECK(count(fig, "fill-opacity=\"0.75\"") == labels.size() * 3 - 2);
    for (const char* id : {"1", "2"}) {
      const Json& canvas = result.at("methods").at(id).at("canvas");
      REQUIRE(canvas.at("applicable") == false);
      CHECK(fig.find(">n/a: " + html::escape(canvas.at("reason").get<std::string>()) + "</text>") != std::string::npos);
    }
    // Method 3's eval-mode bar: as long as its mean accuracy on the 600-unit axis, labelled mean ± std.
    const Json& eval = result.at("methods").at("3").at("eval_accuracy");
    CHECK(fig.find("width=\"" + html::coord(eval.at("mean").get<double>() * 600) + "\" height=\"10\" fill=\"" +
                   html::series_colour(2) + "\"") != std::string::npos);
    CHECK(fig.find(">" + plus_minus(eval) + "</text>") != std::string::npos);
  }

  SECTION("the section opens with the takeaway and the headline figure, before the details") {
    const std::string takeaway = result.at("takeaway").get<std::string>();
    REQUIRE(takeaway.find("Method 1 against Method 3: ") != std::string::npos);
    const std::size_t said = page.find(html::escape(takeaway)), headline = page.find("<figure id=\"fig-train-headline\"");
    REQUIRE(said != std::string::npos);
    REQUIRE(headline != std::string::npos);
    CHECK(said < headline);
    CHECK(headline < page.find("<figure id=\"fig-train-loss\""));
    const std::string fig = figure_body(page, "fig-train-headline");
    CHECK(count(fig, "fill-opacity=\"0.75\"") == 3 * 3);  // eval mode and 2 population rows, 3 methods
    CHECK(fig.find("batch statistics") == std::string::npos);
  }

  SECTION("the same bytes for the same result; the timings (which vary) are not drawn") {
    CHECK(html::render_report_html(result) == page);
    Json other_timing = result;
    other_timing["timing"]["total_seconds"] = 12345.0;
    other_timing["timing"]["threads"] = 7;
    CHECK(html::render_report_html(other_timing) == page);
  }
}

TEST_CASE("the train page without optional measurements, with one seed, with an empty loss curve") {
  train::TrainConfig c = tiny_config();
  c.methods = {"3", "gn:4"};
  c.seeds = {3};
  c.shifts = {};
  c.canvas = 0;
  c.small_batch = 0;
  c.test_batch_sizes = {32};
  c.precise_bn_images = {};
  Json result = train::to_json(train::run_experiment(c, nullptr));
  std::string page = html::render_report_html(result);
  check_page_shape(page);
  const std::string fig = figure_body(page, "fig-train-accuracy");
  CHECK(fig.find("canvas (eval mode)") == std::string::npos);
  CHECK(fig.find("shifted by") == std::string::npos);
  CHECK(fig.find("trained with batch") == std::string::npos);
  CHECK(count(fig, "fill-opacity=\"0.75\"") == 2 * 2);  // eval mode and batch 32, two methods
  CHECK(count(fig, "stroke-width=\"1.2\"") == 0);         // one seed: no whisker ...
  CHECK(fig.find(" ± 0.000</text>") != std::string::npos);  // ... and the label says so
  // An edited result whose curves are empty: the figure says why in its place.
  for (auto& [id, m] : result["methods"].items()) {
    m["loss_curve"]["mean"] = Json::array();
    m["loss_curve"]["std"] = Json::array();
  }
  page = html::render_report_html(result);
  CHECK(figure_body(page, "fig-train-loss").find("Not drawn for this report: ") != std::string::npos);
  CHECK(nesting_problem(page).empty());
}

TEST_CASE("bnlab train --html, bnlab render TRAIN.json and a joined page; bad input is one line") {
  TempDir dir("html-train");
  const std::string bin = BNLAB_BINARY;
  const std::string quick = "OMP_NUM_THREADS=1 " + bin + " train --config " +
                            (fs::path(BNLAB_SOURCE_DIR) / "tests" / "fixtures" / "train-quick.json").string();
  Run r = run(quick + " --output " + (dir / "t.json") + " --html " + (dir / "t.html"));
  REQUIRE(r.code == 0);
  const std::string train_page = read_text(dir / "t.html");
  check_page_shape(train_page);
  // Two steps with a point every 10 (train-quick.json): one point, at step 2, the end of the axis (x = 700),
  // which is labelled 0, 1, 2 (not up to 10: the last window is as long as the run).
  const std::string loss = figure_body(train_page, "fig-train-loss");
  CHECK(loss.find("<polyline points=\"700.0,") != std::string::npos);
  CHECK(loss.find("<text x=\"700.0\" y=\"315.0\" text-anchor=\"middle\" font-size=\"11\">2</text>") != std::string::npos);
  CHECK(loss.find(">10</text>") == std::string::npos);
  // A saved result renders to the same bytes.
  r = run(bin + " render " + (dir / "t.json") + " --html " + (dir / "r.html"));
  REQUIRE(r.code == 0);
  CHECK(read_text(dir / "r.html") == train_page);
  // A compare report and the training result on one page, by --train or as a second file.
  r = run(bin + " compare --shape 4,4,4,4 --output " + (dir / "c.json"));
  REQUIRE(r.code == 0);
  r = run(bin + " render " + (dir / "c.json") + " --train " + (dir / "t.json") + " --html " + (dir / "both.html"));
  REQUIRE(r.code == 0);
  r = run(bin + " render " + (dir / "c.json") + " " + (dir / "t.json") + " --html " + (dir / "both2.html"));
  REQUIRE(r.code == 0);
  const std::string both = read_text(dir / "both.html");
  CHECK(read_text(dir / "both2.html") == both);
  check_page_shape(both);
  for (const char* id : {"fig-axes", "fig-channels", "fig-batch-size", "fig-train-loss", "fig-train-accuracy"}) {
    INFO(id);
    CHECK(count(both, "<figure id=\"" + std::string(id) + "\"") == 1);
  }
  CHECK(both.find("<section id=\"verdict\">") < both.find("<section id=\"train\">"));

  // Errors: one line naming the file, exit 1, no page.
  Json truncated = Json::parse(read_text(dir / "t.json"));
  truncated["methods"]["3"].erase("loss_curve");
  const std::string truncated_path = dir.write("truncated.json", truncated.dump());
  // An edited result that passes every check but would draw a page of many MB:
  // a loss curve of 400,000 points per method (valid numbers, under the 64 MiB
  // the reader takes) is refused by the page-size limit.
  Json long_curve = Json::parse(read_text(dir / "t.json"));
  for (auto& [id, m] : long_curve["methods"].items()) {
    m["loss_curve"]["mean"] = Json::array();
    m["loss_curve"]["std"] = Json::array();
    for (int i = 0; i < 400000; ++i) {
      m["loss_curve"]["mean"].push_back(2.0 - i * 1e-6);
      m["loss_curve"]["std"].push_back(0.01);
    }
  }
  dir.write("long_curve.json", long_curve.dump());
  const std::string out = dir / "out.html";
  const std::string compare = Json(kCompareSchema).dump(), layers = Json(kCompareLayersSchema).dump();  // quoted
  struct Case {
    std::string args, expected;
  };
  const std::vector<Case> cases = {
      {dir / "truncated.json", "truncated.json: /methods/3/loss_curve: missing (this report is not complete)"},
      {dir / "long_curve.json", "long_curve.json: the page would be "},
      {dir / "long_curve.json", "MiB, more than the 4 MiB bnlab writes at most"},
      {dir.write("other.json", "{\"schema\": \"bnlab.normalize/1\"}"),
       "other.json: /schema: expected " + compare + ", " + layers + " or \"bnlab.train/1\", got \"bnlab.normalize/1\""},
      {(dir / "t.json") + " " + (dir / "c.json"),
       "t.json: /schema: expected " + compare + " or " + layers + ", got \"bnlab.train/1\""},
      {(dir / "c.json") + " --train " + (dir / "c.json"), "c.json: /schema: expected \"bnlab.train/1\", got " + compare},
      {(dir / "c.json") + " " + (dir / "t.json") + " --train " + (dir / "t.json"),
       "--train: the page joins one compare report and one training result; got 3 files"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    r = run(bin + " render " + c.args + " --html " + out);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("bnlab: ", 0) == 0);
    CHECK(r.err.find(c.expected) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(out));
  }
  // --html in a missing directory is refused before any training.
  r = run(quick + " --html " + (dir / "no/such/dir/t.html"));
  CHECK(r.code == 1);
  CHECK(r.err.find("--html: cannot write") != std::string::npos);
  CHECK(r.err.find("bnlab train: method") == std::string::npos);  // no run started
}
