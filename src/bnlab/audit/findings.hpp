#pragma once
// The findings of `bnlab audit`: fixed ids, each with the measure it judges
// and its threshold. One table that the JSON report, the terminal table and
// `bnlab audit --help` all read (docs/audit.md explains each row).
#include <string>
#include <vector>

namespace bnlab::audit {

struct FindingRule {
  const char* id;
  const char* measure;  // the layer's JSON key (or what it counts) that is judged
  const char* comparison;  // how the measure meets the threshold for the finding: ">", "<" or "<="
  double threshold;        // NaN: not a threshold finding
  const char* meaning;  // one line, for --help and the report
  const char* advice;   // what to do; "{}" stands for the layer's number (advice_text)
};

// In report order: stale_running_stats, few_values_per_statistic,
// dead_channels, zero_gamma_channels, not_batch_norm.
const std::vector<FindingRule>& finding_rules();

// The rule of `id` (throws std::out_of_range for an unknown id: a bug).
const FindingRule& finding_rule(const std::string& id);

// The thresholds by name, for the code that judges (the same numbers as the table).
double stale_gap_threshold();          // eval/train relative L2 difference
double noisy_mean_threshold();         // standard error of the batch mean, in batch std
double dead_variance_fraction_of_eps(); // variance below this fraction of eps: dead
double zero_gamma_threshold();         // |gamma| at or below it: zero

// The advice of rule `id` with "{}" replaced by `number` (e.g. "recalibrate with >= 107 images").
std::string advice_text(const std::string& id, const std::string& number);

// "  stale_running_stats        eval_train_gap > 0.1: ...", one line per rule, for --help.
std::string findings_help();

}  // namespace bnlab::audit
