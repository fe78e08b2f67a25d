// The HTML report in a real browser: Debian's chromium, headless and offline,
// loads the default page, an awkward one (six methods, a dead channel) and a
// training result's page.
// A copy of each page gets a probe script (the page itself has none) that
// records, into the DOM that --dump-dom prints, every figure's rendered box and
// how many resources the page fetched; the console must stay silent; a
// screenshot at 1280 px must not be blank. scripts/test installs chromium;
// without it this test prints SKIPPED and passes (it cannot run).
#include <catch2/catch.hpp>

#include <iostream>
#include <regex>
#include <sstream>
#include <string>

#include "bnlab/report/html/html_report.hpp"
#include "bnlab/train/experiment.hpp"
#include "bnlab/train/train_report.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace testing;
using Json = nlohmann::ordered_json;

namespace {

constexpr int kWindowWidth = 1280;
// A white 1280 x 2600 screenshot is about 15 KB; the default page's is over 300 KB.
constexpr std::uintmax_t kNonBlankPngBytes = 60 * 1024;

std::string chromium_binary() {
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(candidate)) return candidate;
  return "";
}

// Headless, offline, a fresh profile: nothing but the page itself.
std::string chromium_command(const std::string& binary, const fs::path& profile, const std::string& action,
                             const fs::path& page) {
  return "timeout 120 " + binary +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
         " --disable-component-update --disable-sync --hide-scrollbars --enable-logging=stderr --v=0"
         " --user-data-dir=" +
         profile.string() + " --window-size=" + std::to_string(kWindowWidth) + ",2600 " + action + " file://" +
         page.string();
}

constexpr const char* kProbe =
    "<script>document.body.setAttribute('data-probe', "
    "'resources=' + performance.getEntriesByType('resource').length + ';' + "
    "'heatmaps=' + Array.from(document.querySelectorAll('g.heat-map')).filter(g => { "
    "const b = g.getBoundingClientRect(); return b.width > 40 && b.height > 40; }).length + '/' + "
    "document.querySelectorAll('g.heat-map').length + ';' + "
    "Array.from(document.querySelectorAll('figure')).map(f => { const s = f.querySelector('svg'); "
    "const b = (s || f).getBoundingClientRect(); "
    "return f.id + ':' + (s ? 'svg' : 'text') + ':' + Math.round(b.width) + 'x' + Math.round(b.height); "
    "}).join(';'));</script>";

struct Box {
  std::string id, kind;
  int width, height;
};

void check_in_browser(const std::string& binary, const Json& report, const std::string& name,
                      std::size_t expected_figures, bool heat_maps = true) {
  TempDir dir;
  const std::string page = bnlab::html::render_report_html(report);
  const fs::path page_path = dir.path / (name + ".html"), probe_path = dir.path / (name + "_probe.html");
  std::ofstream(page_path, std::ios::binary) << page;
  std::string probed = page;
  probed.insert(probed.rfind("</body>"), kProbe);
  std::ofstream(probe_path, std::ios::binary) << probed;

  const Run dom = run(chromium_command(binary, dir.path / "profile1", "--dump-dom", probe_path));
  INFO(name << ": chromium stderr:\n" << dom.err);
  REQUIRE(dom.code == 0);
  CHECK(dom.err.find(":CONSOLE") == std::string::npos);  // no console message at all
  std::smatch m;
  REQUIRE(std::regex_search(dom.out, m, std::regex("data-probe=\"([^\"]*)\"")));
  const std::string probe = m[1];
  INFO("probe: " << probe);
  CHECK(probe.rfind("resources=0;", 0) == 0);  // nothing fetched: the page is self-contained
  // Every heat map of figures 3 to 5 is drawn with a visible box (map, axes,
  // colour bar); a training page has none.
  std::smatch heat;
  REQUIRE(std::regex_search(probe, heat, std::regex(R"(heatmaps=(\d+)/(\d+);)")));
  if (heat_maps) CHECK(std::stoi(heat[2]) > 10);
  else CHECK(std::stoi(heat[2]) == 0);
  CHECK(heat[1] == heat[2]);
  std::vector<Box> boxes;
  static const std::regex box(R"(([a-z-]+):(svg|text):(\d+)x(\d+))");
  for (auto it = std::sregex_iterator(probe.begin(), probe.end(), box); it != std::sregex_iterator(); ++it)
    boxes.push_back({(*it)[1], (*it)[2], std::stoi((*it)[3]), std::stoi((*it)[4])});
  CHECK(boxes.size() == expected_figures);
  for (const Box& b : boxes) {
    INFO(b.id);
    CHECK(b.kind == "svg");
    CHECK(b.width > 300);  // drawn, at a readable size ...
    CHECK(b.height > 150);
    CHECK(b.width <= kWindowWidth);  // ... and within the window: no sideways scrolling
  }

  const fs::path png = dir.path / (name + ".png");
  const Run shot = run(chromium_command(binary, dir.path / "profile2", "--screenshot=" + png.string(), page_path));
  REQUIRE(shot.code == 0);
  REQUIRE(fs::exists(png));
  CHECK(fs::file_size(png) > kNonBlankPngBytes);
}

}  // namespace

TEST_CASE("chromium renders the default page, an awkward one and a training page: figures drawn, console silent, nothing fetched") {
  const std::string binary = chromium_binary();
  if (binary.empty()) {
    std::cout << "SKIPPED: chromium is not installed (scripts/test installs it; apt-get install chromium)\n";
    return;
  }
  check_in_browser(binary, bnlab::run_compare(bnlab::CompareConfig{}), "default", 6);  // figures 1 to 6 (7 is the verdict table)
  check_in_browser(binary, awkward_report(), "awkward", 6);
  // The training section, from a few steps of real training on the generated stand-in.
  bnlab::train::TrainConfig train;
  train.data = "stand-in";
  train.seeds = {0, 1};
  train.train_images = 64;
  train.batch_size = 16;
  train.test_images = 64;
  train.test_batch_sizes = {32, 2};
  train.small_batch_images = 32;
  train.loss_every = 1;
  train.epochs = 1;
  train.precise_bn_images = {16, 64};
  // Three figures: the headline (eval mode, population statistics), the loss curves, the accuracy bars.
  check_in_browser(binary, bnlab::train::to_json(bnlab::train::run_experiment(train, nullptr)), "train", 3, /*heat_maps=*/false);
}
