#include "bnlab/audit/findings.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "bnlab/core/number.hpp"

namespace bnlab::audit {

const std::vector<FindingRule>& finding_rules() {
  static const std::vector<FindingRule> rules = {
      // 10%: the eval-mode output is visibly another function of the input than the one trained
      // (Wu & Johnson 2021 report accuracy losses from gaps of this size); a healthy layer's gap is
      // the batch noise of the running estimate, about 1/sqrt(values per statistic).
      {"stale_running_stats", "eval_train_gap", ">", 0.1,
       "eval-mode output (running statistics) differs from train-mode output (batch statistics) by more than this "
       "(relative L2)",
       "recalibrate with >= {} images"},
      // A batch mean off by 10% of the channel's std at one standard error: the normalization the network
      // trains on jitters by that much from batch to batch.
      {"few_values_per_statistic", "batch_mean_standard_error", ">", 0.1,
       "the batch's channel mean has a standard error above this many batch std (median channel)",
       "batch >= {} or GroupNorm"},
      // A variance below 1% of eps: the normalization divides by about sqrt(eps), the channel is a constant.
      {"dead_channels", "variance_over_eps", "<", 0.01,
       "a channel whose batch or running variance is below this fraction of eps (it carries nothing)",
       "{} dead channel(s): check what feeds them"},
      {"zero_gamma_channels", "abs_gamma", "<=", 1e-6, "a channel whose weight (gamma) is at most this in magnitude",
       "{} channel(s) output their bias only"},
      {"not_batch_norm", "kind", "", std::numeric_limits<double>::quiet_NaN(),
       "GroupNorm, LayerNorm or InstanceNorm2d: reported, no running statistics to judge",
       "no running statistics, nothing to recalibrate"},
  };
  return rules;
}

const FindingRule& finding_rule(const std::string& id) {
  for (const FindingRule& rule : finding_rules()) {
    if (rule.id == id) return rule;
  }
  throw std::out_of_range("no audit finding " + id);
}

double stale_gap_threshold() { return finding_rule("stale_running_stats").threshold; }
double noisy_mean_threshold() { return finding_rule("few_values_per_statistic").threshold; }
double dead_variance_fraction_of_eps() { return finding_rule("dead_channels").threshold; }
double zero_gamma_threshold() { return finding_rule("zero_gamma_channels").threshold; }

std::string advice_text(const std::string& id, const std::string& number) {
  std::string text = finding_rule(id).advice;
  if (const std::size_t at = text.find("{}"); at != std::string::npos) text.replace(at, 2, number);
  return text;
}

std::string findings_help() {
  std::ostringstream out;
  out << "Findings (layers.<name>.findings; an empty list means healthy):\n";
  for (const FindingRule& rule : finding_rules()) {
    out << "  " << rule.id;
    for (std::size_t i = std::string(rule.id).size(); i < 26; ++i) out << ' ';
    if (!std::isnan(rule.threshold)) out << rule.measure << " " << rule.comparison << " " << significant(rule.threshold, 6) << ": ";
    out << rule.meaning << " (advice: " << advice_text(rule.id, "N") << ")\n";
  }
  return out.str();
}

}  // namespace bnlab::audit
