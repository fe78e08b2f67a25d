#pragma once
// `bnlab audit DUMP.npz`: are a trained network's BatchNorm layers healthy?
// From one dump (audit/dump.hpp), per layer in the file's order: the batch's
// statistics against the running ones, how precise the batch statistics are,
// how many images recalibration needs, dead and zero-gamma channels, and the
// findings of audit/findings.hpp.
//
// Report (schema bnlab.audit/1), keys in this order:
//   schema, input: {path, layers},
//   findings: [{id, measure, comparison, threshold, meaning}]   (the rule table)
//   layers: {NAME: {name, kind, shape, batch, values_per_statistic, has_running_statistics,
//            eps, momentum, findings: [ID...], advice: [TEXT...], notes: [TEXT...],
//            eval_train_gap, mean_shift_max_abs, std_ratio_min, std_ratio_max,
//            batch_mean_standard_error, batch_var_relative_standard_error,
//            batch_for_1pct_mean, batch_for_1pct_var, precise_bn_images, recommended_batch,
//            dead_channels: [c...], zero_gamma_channels: [c...],
//            channels: {batch_mean, batch_var, running_mean, running_var, mean_shift, std_ratio,
//                       mean_standard_error, var_relative_standard_error}}}
//            (the numbers of a GroupNorm/LayerNorm/InstanceNorm2d layer are absent)
//   summary: {layers, healthy, layers_with: {ID: [NAME...]}, text}
// A number that cannot be measured (N = 1, no running statistics) is null.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/audit/dump.hpp"
#include "bnlab/audit/layer_statistics.hpp"

namespace bnlab::audit {

inline constexpr const char* kAuditSchema = "bnlab.audit/1";

struct LayerAudit {
  DumpLayer layer;
  std::optional<LayerStatistics> statistics;  // BatchNorm2d layers only
  std::vector<std::string> findings, advice, notes;
  // Across the layer's live channels (not dead): medians of the standard errors and batch sizes,
  // the largest image count and mean shift, the range of std ratios.
  double batch_mean_standard_error = 0, batch_var_relative_standard_error = 0;
  double batch_for_1pct_mean = 0, batch_for_1pct_var = 0, precise_bn_images = 0, recommended_batch = 0;
  double mean_shift_max_abs = 0, std_ratio_min = 0, std_ratio_max = 0;
  std::vector<std::size_t> dead_channels, zero_gamma_channels;
};

struct AuditResult {
  std::string path;
  std::vector<LayerAudit> layers;  // in the dump's order
};

// Reads and audits the dump at `path` (errors: read_dump's).
AuditResult run_audit(const std::string& path);

nlohmann::ordered_json to_json(const AuditResult& result);

// One row per layer, the worst first, with the advice.
std::string format_audit_table(const AuditResult& result);

// L.running_mean and L.running_var of every layer with running statistics, recomputed
// from the dump: population statistics over all dumped samples, the variance unbiased
// as PyTorch stores it; for model.load_state_dict(..., strict=False).
std::vector<std::pair<std::string, Array<float>>> recalibrated_statistics(const AuditResult& result);

}  // namespace bnlab::audit
