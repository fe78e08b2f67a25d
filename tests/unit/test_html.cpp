// The HTML report (bnlab render, compare --html): a well-formed, self-contained
// page whose figures each have a title, axis labels and a caption; the same
// bytes for the same report; within the size limit; any input renders (six
// methods and a dead channel, N = 1, H = W = 1, an .npz layers report); bad
// input is one line on stderr. tests/browser/test_html_browser.cpp loads it in Chromium.
#include <catch2/catch.hpp>

#include <regex>

#include <map>
#include <cctype>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "bnlab/report/html/plot.hpp"
#include "bnlab/synth/synth.hpp"
#include "support/test_support.hpp"

using namespace bnlab;
namespace fs = std::filesystem;
using namespace testing;
using Json = nlohmann::ordered_json;

namespace {

constexpr std::size_t kMaxPageBytes = 2 * 1024 * 1024;  // the issue's limit for the default input

// The <figure> elements of a page, by id.
// A plain scan, not std::regex: libstdc++'s regex recurses once per
// character of a lazy [\s\S]*? and overflows the stack on a long figure
// under AddressSanitizer.
std::map<std::string, std::string> figures_of(const std::string& page) {
  std::map<std::string, std::string> out;
  const std::string open = "<figure id=\"", close = "</figure>";
  for (std::size_t at = page.find(open); at != std::string::npos; at = page.find(open, at + 1)) {
    const std::size_t id_end = page.find('"', at + open.size());
    const std::size_t body = id_end == std::string::npos ? id_end : page.find('>', id_end);
    const std::size_t end = body == std::string::npos ? body : page.find(close, body);
    if (end == std::string::npos) break;
    out[page.substr(at + open.size(), id_end - at - open.size())] = page.substr(body + 1, end - body - 1);
  }
  return out;
}

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const std::size_t a = text.find(open);
  if (a == std::string::npos) return "";
  const std::size_t b = text.find(close, a + open.size());
  return b == std::string::npos ? "" : text.substr(a + open.size(), b - a - open.size());
}

// Nothing the page could fetch and nothing that runs.
void require_self_contained(const std::string& page) {
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("url(") == std::string::npos);
  CHECK(page.find("@import") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
  CHECK(page.find("src=") == std::string::npos);
  // The one http:// is the SVG namespace name, which is never fetched.
  std::size_t http = 0;
  for (std::size_t at = page.find("http://"); at != std::string::npos; at = page.find("http://", at + 1))
    http += page.compare(at, 26, "http://www.w3.org/2000/svg") != 0;
  CHECK(http == 0);
}

// Each drawn figure's axis labels: the words that name its axes.
const std::map<std::string, std::vector<std::string>> kAxisLabels = {
    {"fig-axes", {"C = ", "H·W = ", "N = "}},
    {"fig-channels", {"channel c (index)", "output mean per channel", "output std per channel"}},
    {"fig-pattern", {"w (pixels)", "h (pixels)", "input, mean over N", "output mean"}},
    {"fig-shift", {"w (pixels)", "h (pixels)", "f(shift(x)) - shift(f(x))"}},
    {"fig-statistics", {"mean", "variance", "w (pixels)", "channel c"}},
    {"fig-batch-size", {"batch size n", "relative error of the variance"}},
};

// Every heat map (figures 3 to 5) has its colour bar, and the bar its numbers.
void require_colour_bars(const std::string& figure) {
  std::size_t maps = 0, bars = 0;
  for (std::size_t at = figure.find("class=\"heat-map\""); at != std::string::npos;
       at = figure.find("class=\"heat-map\"", at + 1))
    ++maps;
  for (std::size_t at = figure.find("class=\"colour-bar\""); at != std::string::npos;
       at = figure.find("class=\"colour-bar\"", at + 1)) {
    ++bars;
    const std::string bar = figure.substr(at, figure.find("</g>", at) - at);
    CHECK(bar.find("<text") != std::string::npos);
  }
  CHECK(maps > 0);
  CHECK(bars == maps);
}

void require_figures_complete(const std::string& page, std::size_t expected_drawn) {
  const auto figures = figures_of(page);
  std::size_t drawn = 0;
  for (const auto& [id, inner] : figures) {
    INFO("figure " << id);
    CHECK(!between(inner, "<h2>", "</h2>").empty());                     // a title
    CHECK(between(inner, "<figcaption>", "</figcaption>").size() > 40);  // a caption that says something
    if (inner.find("<svg") == std::string::npos) {
      CHECK(inner.find("Not drawn for this report: ") != std::string::npos);  // says why in its place
      continue;
    }
    ++drawn;
    CHECK(!between(inner, "<title>", "</title>").empty());
    REQUIRE(kAxisLabels.count(id) == 1);
    for (const std::string& label : kAxisLabels.at(id)) CHECK(inner.find(label) != std::string::npos);
    if (id == "fig-pattern" || id == "fig-shift" || id == "fig-statistics") require_colour_bars(inner);
  }
  CHECK(figures.size() == kAxisLabels.size());
  CHECK(drawn == expected_drawn);
}

Json default_report() {
  static const Json report = run_compare(CompareConfig{});
  return report;
}

}  // namespace

TEST_CASE("the default page: well formed, self-contained, every figure titled, labelled and captioned") {
  const std::string page = html::render_report_html(default_report());
  CHECK(nesting_problem(page) == "");
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  require_self_contained(page);
  require_figures_complete(page, 6);
  CHECK(page.size() < kMaxPageBytes);
  // Figure 4: Method 3 commutes with the shift (max |d| 0, an all-white map), Methods 1 and 2 do not.
  const std::string shift = figures_of(page).at("fig-shift");
  CHECK(shift.find(">M3, max |d| 0<") != std::string::npos);
  CHECK(shift.find(">M1, max |d| 0<") == std::string::npos);
  CHECK(shift.find(">M2, max |d| 0<") == std::string::npos);
  const Json report = default_report();  // held: a loop over a temporary's member would dangle
  // Figure 3: the chosen channels are named, as the report has them.
  for (const auto& c : report["input"]["maps"]["channels"])
    CHECK(figures_of(page).at("fig-pattern").find("Channel " + std::to_string(c.get<int>())) != std::string::npos);
  // The verdict table: one row per property with its label, yes/NO in words.
  for (const auto& [key, p] : report["verdict"]["properties"].items()) {
    std::string row = ">";  // appended step by step: GCC 12 warns (-Wrestrict, falsely) on a + chain
    row += p["label"].get<std::string>();
    row += " (";
    CHECK(page.find(row) != std::string::npos);
  }
  CHECK(page.find(default_report()["verdict"]["summary"].get<std::string>()) != std::string::npos);
  CHECK(page.find("4096") != std::string::npos);  // Method 3's values per statistic, under its cube
}

TEST_CASE("the same report gives the same bytes; compare --html equals render of the saved report") {
  CHECK(html::render_report_html(default_report()) == html::render_report_html(default_report()));
  TempDir dir;
  const std::string json = (dir.path / "r.json").string(), a = (dir.path / "a.html").string(),
                    b = (dir.path / "b.html").string();
  const Run compare = run(std::string(BNLAB_BINARY) + " compare --shape 4,3,5,5 --methods 1,2,3,gn:3 --output " + json +
                          " --html " + a);
  REQUIRE(compare.code == 0);
  REQUIRE(run(std::string(BNLAB_BINARY) + " render " + json + " --html " + b).code == 0);
  CHECK(read_text(a) == read_text(b));
  CHECK(read_text(a) == html::render_report_html(html::read_report_file(json)));
  // ... and whatever the thread count.
  const std::string c = (dir.path / "c.html").string();
  REQUIRE(run("OMP_NUM_THREADS=1 " + std::string(BNLAB_BINARY) +
              " compare --shape 4,3,5,5 --methods 1,2,3,gn:3 --format json --html " + c + " >/dev/null")
              .code == 0);
  CHECK(read_text(a) == read_text(c));
}

TEST_CASE("figure 2: every dot lies inside its panel's frame, the extreme ones too") {
  // Method 1's channels spread far (its outliers set the axis); Method 1's
  // markers are circles: each must clear the frame's top and bottom edges.
  const std::string channels = figures_of(html::render_report_html(default_report())).at("fig-channels");
  const std::regex frame_re(R"re(<rect x="[-0-9.]+" y="([-0-9.]+)" width="[-0-9.]+" height="([-0-9.]+)" fill="none")re");
  const std::regex circle_re(R"re(<circle cx="[-0-9.]+" cy="([-0-9.]+)" r="([-0-9.]+)")re");
  std::size_t panels = 0, dots = 0;
  for (std::size_t at = channels.find("<g class=\"panel\">"); at != std::string::npos;
       at = channels.find("<g class=\"panel\">", at + 1)) {
    const std::string panel = channels.substr(at, channels.find("</g>", at) - at);
    std::smatch frame;
    REQUIRE(std::regex_search(panel, frame, frame_re));
    const double top = std::stod(frame[1]), bottom = top + std::stod(frame[2]);
    ++panels;
    for (auto it = std::sregex_iterator(panel.begin(), panel.end(), circle_re); it != std::sregex_iterator(); ++it) {
      const double cy = std::stod((*it)[1]), r = std::stod((*it)[2]);
      INFO("cy " << cy << " r " << r << " frame " << top << ".." << bottom);
      CHECK(cy - r > top);
      CHECK(cy + r < bottom);
      ++dots;
    }
  }
  CHECK(panels == 2);
  CHECK(dots == 2 * 16);  // Method 1's 16 channels in each panel
}

TEST_CASE("awkward inputs render: six methods and a dead channel, N = 1, H = W = 1, many channels") {
  SECTION("six methods, channel 3 dead: its dots hollow, every figure drawn") {
    const std::string page = html::render_report_html(awkward_report());
    CHECK(nesting_problem(page) == "");
    require_figures_complete(page, 6);
    const std::string channels = figures_of(page).at("fig-channels");
    // Channel 3 is constant for every method but Method 1 (which pools it with the others) and ln.
    CHECK(channels.find("fill=\"white\"") != std::string::npos);
    CHECK(page.find(">gn:3<") != std::string::npos);
  }
  SECTION("N = 1: Method 2 is not measured, the batch-size figure says why") {
    CompareConfig config;
    config.shape = {1, 4, 5, 5};
    config.methods = {"1", "2", "3", "in"};
    const std::string page = html::render_report_html(run_compare(config));
    CHECK(nesting_problem(page) == "");
    require_figures_complete(page, 5);
    CHECK(figures_of(page).at("fig-batch-size").find("single sample") != std::string::npos);
    CHECK(figures_of(page).at("fig-shift").find("With N = 1 there is no other sample") != std::string::npos);
    CHECK(figures_of(page).at("fig-pattern").find("Not drawn: M2") != std::string::npos);
    CHECK(figures_of(page).at("fig-channels").find("Not drawn: M2") != std::string::npos);
  }
  SECTION("H = W = 1") {
    CompareConfig config;
    config.shape = {8, 4, 1, 1};
    config.methods = {"1", "2", "3", "ln", "in", "gn:2"};
    const std::string page = html::render_report_html(run_compare(config));
    CHECK(nesting_problem(page) == "");
    CHECK(page.find("H·W = 1") != std::string::npos);
    require_figures_complete(page, 4);  // no pattern and no shift on a single location: said in their place
    CHECK(figures_of(page).at("fig-pattern").find("H = W = 1") != std::string::npos);
    CHECK(figures_of(page).at("fig-shift").find("H = W = 1") != std::string::npos);
  }
  SECTION("a 64 x 64 plane, six methods: maps downsampled to 32 x 32, under the size limit") {
    CompareConfig config;
    config.shape = {4, 8, 64, 64};
    config.methods = {"1", "2", "3", "ln", "in", "gn:4"};
    const Json report = run_compare(config);
    CHECK(report["input"]["maps"]["size"] == Json::array({32, 32}));
    const std::string page = html::render_report_html(report);
    CHECK(nesting_problem(page) == "");
    require_figures_complete(page, 6);
    CHECK(figures_of(page).at("fig-pattern").find("block of 2 x 2 pixels") != std::string::npos);
    CHECK(page.size() < kMaxPageBytes);
  }
  SECTION("256 channels stay under the size limit") {
    CompareConfig config;
    config.shape = {4, 256, 4, 4};
    config.methods = {"1", "2", "3", "ln", "in", "gn:8"};
    const std::string page = html::render_report_html(run_compare(config));
    CHECK(nesting_problem(page) == "");
    CHECK(page.size() < kMaxPageBytes);
  }
}

TEST_CASE("an .npz layers report renders its per-layer summary") {
  CompareConfig config;
  config.input = std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/layers_savez.npz";
  const Json report = build_layers_report(config);
  const std::string page = html::render_report_html(report);
  CHECK(nesting_problem(page) == "");
  require_self_contained(page);
  for (const auto& [name, layer] : report["layers"].items()) {
    std::string cell = ">";
    cell += name;
    cell += " (";
    CHECK(page.find(cell) != std::string::npos);
  }
  CHECK(page.find(report["across_layers"]["summary"].get<std::string>()) != std::string::npos);
  // Figures 3 to 5 of every layer, each layer in its own <details> block, ids unique on the page.
  const auto figures = figures_of(page);
  CHECK(figures.size() == 3 * report["layers"].size());
  std::size_t details = 0;
  for (std::size_t at = page.find("<details>"); at != std::string::npos; at = page.find("<details>", at + 1)) ++details;
  CHECK(details == report["layers"].size());
  for (const char* id : {"layer1-fig-pattern", "layer1-fig-shift", "layer1-fig-statistics"}) {
    INFO(id);
    REQUIRE(figures.count(id) == 1);
    CHECK(between(figures.at(id), "<figcaption>", "</figcaption>").size() > 40);
  }
  CHECK(page.size() < kMaxPageBytes);
  // Many layers: the figures stop before the page reaches 2 MB, with a note.
  Json many = report;
  const Json first = report["layers"].begin().value();
  for (int i = 0; i < 400; ++i) many["layers"]["copy" + std::to_string(i)] = first;
  const std::string many_page = html::render_report_html(many);
  CHECK(many_page.size() < kMaxPageBytes);
  CHECK(many_page.find("and the layers after it are left out to keep the page under 2 MB") != std::string::npos);
  // A report whose layers have no maps (written before them) still renders, saying so.
  Json old = report;
  for (auto& [name, layer] : old["layers"].items()) layer["input"].erase("maps");
  const std::string old_page = html::render_report_html(old);
  CHECK(old_page.find("no figures (this report has no maps") != std::string::npos);
}

TEST_CASE("bad input: one line naming the file, exit 1, no page left behind") {
  TempDir dir;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream((dir.path / name).string()) << text;
    return (dir.path / name).string();
  };
  const std::string out = (dir.path / "out.html").string();
  struct Case {
    std::string file, expected;
  };
  Json truncated = default_report();
  truncated["methods"]["3"].erase("output");
  truncated["input"].erase("shape");
  Json no_shift = default_report();  // a maps block without its shift
  no_shift["methods"]["2"]["maps"].erase("shift");
  Json bad_map = default_report();  // a map cell that is not a number
  bad_map["input"]["maps"]["mean_over_n"][0][3][2] = "x";
  const std::vector<Case> cases = {
      {(dir.path / "missing.json").string(), "missing.json: cannot read"},
      {write("bad.json", "{\"schema\": "), "bad.json: invalid JSON: "},
      {write("other.json", "{\"schema\": \"bnlab.normalize/1\"}"),
       "other.json: /schema: expected \"bnlab.compare/3\", \"bnlab.compare-layers/1\" or \"bnlab.train/1\", got \"bnlab.normalize/1\""},
      {write("list.json", "[1, 2]"), "list.json: /schema: expected"},
      // Named by the JSON pointer (report_validation.hpp), before any figure reads the report.
      {write("truncated.json", truncated.dump()), "truncated.json: /input/shape: missing (this report is not complete)"},
      {write("no_shift.json", no_shift.dump()), "no_shift.json: /methods/2/maps/shift: missing (this report is not complete)"},
      {write("bad_map.json", bad_map.dump()), "bad_map.json: /input/maps/mean_over_n/0/3/2: expected a number, got \"x\""},
      {write("truncated_output.json", [&] {
         Json j = default_report();
         j["methods"]["3"].erase("output");
         return j.dump();
       }()),
       "truncated_output.json: not a complete bnlab.compare/3 report: "},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const Run r = run(std::string(BNLAB_BINARY) + " render " + c.file + " --html " + out);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("bnlab: ") == 0);
    CHECK(r.err.find(c.expected) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(out));
  }
  // An --html path in a missing directory is refused before any computation.
  const Run r = run(std::string(BNLAB_BINARY) + " compare --html " + (dir.path / "no/such/dir/r.html").string());
  CHECK(r.code == 1);
  CHECK(r.err.find("--html") != std::string::npos);
}

// The plot layer's meter (the audit page's bars): the bar's width is the
// fraction of the track, clamped, NaN drawn empty; red only when alarmed;
// the tick at the mark; nothing fetched.
TEST_CASE("meter: clamped bar, the alarm colour, the tick at the mark") {
  auto bar_width = [](const std::string& svg) {
    const std::size_t second = svg.find("<rect", svg.find("<rect") + 1);
    const std::size_t at = svg.find("width=\"", second) + 7;
    return std::stod(svg.substr(at, svg.find('"', at) - at));
  };
  CHECK(bar_width(bnlab::html::meter(0.5, 1.0 / 3, false, 120)) == 60);
  CHECK(bar_width(bnlab::html::meter(7.0, 1.0 / 3, true, 120)) == 120);
  CHECK(bar_width(bnlab::html::meter(-1.0, 1.0 / 3, false, 120)) == 0);
  CHECK(bar_width(bnlab::html::meter(std::nan(""), 1.0 / 3, false, 120)) == 0);
  CHECK(bnlab::html::meter(2.0, 0.5, true).find("#c0392b") != std::string::npos);
  CHECK(bnlab::html::meter(0.2, 0.5, false).find("#c0392b") == std::string::npos);
  CHECK(bnlab::html::meter(0.2, 0.5, false).find("x1=\"60.0\"") != std::string::npos);
  CHECK(bnlab::html::meter(0.2, 0.5, false).find("http") == std::string::npos);
}
