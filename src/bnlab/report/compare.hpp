#pragma once
// `bnlab compare` as a library call: load or synthesize the input, run every
// probe for every requested method, and judge each property of DESIGN.md §2.
// The report is deterministic: same config and input, same bytes, whatever the
// thread count (it holds no timings, no absolute paths it was not given).
#include <nlohmann/json.hpp>

#include "bnlab/report/compare_config.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab {

inline constexpr const char* kCompareSchema = "bnlab.compare/1";

// The input tensor of a config: (N, C, H, W), read from the .npy file or synthesized.
Array<float> load_compare_input(const CompareConfig& config);

// The full report (schema bnlab.compare/1) for a config and its input.
nlohmann::ordered_json build_compare_report(const CompareConfig& config, const Array<float>& x);

// load_compare_input + build_compare_report.
nlohmann::ordered_json run_compare(const CompareConfig& config);

}  // namespace bnlab
