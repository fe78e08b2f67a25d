#pragma once
// `bnlab compare` as a library call: load or synthesize the input, run every
// probe for every requested method, and judge each property (verdict.hpp).
// The result is typed (CompareResult); to_json writes the report. The report
// is deterministic: same config and input, same bytes, whatever the thread
// count and the working directory (it holds no timings and no absolute paths).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/core/shape.hpp"
#include "bnlab/core/tensor.hpp"
#include "bnlab/core/progress.hpp"
#include "bnlab/report/compare_config.hpp"
#include "bnlab/report/compare_method.hpp"
#include "bnlab/report/verdict.hpp"

namespace bnlab {

// Version 2: constant statistics left out and counted, eps_used = 2.2e-308,
// the sample properties (sample_scale_kept, batch_independent), property groups,
// input paths as written in the config. Version 3: the maps of the HTML
// figures 3 to 5 (input.maps, methods.ID.maps).
inline constexpr const char* kCompareSchema = "bnlab.compare/3";

// The question a compare report answers, without its question mark: a
// layers report (compare_layers.hpp) asks it of every layer of a network.
inline constexpr const char* kCompareQuestion =
    "Over which axes should batch normalization of an (N, C, H, W) feature map take its mean and variance";

// Said (a note on stderr, "notes" of the report's input block, a line under
// the table's verdict) when the input is a batch of one.
inline constexpr const char* kBatchOfOneNote =
    "N = 1: a batch of one sample; the statistics over N (Methods 1, 2, 3) see a single sample, so what they "
    "measure here is not what they do on a training batch (Method 2's are undefined); give a batch (N >= 2) "
    "for the batch methods' properties";

// What the input looks like before any normalization.
struct InputSummary {
  double mean = 0, std = 0, min = 0, max = 0;
  double channel_std_min = 0, channel_std_max = 0;  // spread of per-channel stds (what Method 1 mixes)
};

struct CompareResult {
  CompareConfig config;
  Dims dims;
  InputSummary input;
  InputMaps input_maps;               // the input's side of the HTML figure 3
  std::vector<CompareMethod> methods;  // in the requested order
  Verdict verdict;
};

// The input tensor of a config: (N, C, H, W), read from the .npy file or synthesized.
Array<float> load_compare_input(const CompareConfig& config);

// Every probe for every method, and the verdict. `progress` (may be null)
// is told each probe as it starts.
CompareResult compare(const CompareConfig& config, const Array<float>& x, Progress* progress = nullptr);

// The report (schema kCompareSchema).
nlohmann::ordered_json to_json(const CompareResult& result);

// The keys a compare report (single or layers) opens with, in this order:
// schema, question, input, config.
nlohmann::ordered_json compare_report_opening(const char* schema, const std::string& question,
                                              nlohmann::ordered_json input, const CompareConfig& config);

// to_json(compare(config, x)).
nlohmann::ordered_json build_compare_report(const CompareConfig& config, const Array<float>& x);

// load_compare_input + compare / build_compare_report.
CompareResult run_compare_result(const CompareConfig& config, Progress* progress = nullptr);
nlohmann::ordered_json run_compare(const CompareConfig& config);

}  // namespace bnlab
