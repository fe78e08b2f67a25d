#include "bnlab/report/verdict.hpp"

#include <cmath>

#include "bnlab/core/number.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;

// Thresholds. A property that holds mathematically measures at float rounding
// (about 1e-7 relative); one that fails measures at 1e-2 or far more on any
// tensor with structure, so these thresholds sit in a wide empty gap.
constexpr double kInvarianceTolerance = 1e-4;       // relative L2 error
constexpr double kStandardizationTolerance = 1e-3;  // |channel mean|, |channel var - 1|
constexpr double kNoiseTolerance = 0.1;             // relative std error of a variance estimate
constexpr double kMinSampleScaleChange = 1e-2;      // relative change of a doubled sample's output
constexpr double kApplicable = 1.0;                 // a yes/no measurement: 1 yes, 0 no

std::optional<double> channel_standardized(const CompareMethod& m) {
  if (!m.channel_standardization) return std::nullopt;
  const Deviation& d = m.channel_standardization->deviation;
  return std::max(d.max_abs_mean, d.max_abs_var_minus_one);
}
// A value of the method's invariance probe; none when it did not run.
template <class Get>
std::optional<double> from_invariance(const CompareMethod& m, Get get) {
  if (!m.invariance) return std::nullopt;
  return get(*m.invariance);
}
std::optional<double> per_sample_shift(const CompareMethod& m) {
  return from_invariance(m, [](const InvarianceProbe& p) { return std::max(p.per_sample_rel_error, p.per_sample_leakage); });
}
std::optional<double> global_shift_uniform_params(const CompareMethod& m) {
  return from_invariance(m, [](const InvarianceProbe& p) { return p.global_shift_uniform_params; });
}
std::optional<double> global_shift(const CompareMethod& m) {
  return from_invariance(m, [](const InvarianceProbe& p) { return p.global_shift; });
}
std::optional<double> eval_shift(const CompareMethod& m) {
  return from_invariance(m, [](const InvarianceProbe& p) { return p.eval_shift; });
}
std::optional<double> channel_rescale(const CompareMethod& m) {
  return from_invariance(m, [](const InvarianceProbe& p) { return p.channel_rescale; });
}
std::optional<double> other_spatial_size(const CompareMethod& m) {
  return from_invariance(m, [](const InvarianceProbe& p) { return p.other_spatial_size ? 1.0 : 0.0; });
}
// Relative standard error of a variance estimated from m Gaussian values:
// sqrt(2 / (m - 1)) (the estimate is sigma^2 * chi2_{m-1} / (m-1)).
std::optional<double> well_estimated(const CompareMethod& m) {
  const double count = double(m.plan.elements_per_stat);
  if (m.degenerate || count < 2) return std::nullopt;
  return std::sqrt(2.0 / (count - 1.0));
}
std::optional<double> sample_scale_kept(const CompareMethod& m) {
  if (!m.samples) return std::nullopt;
  return m.samples->sample_scale_rel_change;
}
std::optional<double> batch_independent(const CompareMethod& m) {
  if (!m.samples) return std::nullopt;
  return m.samples->batch_independent_rel_error;
}

// A NaN (a non-finite measurement) is "not measurable".
std::optional<double> finite_or_none(std::optional<double> v) {
  if (v && !std::isfinite(*v)) return std::nullopt;
  return v;
}

// "a, b and c" with join(items, " and "); "a; b; c" with join(items, "; ", "; ").
std::string join(const std::vector<std::string>& items, const std::string& last_sep, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += (i + 1 == items.size()) ? last_sep : sep;
    out += items[i];
  }
  return out;
}

// 1e-4 -> "1e-4", 0.1 -> "0.1", 1 -> "1".
std::string short_number(double v) {
  if (v != 0 && std::abs(v) < 1e-2) {
    std::string text = scientific(v, 0);  // "1e-04"
    std::size_t e = text.find("e-0");
    if (e != std::string::npos) text.erase(e + 2, 1);
    return text;
  }
  return significant(v, 6);
}

}  // namespace

std::string Property::criterion() const {
  if (yes_no) return "value = 1";
  return std::string("value ") + (comparison == Comparison::at_most ? "<= " : ">= ") + short_number(threshold);
}

std::string Property::short_criterion() const {
  if (yes_no) return "= yes";
  return std::string(comparison == Comparison::at_most ? "<= " : ">= ") + short_number(threshold);
}

bool Property::holds(const std::optional<double>& v) const {
  if (!v) return false;
  return comparison == Comparison::at_most ? *v <= threshold : *v >= threshold;
}

const std::vector<Property>& properties() {
  using C = Comparison;
  using G = PropertyGroup;
  static const std::vector<Property> rows = {
      {"channel_standardized", "channels standardized",
       "each channel of the output has mean 0 and variance 1 (elements of constant statistics left out)",
       "every non-constant channel's output has mean 0 and variance 1 (gamma = 1, beta = 0)",
       "max over non-constant channels of |mean| and |var - 1|, at eps = channel_standardization.eps",
       C::at_most, kStandardizationTolerance, G::question, false, channel_standardized},
      {"per_sample_shift", "per-sample shift",
       "shifting one image shifts its output and leaves the other images' outputs alone",
       "circularly shifting one sample shifts its output the same way and leaves the other samples' outputs unchanged",
       "max of rel_error and leakage, each the max over the shifts", C::at_most, kInvarianceTolerance, G::question, false,
       per_sample_shift},
      {"global_shift_uniform_params", "shift (unit gamma/beta)",
       "shifting every image shifts the output (train mode, no learned scale or bias)",
       "shifting every sample shifts the output (train mode, gamma = 1, beta = 0)",
       "relative L2 error, max over the shifts", C::at_most, kInvarianceTolerance, G::question, false,
       global_shift_uniform_params},
      {"global_shift", "shift (learned gamma/beta)",
       "the same with trained-like gamma and beta that vary along every parameter axis",
       "shifting every sample shifts the output (train mode, trained-like gamma, beta)",
       "relative L2 error, max over the shifts", C::at_most, kInvarianceTolerance, G::question, false, global_shift},
      {"eval_shift", "shift in eval mode",
       "the same at inference, with the running statistics fixed",
       "shifting every sample shifts the output in eval mode (fixed statistics)",
       "relative L2 error, max over the shifts", C::at_most, kInvarianceTolerance, G::question, false, eval_shift},
      {"channel_rescale", "channel rescaling",
       "multiplying one channel by a > 0 and adding an offset (a rescaled conv filter) changes nothing",
       "the output is unchanged when a channel is multiplied by a > 0 and offset (a conv filter rescaled)",
       "relative L2 error", C::at_most, kInvarianceTolerance, G::question, false, channel_rescale},
      {"other_spatial_size", "another H x W at eval",
       "what it stores for inference has no H or W axis, so it runs on images of another size",
       "the eval-mode transform learned at H x W applies at another H x W", "1 if applicable, else 0",
       C::at_least, kApplicable, G::question, true, other_spatial_size},
      {"well_estimated", "enough values per stat",
       "each mean/variance pools >= 201 values (its variance estimate is within ~10%)",
       "each statistic pools enough values: the variance estimate's relative std error sqrt(2/(m-1)) is small",
       "sqrt(2 / (m - 1)), m = elements per statistic", C::at_most, kNoiseTolerance, G::question, false, well_estimated},
      {"sample_scale_kept", "sample scale kept",
       "doubling one image changes its output: differences between images survive (in, ln, gn erase them)",
       "one sample's overall scale survives normalization: doubling sample 0 changes its output",
       "relative L2 change of sample 0's output when sample 0 is doubled", C::at_least, kMinSampleScaleChange,
       G::question, false, sample_scale_kept},
      {"batch_independent", "works without a batch",
       "an image normalized alone, in a batch of one, gives the same output as inside the batch",
       "a sample's train-mode output does not depend on the other samples: normalized alone (a batch of one) it "
       "is the same",
       "relative L2 error of sample 0 normalized alone against normalized in the batch", C::at_most,
       kInvarianceTolerance, G::trade_off, false, batch_independent},
  };
  return rows;
}

Verdict judge_methods(const std::vector<CompareMethod>& methods) {
  Verdict verdict;
  std::vector<std::vector<std::string>> lacks(methods.size());  // per method, question properties it lacks
  std::size_t n_question = 0;
  for (const Property& property : properties()) {
    PropertyJudgement judgement;
    judgement.property = &property;
    for (std::size_t i = 0; i < methods.size(); ++i) {
      const CompareMethod& m = methods[i];
      std::optional<double> value = m.degenerate ? std::nullopt : finite_or_none(property.value(m));
      judgement.values.push_back(value);
      judgement.holds.push_back(property.holds(value));
      if (property.group == PropertyGroup::question && !judgement.holds.back()) lacks[i].push_back(property.label);
    }
    n_question += property.group == PropertyGroup::question;
    verdict.judgements.push_back(std::move(judgement));
  }

  // The question: the candidates (Methods 1, 2, 3) first.
  std::vector<std::string> candidates, candidates_complete, candidate_lacks, reference_parts;
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const Method& method = methods[i].method;
    const bool candidate = method.role == MethodRole::candidate;
    if (lacks[i].empty()) verdict.with_every_property.push_back(method.id);
    if (candidate) candidates.push_back(method.id);
    std::string part;
    if (methods[i].degenerate) {
      part = method.name + " is degenerate here (" + std::to_string(methods[i].plan.elements_per_stat) +
             " value per statistic)";
    } else if (lacks[i].empty()) {
      if (candidate) candidates_complete.push_back(method.name);
      else part = method.name + " has every property";
    } else {
      part = method.name + " lacks " + join(lacks[i], " and ");
    }
    if (!part.empty()) (candidate ? candidate_lacks : reference_parts).push_back(part);
  }
  std::vector<std::string> sentences;
  const std::string all_n = "all " + std::to_string(n_question) + " properties measured here";
  if (!candidates.empty()) {
    std::string s;
    if (candidates_complete.size() == 1 && candidates.size() > 1) {
      s = "Of the candidate methods (Methods " + join(candidates, " and ") + "), only " + candidates_complete[0] + " has " + all_n;
    } else if (candidates_complete.empty()) {
      s = "No candidate method has " + all_n;
    } else {
      s = join(candidates_complete, " and ") + (candidates_complete.size() == 1 ? " has " : " have ") + all_n;
    }
    if (!candidate_lacks.empty()) s += ": " + join(candidate_lacks, "; ", "; ");
    sentences.push_back(s + ".");
  }
  if (!reference_parts.empty()) {
    sentences.push_back("Reference points (per-sample normalizations, not candidates for batch normalization): " +
                        join(reference_parts, "; ", "; ") + ".");
  }

  // The trade-offs, stated both ways.
  for (const PropertyJudgement& j : verdict.judgements) {
    if (j.property->group != PropertyGroup::trade_off) continue;
    std::vector<std::string> have, lack;
    for (std::size_t i = 0; i < methods.size(); ++i) (j.holds[i] ? have : lack).push_back(methods[i].method.name);
    if (have.empty() || lack.empty()) continue;
    const Property& p = *j.property;
    sentences.push_back("Trade-off, not part of the verdict above: " + std::string(p.label) + " (" + p.legend +
                        "): yes for " + join(have, " and ") + ", no for " + join(lack, " and ") + ".");
  }

  // Constant statistics: a fact about the input, left out of every judgement.
  std::vector<std::string> constant_parts;
  for (const CompareMethod& m : methods) {
    if (m.constant_statistics == 0) continue;
    constant_parts.push_back(std::to_string(m.constant_statistics) + " of " + std::to_string(m.plan.num_stats) +
                             " for " + m.method.name);
  }
  sentences.push_back(constant_parts.empty()
                          ? std::string("No statistic of the input is constant.")
                          : "Constant statistics of the input (zero variance, e.g. a dead channel), left out of "
                            "the judgement: " + join(constant_parts, "; ", "; ") + ".");

  for (const std::string& s : sentences) verdict.summary += (verdict.summary.empty() ? "" : " ") + s;
  return verdict;
}

Json Verdict::to_json(const std::vector<CompareMethod>& methods) const {
  Json props = Json::object();
  for (const PropertyJudgement& j : judgements) {
    Json holds = Json::object(), values = Json::object();
    for (std::size_t i = 0; i < methods.size(); ++i) {
      holds[methods[i].method.id] = bool(j.holds[i]);
      values[methods[i].method.id] = j.values[i] ? Json(*j.values[i]) : Json(nullptr);
    }
    const Property& p = *j.property;
    props[p.key] = {{"group", p.group == PropertyGroup::question ? "question" : "trade_off"},
                    {"label", p.label},
                    {"description", p.description},
                    {"measure", p.measure},
                    {"criterion", p.criterion()},
                    {"holds", holds},
                    {"values", values}};
  }
  Json constant = Json::object();
  for (const CompareMethod& m : methods) constant[m.method.id] = m.constant_statistics;
  Json out;
  out["note"] =
      "Each property is judged from its measured value against the stated criterion. Invariances, channel "
      "standardization and the sample properties are measured at eps = 2.2e-308 (the smallest normal double: "
      "exactly eps = 0 for every non-constant statistic, so eps does not blur the choice of axes). Statistics of "
      "the input that are constant are a fact about the input: they are left out and counted in "
      "constant_statistics. Group \"question\": the properties the candidates (Methods 1, 2, 3) are judged on; "
      "\"trade_off\": what the per-sample references gain.";
  out["properties"] = props;
  out["methods_with_every_property"] = with_every_property;
  out["constant_statistics"] = constant;
  out["summary"] = summary;
  return out;
}

}  // namespace bnlab
