#include "bnlab/audit/audit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "bnlab/audit/findings.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/io/notes.hpp"

namespace bnlab::audit {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double median(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

// The per-channel values of `field` over live (not dead) channels.
template <class Field>
std::vector<double> live(const LayerStatistics& stats, Field field) {
  std::vector<double> values;
  for (const ChannelStatistics& s : stats.channel) {
    if (!s.dead) values.push_back(field(s));
  }
  return values;
}

double max_of(const std::vector<double>& values) {
  double best = kNaN;
  for (double v : values) {
    if (!std::isnan(v) && (std::isnan(best) || v > best)) best = v;
  }
  return best;
}
double min_of(const std::vector<double>& values) {
  double best = kNaN;
  for (double v : values) {
    if (!std::isnan(v) && (std::isnan(best) || v < best)) best = v;
  }
  return best;
}

std::string number(double value) { return significant(value, 3); }

// A count (images, a batch size) as a whole number: "107", "12345".
std::string count(double value) { return fixed(value, 0); }

LayerAudit audit_layer(DumpLayer layer) {
  LayerAudit audit;
  audit.notes = layer.notes;
  audit.layer = std::move(layer);
  const DumpLayer& l = audit.layer;
  if (l.kind != LayerKind::batch_norm) {
    audit.findings.push_back("not_batch_norm");
    audit.advice.push_back(advice_text("not_batch_norm", ""));
    return audit;
  }
  const LayerStatistics stats = measure_layer(l);
  audit.batch_mean_standard_error = median(live(stats, [](const auto& s) { return s.mean_standard_error; }));
  audit.batch_var_relative_standard_error =
      median(live(stats, [](const auto& s) { return s.var_relative_standard_error; }));
  audit.batch_for_1pct_mean = median(live(stats, [](const auto& s) { return s.batch_for_1pct_mean; }));
  audit.batch_for_1pct_var = median(live(stats, [](const auto& s) { return s.batch_for_1pct_var; }));
  audit.precise_bn_images = max_of(live(stats, [](const auto& s) { return s.precise_bn_images; }));
  audit.mean_shift_max_abs = max_of(live(stats, [](const auto& s) { return std::abs(s.mean_shift); }));
  audit.std_ratio_min = min_of(live(stats, [](const auto& s) { return s.std_ratio; }));
  audit.std_ratio_max = max_of(live(stats, [](const auto& s) { return s.std_ratio; }));
  // The batch at which the mean's standard error reaches the threshold: SE scales as 1/sqrt(batch).
  audit.recommended_batch =
      std::ceil(static_cast<double>(stats.batch) * std::pow(audit.batch_mean_standard_error / noisy_mean_threshold(), 2));
  for (std::size_t c = 0; c < stats.channel.size(); ++c) {
    if (stats.channel[c].dead) audit.dead_channels.push_back(c);
    if (stats.channel[c].zero_gamma) audit.zero_gamma_channels.push_back(c);
  }
  const bool one_sample = stats.batch == 1;
  if (one_sample) {
    audit.notes.push_back(l.name + ": N = 1: the batch statistics of one sample are meaningless here; "
                                   "only dead and zero-gamma channels are judged");
  }
  if (!one_sample && l.running_mean && stats.eval_train_gap > stale_gap_threshold()) {
    audit.findings.push_back("stale_running_stats");
    audit.advice.push_back(advice_text("stale_running_stats", count(audit.precise_bn_images)));
  }
  if (!one_sample && audit.batch_mean_standard_error > noisy_mean_threshold()) {
    audit.findings.push_back("few_values_per_statistic");
    audit.advice.push_back(advice_text("few_values_per_statistic", count(audit.recommended_batch)));
  }
  if (!audit.dead_channels.empty()) {
    audit.findings.push_back("dead_channels");
    audit.advice.push_back(advice_text("dead_channels", std::to_string(audit.dead_channels.size())));
  }
  if (!audit.zero_gamma_channels.empty()) {
    audit.findings.push_back("zero_gamma_channels");
    audit.advice.push_back(advice_text("zero_gamma_channels", std::to_string(audit.zero_gamma_channels.size())));
  }
  audit.statistics = stats;
  return audit;
}

// NaN and infinity as null (JSON has neither).
nlohmann::ordered_json num(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

template <class Field>
nlohmann::ordered_json per_channel(const LayerStatistics& stats, Field field) {
  nlohmann::ordered_json values = nlohmann::ordered_json::array();
  for (const ChannelStatistics& s : stats.channel) values.push_back(num(field(s)));
  return values;
}

nlohmann::ordered_json to_json(const LayerAudit& audit) {
  const DumpLayer& l = audit.layer;
  nlohmann::ordered_json j;
  j["name"] = l.name;
  j["kind"] = to_string(l.kind);
  j["shape"] = shape_of(l.input);
  j["batch"] = l.input.dimension() > 0 ? l.input.shape()[0] : 0;
  j["has_running_statistics"] = l.running_mean.has_value();
  j["eps"] = l.eps;
  j["momentum"] = l.momentum ? num(*l.momentum) : nlohmann::ordered_json(nullptr);
  j["findings"] = audit.findings;
  j["advice"] = audit.advice;
  j["notes"] = audit.notes;
  if (!audit.statistics) return j;
  const LayerStatistics& stats = *audit.statistics;
  const bool judged = stats.batch > 1;  // N = 1: the sample statistics below are not measurable
  j["values_per_statistic"] = stats.values_per_statistic;
  j["eval_train_gap"] = num(stats.eval_train_gap);
  j["mean_shift_max_abs"] = num(audit.mean_shift_max_abs);
  j["std_ratio_min"] = num(audit.std_ratio_min);
  j["std_ratio_max"] = num(audit.std_ratio_max);
  j["batch_mean_standard_error"] = num(audit.batch_mean_standard_error);
  j["batch_var_relative_standard_error"] = num(audit.batch_var_relative_standard_error);
  j["batch_for_1pct_mean"] = judged ? num(audit.batch_for_1pct_mean) : nullptr;
  j["batch_for_1pct_var"] = judged ? num(audit.batch_for_1pct_var) : nullptr;
  j["precise_bn_images"] = judged ? num(audit.precise_bn_images) : nullptr;
  j["recommended_batch"] = judged ? num(audit.recommended_batch) : nullptr;
  j["dead_channels"] = audit.dead_channels;
  j["zero_gamma_channels"] = audit.zero_gamma_channels;
  nlohmann::ordered_json& channels = j["channels"];
  channels["batch_mean"] = per_channel(stats, [](const auto& s) { return s.batch_mean; });
  channels["batch_var"] = per_channel(stats, [](const auto& s) { return s.batch_var; });
  channels["running_mean"] = l.running_mean ? nlohmann::ordered_json(*l.running_mean) : nullptr;
  channels["running_var"] = l.running_var ? nlohmann::ordered_json(*l.running_var) : nullptr;
  channels["mean_shift"] = per_channel(stats, [](const auto& s) { return s.mean_shift; });
  channels["std_ratio"] = per_channel(stats, [](const auto& s) { return s.std_ratio; });
  channels["mean_standard_error"] = per_channel(stats, [](const auto& s) { return s.mean_standard_error; });
  channels["var_relative_standard_error"] =
      per_channel(stats, [](const auto& s) { return s.var_relative_standard_error; });
  return j;
}

std::string summary_text(const AuditResult& result, std::size_t healthy) {
  return std::to_string(healthy) + " of " + std::to_string(result.layers.size()) + " layers healthy";
}
}  // namespace

AuditResult run_audit(const std::string& path) {
  AuditResult result;
  result.path = path;
  // Notes wait until the whole dump was read: a bad array in a later layer is then the only line.
  HeldNotes held;
  for (DumpLayer& layer : read_dump(path)) result.layers.push_back(audit_layer(std::move(layer)));
  for (const LayerAudit& audit : result.layers) {
    for (const std::string& text : audit.notes) {
      if (text.find("looks like channels") == std::string::npos) note(text);  // that one was sent when read
    }
  }
  held.release();
  return result;
}

nlohmann::ordered_json to_json(const AuditResult& result) {
  nlohmann::ordered_json j;
  j["schema"] = kAuditSchema;
  j["input"] = {{"path", result.path}, {"layers", result.layers.size()}};
  nlohmann::ordered_json& rules = j["findings"] = nlohmann::ordered_json::array();
  for (const FindingRule& rule : finding_rules()) {
    rules.push_back({{"id", rule.id},
                     {"measure", rule.measure},
                     {"comparison", rule.comparison},
                     {"threshold", num(rule.threshold)},
                     {"meaning", rule.meaning},
                     {"advice", rule.advice}});
  }
  nlohmann::ordered_json& layers = j["layers"] = nlohmann::ordered_json::object();
  std::size_t healthy = 0;
  nlohmann::ordered_json layers_with = nlohmann::ordered_json::object();
  for (const FindingRule& rule : finding_rules()) layers_with[rule.id] = nlohmann::ordered_json::array();
  for (const LayerAudit& audit : result.layers) {
    layers[audit.layer.name] = to_json(audit);
    if (audit.findings.empty()) ++healthy;
    for (const std::string& id : audit.findings) layers_with[id].push_back(audit.layer.name);
  }
  j["summary"] = {{"layers", result.layers.size()},
                  {"healthy", healthy},
                  {"layers_with", layers_with},
                  {"text", summary_text(result, healthy)}};
  return j;
}

std::string format_audit_table(const AuditResult& result) {
  std::vector<const LayerAudit*> order;
  for (const LayerAudit& audit : result.layers) order.push_back(&audit);
  // The worst first: more findings, then a larger eval/train gap (unmeasured last).
  auto gap = [](const LayerAudit* a) {
    return a->statistics && std::isfinite(a->statistics->eval_train_gap) ? a->statistics->eval_train_gap : -1.0;
  };
  std::stable_sort(order.begin(), order.end(), [&](const LayerAudit* a, const LayerAudit* b) {
    if (a->findings.size() != b->findings.size()) return a->findings.size() > b->findings.size();
    return gap(a) > gap(b);
  });
  std::size_t width = 5;
  for (const LayerAudit* audit : order) width = std::max(width, audit->layer.name.size());
  std::ostringstream out;
  auto cell = [](std::string text, std::size_t w) {
    if (text.size() < w) text.append(w - text.size(), ' ');
    return text + "  ";
  };
  out << cell("layer", width) << cell("kind", 14) << cell("N", 5) << cell("values", 8) << cell("eval/train", 10)
      << cell("max|shift|", 10) << cell("SE(mean)", 8) << "findings / advice\n";
  std::size_t healthy = 0;
  for (const LayerAudit* audit : order) {
    const LayerAudit& a = *audit;
    auto measured = [&](double v) { return a.statistics && std::isfinite(v) ? number(v) : std::string("-"); };
    out << cell(a.layer.name, width) << cell(to_string(a.layer.kind), 14)
        << cell(a.layer.input.dimension() > 0 ? std::to_string(a.layer.input.shape()[0]) : "-", 5)
        << cell(a.statistics ? std::to_string(a.statistics->values_per_statistic) : "-", 8)
        << cell(a.statistics ? measured(a.statistics->eval_train_gap) : "-", 10)
        << cell(measured(a.mean_shift_max_abs), 10) << cell(measured(a.batch_mean_standard_error), 8);
    if (a.findings.empty()) {
      out << "healthy";
      ++healthy;
    }
    for (std::size_t i = 0; i < a.findings.size(); ++i) {
      out << (i ? "; " : "") << a.findings[i] << (i < a.advice.size() ? ": " + a.advice[i] : "");
    }
    out << "\n";
  }
  out << summary_text(result, healthy) << " (" << result.path << "; bnlab audit --help lists the findings)\n";
  return out.str();
}

std::vector<std::pair<std::string, Array<float>>> recalibrated_statistics(const AuditResult& result) {
  std::vector<std::pair<std::string, Array<float>>> arrays;
  for (const LayerAudit& audit : result.layers) {
    if (!audit.statistics || !audit.layer.running_mean) continue;
    const LayerStatistics& stats = *audit.statistics;
    Array<float> mean = Array<float>::from_shape({stats.channels});
    Array<float> var = Array<float>::from_shape({stats.channels});
    for (std::size_t c = 0; c < stats.channels; ++c) {
      // Over every dumped sample: the batch statistics of the whole dump, the variance unbiased
      // (n / (n - 1)) as PyTorch's running_var holds it (PreciseBN's population statistics).
      mean(c) = static_cast<float>(stats.channel[c].batch_mean);
      var(c) = static_cast<float>(stats.channel[c].population_var);
    }
    arrays.emplace_back(audit.layer.name + ".running_mean", std::move(mean));
    arrays.emplace_back(audit.layer.name + ".running_var", std::move(var));
  }
  return arrays;
}

}  // namespace bnlab::audit
