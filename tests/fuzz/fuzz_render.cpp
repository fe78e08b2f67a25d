// libFuzzer target: a saved report, as `bnlab render` reads it (the strict
// JSON reader, then the validation and every figure), drawn as a page.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bnlab/core/error.hpp"
#include "bnlab/io/json_text.hpp"
#include "bnlab/report/html/html_report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const nlohmann::ordered_json report = bnlab::parse_json_text<nlohmann::ordered_json>(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz/report.json");
    (void)bnlab::html::render_report_html(report, "fuzz/report.json");
  } catch (const bnlab::Error&) {
  }
  return 0;
}
