// libFuzzer target: the compare config loader on arbitrary text, then the
// effective configuration it would write into a report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "bnlab/core/error.hpp"
#include "bnlab/report/compare_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    bnlab::CompareConfig config =
        bnlab::parse_compare_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz/config.json");
    (void)bnlab::to_json(config).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } catch (const bnlab::Error&) {
  }
  return 0;
}
