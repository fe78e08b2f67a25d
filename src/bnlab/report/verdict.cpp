#include "bnlab/report/verdict.hpp"

#include <cmath>
#include <optional>

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;

// Tolerances. A property that holds mathematically measures at float rounding
// (about 1e-7 relative); one that fails measures at 1e-2 or far more on any
// tensor with structure, so these thresholds sit in a wide empty gap.
constexpr double kInvarianceTolerance = 1e-4;       // relative L2 error
constexpr double kStandardizationTolerance = 1e-3;  // |channel mean|, |channel var - 1|
constexpr double kNoiseTolerance = 0.1;             // relative std error of a variance estimate

std::optional<double> number_at(const Json& block, const Json::json_pointer& pointer) {
  if (!block.contains(pointer)) return std::nullopt;
  const Json& v = block.at(pointer);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

// The measured value of a property for one method (nullopt: not measurable).
// Every value is "smaller is better" except other_spatial_size (a bool).
std::optional<double> measured(const std::string& key, const Json& m) {
  using P = Json::json_pointer;
  if (key == "channel_standardized") {
    auto mean = number_at(m, P("/channel_standardization/max_abs_mean"));
    auto var = number_at(m, P("/channel_standardization/max_abs_var_minus_one"));
    if (!mean || !var) return std::nullopt;
    return std::max(*mean, *var);
  }
  if (key == "per_sample_shift") {
    auto err = number_at(m, P("/invariance/per_sample_shift/rel_error"));
    auto leak = number_at(m, P("/invariance/per_sample_shift/leakage"));
    if (!err || !leak) return std::nullopt;
    return std::max(*err, *leak);
  }
  if (key == "other_spatial_size") {
    if (!m.contains(P("/invariance/other_spatial_size/applicable"))) return std::nullopt;
    return m.at(P("/invariance/other_spatial_size/applicable")).get<bool>() ? 1.0 : 0.0;
  }
  if (key == "well_estimated") {
    // Relative standard error of a variance estimated from m Gaussian values:
    // sqrt(2 / (m - 1)) (the estimate is sigma^2 * chi2_{m-1} / (m-1)).
    auto count = number_at(m, P("/elements_per_statistic"));
    if (!count || *count < 2) return std::nullopt;
    return std::sqrt(2.0 / (*count - 1.0));
  }
  return number_at(m, P("/invariance/" + key + "/rel_error"));
}

bool judge(const std::string& key, double value) {
  if (key == "other_spatial_size") return value == 1.0;
  if (key == "channel_standardized") return value <= kStandardizationTolerance;
  if (key == "well_estimated") return value <= kNoiseTolerance;
  return value <= kInvarianceTolerance;
}

std::string method_name(const std::string& id) {
  return (id == "1" || id == "2" || id == "3") ? "Method " + id : id;
}

std::string join(const std::vector<std::string>& items, const std::string& last_sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += (i + 1 == items.size()) ? last_sep : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

const std::vector<PropertyRule>& property_rules() {
  static const std::vector<PropertyRule> rules = {
      {"channel_standardized", "every channel's output has mean 0 and variance 1 (gamma = 1, beta = 0)",
       "channel mean 0 and var 1", "max over channels of |mean| and |var - 1|", "value <= 1e-3"},
      {"per_sample_shift",
       "circularly shifting one sample shifts its output the same way and leaves the other samples' outputs unchanged",
       "per-sample shift", "max of rel_error and leakage over the shifts", "value <= 1e-4"},
      {"global_shift_uniform_params", "shifting every sample shifts the output (train mode, gamma = 1, beta = 0)",
       "global shift (uniform params)", "relative L2 error, max over the shifts", "value <= 1e-4"},
      {"global_shift", "shifting every sample shifts the output (train mode, trained-like gamma, beta)",
       "global shift (trained params)", "relative L2 error, max over the shifts", "value <= 1e-4"},
      {"eval_shift", "shifting every sample shifts the output in eval mode (fixed statistics)",
       "eval-mode shift", "relative L2 error, max over the shifts", "value <= 1e-4"},
      {"channel_rescale", "the output is unchanged when a channel is multiplied by a > 0 and offset (a conv filter rescaled)",
       "channel rescaling", "relative L2 error", "value <= 1e-4"},
      {"other_spatial_size", "the eval-mode transform learned at H x W applies at another H x W",
       "another H x W in eval mode", "1 if applicable, else 0", "value = 1"},
      {"well_estimated", "each statistic pools enough values: the variance estimate's relative std error sqrt(2/(m-1)) is small",
       "enough values per statistic", "sqrt(2 / (m - 1)), m = elements per statistic", "value <= 0.1 (m >= 201)"},
  };
  return rules;
}

Json build_verdict(const Json& methods, const std::vector<std::string>& ids) {
  Json properties = Json::object();
  std::vector<std::vector<std::string>> lacks(ids.size());  // per method, short names of failed properties
  for (const PropertyRule& rule : property_rules()) {
    Json holds = Json::object(), values = Json::object();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const Json& m = methods.at(ids[i]);
      std::optional<double> value = m.value("degenerate", false) ? std::nullopt : measured(rule.key, m);
      bool ok = value && judge(rule.key, *value);
      holds[ids[i]] = ok;
      values[ids[i]] = value ? Json(*value) : Json(nullptr);
      if (!ok) lacks[i].push_back(rule.short_name);
    }
    properties[rule.key] = {{"description", rule.description}, {"measure", rule.measure},
                            {"criterion", rule.criterion}, {"holds", holds}, {"values", values}};
  }

  // The summary: candidates (1, 2, 3) first, then the reference points.
  std::vector<std::string> complete, candidates_complete, sentences;
  std::vector<std::string> candidate_lacks, reference_parts;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    bool candidate = ids[i] == "1" || ids[i] == "2" || ids[i] == "3";
    const Json& m = methods.at(ids[i]);
    if (lacks[i].empty()) {
      complete.push_back(ids[i]);
      if (candidate) candidates_complete.push_back(method_name(ids[i]));
      else reference_parts.push_back(method_name(ids[i]) + " has every property");
      continue;
    }
    std::string part = m.value("degenerate", false)
                           ? method_name(ids[i]) + " is degenerate here (" +
                                 std::to_string(m.value("elements_per_statistic", 0)) + " value per statistic)"
                           : method_name(ids[i]) + " lacks " + join(lacks[i], " and ");
    (candidate ? candidate_lacks : reference_parts).push_back(part);
  }
  std::size_t n_props = property_rules().size();
  std::size_t n_candidates = 0;
  for (const auto& id : ids) n_candidates += (id == "1" || id == "2" || id == "3");
  if (n_candidates > 0) {
    if (candidates_complete.size() == 1 && n_candidates > 1) {
      sentences.push_back("Of the candidate methods, only " + candidates_complete[0] + " has all " +
                          std::to_string(n_props) + " properties measured here");
    } else if (candidates_complete.empty()) {
      sentences.push_back("No candidate method has all " + std::to_string(n_props) + " properties on this input");
    } else {
      sentences.push_back(join(candidates_complete, " and ") + (candidates_complete.size() == 1 ? " has" : " have") +
                          " all " + std::to_string(n_props) + " properties measured here");
    }
    if (!candidate_lacks.empty()) sentences.back() += ": " + join(candidate_lacks, "; ");
    sentences.back() += ".";
  }
  if (!reference_parts.empty()) sentences.push_back("Reference points: " + join(reference_parts, "; ") + ".");
  std::string summary;
  for (const auto& s : sentences) summary += (summary.empty() ? "" : " ") + s;

  Json verdict;
  verdict["note"] =
      "Each property is judged from its measured value against the stated criterion. Invariances and channel "
      "standardization are measured with eps = 0 (see invariance.eps_used) so that they test the choice of axes alone.";
  verdict["properties"] = properties;
  verdict["methods_with_every_property"] = complete;
  verdict["summary"] = summary;
  return verdict;
}

}  // namespace bnlab
