// libFuzzer target: the report comparer (`bnlab check`). The input is split
// at its first newline into a golden and a report document (JSON text may
// hold newlines, so any split is reachable); both are parsed strictly, then
// compared and the differences formatted.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bnlab/check/report_check.hpp"
#include "bnlab/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t split = text.find('\n');
  const std::string_view golden_text = text.substr(0, split);
  const std::string_view report_text = split == std::string_view::npos ? text : text.substr(split + 1);
  try {
    nlohmann::json golden = bnlab::parse_report_text(golden_text, "golden.json");
    nlohmann::json report = bnlab::parse_report_text(report_text, "report.json");
    std::size_t numbers = 0;
    auto differences = bnlab::compare_reports(golden, report, 1e-6, 1e-12, &numbers);
    (void)bnlab::format_check(differences, numbers, 1e-6, 1e-12);
  } catch (const bnlab::Error&) {
  }
  return 0;
}
