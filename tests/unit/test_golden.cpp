// Regression: every config in configs/ regenerates the report pinned in
// tests/golden/ (scripts/update-golden writes them). Numbers must agree to
// rtol 1e-6 and the structure exactly; on this machine kind they are
// bit-identical, the tolerance only absorbs a different CPU's libm.
#include <catch2/catch.hpp>

#include <filesystem>

#include "bnlab/report/compare.hpp"
#include "bnlab/check/report_check.hpp"

namespace fs = std::filesystem;
using namespace bnlab;

TEST_CASE("every shipped config reproduces its golden report") {
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator("configs")) {
    if (entry.path().extension() != ".json") continue;
    std::string name = entry.path().stem().string();
    fs::path golden = fs::path("tests/golden") / (name + ".json");
    INFO("config " << entry.path().string() << " vs " << golden.string());
    REQUIRE(fs::exists(golden));
    nlohmann::json report = nlohmann::json::parse(run_compare(load_compare_config(entry.path().string())).dump());
    std::size_t numbers = 0;
    auto differences = compare_reports(read_json_file(golden.string()), report, 1e-6, 1e-12, &numbers);
    for (const auto& d : differences) UNSCOPED_INFO(d.path << ": " << d.description);
    CHECK(differences.empty());
    CHECK(numbers > 100);
    ++checked;
  }
  CHECK(checked >= 4);
}
