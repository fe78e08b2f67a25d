#include "bnlab/report/html/report_validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "bnlab/core/error.hpp"
#include "bnlab/core/train_schema.hpp"
#include "bnlab/io/json_text.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

// An extent of a shape at most this (a feature map larger along one axis is
// not something bnlab can have measured), so that products stay exact.
constexpr std::uint64_t kMaxExtent = std::uint64_t{1} << 31;

// A figure draws at most this many curves' points per method (batch sizes
// halve from N: 32 for N = 2^31).
constexpr std::size_t kMaxBatchSizes = 64;

std::string what_it_is(const Json& value) {
  if (value.is_array()) return "an array of " + std::to_string(value.size());
  if (value.is_object()) return "an object";
  return json_preview(value);
}

class Validator {
 public:
  explicit Validator(const std::string& source) : source_(source) {}

  void compare_block(const Json& block, const std::string& at) {
    const Json& shape = key(block, at, "input", "shape");
    const std::string shape_at = at + "/input/shape";
    if (!shape.is_array() || shape.size() != 4) fail(shape_at, "expected 4 extents (N, C, H, W), got " + what_it_is(shape));
    std::uint64_t dims[4];
    for (std::size_t i = 0; i < 4; ++i) dims[i] = count(shape[i], shape_at + "/" + std::to_string(i), 1, kMaxExtent);
    const std::uint64_t n = dims[0], c = dims[1];
    if (block.contains("input") && block.at("input").is_object() && block.at("input").contains("maps"))
      input_maps(block.at("input").at("maps"), at + "/input/maps", c);
    const Json& methods = key(block, at, "methods");
    if (!methods.is_object()) fail(at + "/methods", "expected an object, got " + what_it_is(methods));
    for (const auto& [id, method] : methods.items()) {
      const std::string m_at = at + "/methods/" + pointer_token(id);
      if (!method.is_object()) fail(m_at, "expected an object, got " + what_it_is(method));
      if (method.contains("output") && method.at("output").is_object() && method.at("output").contains("per_channel")) {
        const Json& per_channel = method.at("output").at("per_channel");
        const std::string p_at = m_at + "/output/per_channel";
        channel_numbers(key(per_channel, p_at, "mean"), p_at + "/mean", c);
        channel_numbers(key(per_channel, p_at, "var"), p_at + "/var", c);
      }
      if (method.contains("batch_size") && method.at("batch_size").is_object()) batch_size(method.at("batch_size"), m_at + "/batch_size", n);
      if (method.contains("maps") && method.at("maps").is_object()) method_maps(method.at("maps"), m_at + "/maps", c);
    }
  }

  void layers_report(const Json& report) {
    const Json& layers = key(report, "", "layers");
    if (!layers.is_object()) fail("/layers", "expected an object, got " + what_it_is(layers));
    for (const auto& [name, layer] : layers.items()) {
      const std::string at = "/layers/" + pointer_token(name);
      if (!layer.is_object()) fail(at, "expected an object, got " + what_it_is(layer));
      compare_block(layer, at);
    }
  }

  void train_report(const Json& report) {
    count(key(report, "", "config", "loss_every"), "/config/loss_every", 1, UINT64_MAX);
    count(key(report, "", "data", "classes"), "/data/classes", 1, UINT64_MAX);
    const Json& methods = key(report, "", "methods");
    if (!methods.is_object()) fail("/methods", "expected an object, got " + what_it_is(methods));
    for (const auto& [id, method] : methods.items()) {
      const std::string at = "/methods/" + pointer_token(id);
      const Json& mean = key(method, at, "loss_curve", "mean");
      if (!mean.is_array()) fail(at + "/loss_curve/mean", "expected an array of numbers, got " + what_it_is(mean));
      // A loss and its spread over seeds are >= 0 (cross-entropy).
      numbers(mean, at + "/loss_curve/mean", mean.size(), 0.0);
      numbers(key(method, at, "loss_curve", "std"), at + "/loss_curve/std", mean.size(), 0.0);
      const Json& seeds = key(method, at, "seeds");
      if (!seeds.is_array() || seeds.empty()) fail(at + "/seeds", "expected an array of at least one seed's result, got " + what_it_is(seeds));
    }
  }

 private:
  [[noreturn]] void fail(const std::string& at, const std::string& what) const {
    throw Error(source_ + ": " + (at.empty() ? "/" : at) + ": " + what);
  }

  // object/k1/k2...: a missing key or a non-object on the way is named here.
  template <class... Keys>
  const Json& key(const Json& object, const std::string& at, const char* first, Keys... rest) const {
    if (!object.is_object()) fail(at, "expected an object, got " + what_it_is(object));
    if (!object.contains(first)) fail(at + "/" + first, "missing (this report is not complete)");
    if constexpr (sizeof...(rest) == 0) return object.at(first);
    else return key(object.at(first), at + "/" + first, rest...);
  }

  std::uint64_t count(const Json& value, const std::string& at, std::uint64_t lo, std::uint64_t hi) const {
    const bool integer = value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
    const std::uint64_t v = integer ? value.get<std::uint64_t>() : 0;
    if (!integer || v < lo || v > hi) {
      fail(at, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + what_it_is(value));
    }
    return v;
  }

  // An array of `length` numbers, each >= `at_least`; `per_channel` names
  // the length "C = 5" in the message.
  void numbers(const Json& value, const std::string& at, std::uint64_t length, double at_least = -HUGE_VAL,
               bool per_channel = false) const {
    if (!value.is_array() || value.size() != length) {
      fail(at, "expected an array of " + (per_channel ? "C = " : std::string()) + std::to_string(length) +
                   " numbers, got " + what_it_is(value));
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      const Json& v = value[i];
      if (!v.is_number()) fail(at + "/" + std::to_string(i), "expected a number, got " + what_it_is(v));
      if (v.get<double>() < at_least)
        fail(at + "/" + std::to_string(i), "expected a number >= " + json_preview(Json(at_least)) + ", got " + what_it_is(v));
    }
  }
  void channel_numbers(const Json& value, const std::string& at, std::uint64_t c) const {
    numbers(value, at, c, -HUGE_VAL, true);
  }

  // A heat map: 1 to kMapMaxSide rows of the same 1 to kMapMaxSide numbers.
  void map(const Json& value, const std::string& at) const {
    const std::string size = "1 to " + std::to_string(kMapMaxSide);
    if (!value.is_array() || value.empty() || value.size() > kMapMaxSide)
      fail(at, "expected a map of " + size + " rows (bnlab writes at most " + std::to_string(kMapMaxSide) + " x " +
                   std::to_string(kMapMaxSide) + "), got " + what_it_is(value));
    const std::size_t width = value[0].is_array() ? value[0].size() : 0;
    for (std::size_t r = 0; r < value.size(); ++r) {
      const Json& row = value[r];
      const std::string r_at = at + "/" + std::to_string(r);
      if (!row.is_array() || row.empty() || row.size() > kMapMaxSide || row.size() != width)
        fail(r_at, "expected a row of " + (width >= 1 && width <= kMapMaxSide ? std::to_string(width) : size) +
                       " numbers, got " + what_it_is(row));
      for (std::size_t j = 0; j < row.size(); ++j)
        if (!row[j].is_number()) fail(r_at + "/" + std::to_string(j), "expected a number, got " + what_it_is(row[j]));
    }
  }

  // An array of `length` maps (at least `length` when `at_least`).
  void maps(const Json& value, const std::string& at, std::size_t length, bool at_least = false) const {
    if (!value.is_array() || (at_least ? value.size() < length : value.size() != length))
      fail(at, "expected " + std::string(at_least ? "at least " : "") + std::to_string(length) +
                   (length == 1 ? " map" : " maps") + " (one per chosen channel), got " + what_it_is(value));
    for (std::size_t i = 0; i < value.size(); ++i) map(value[i], at + "/" + std::to_string(i));
  }

  // The chosen channels: each < C; returns how many.
  std::size_t channels(const Json& value, const std::string& at, std::uint64_t c) const {
    if (!value.is_array() || value.empty() || value.size() > c)
      fail(at, "expected 1 to " + std::to_string(c) + " channel indices, got " + what_it_is(value));
    for (std::size_t i = 0; i < value.size(); ++i) count(value[i], at + "/" + std::to_string(i), 0, c - 1);
    return value.size();
  }

  void block_size(const Json& maps_block, const std::string& at) const {
    const Json& block = key(maps_block, at, "block");
    if (!block.is_array() || block.size() != 2) fail(at + "/block", "expected 2 extents, got " + what_it_is(block));
    for (std::size_t i = 0; i < 2; ++i) count(block[i], at + "/block/" + std::to_string(i), 1, kMaxExtent);
  }

  void input_maps(const Json& input, const std::string& at, std::uint64_t c) const {
    const std::size_t chosen = channels(key(input, at, "channels"), at + "/channels", c);
    numbers(key(input, at, "spatial_variance"), at + "/spatial_variance", chosen);
    maps(key(input, at, "mean_over_n"), at + "/mean_over_n", chosen);
    block_size(input, at);
  }

  void method_maps(const Json& m, const std::string& at, std::uint64_t c) const {
    const std::size_t chosen = channels(key(m, at, "channels"), at + "/channels", c);
    block_size(m, at);
    maps(key(m, at, "output_mean"), at + "/output_mean", chosen);
    const Json& stats = key(m, at, "statistics");
    const std::string s_at = at + "/statistics";
    if (key(stats, s_at, "spatial").is_boolean() && stats.at("spatial").get<bool>()) {
      // As statistics_figure draws them: one map per chosen channel when the
      // statistic has a channel axis (C or G), else one for every channel.
      const Json& axes = key(stats, s_at, "stat_axes");
      bool per_channel = false;
      if (axes.is_array())
        for (const Json& axis : axes) per_channel = per_channel || axis == "C" || axis == "G";
      const std::size_t shown = per_channel ? chosen : 1;
      maps(key(stats, s_at, "mean"), s_at + "/mean", shown, true);
      maps(key(stats, s_at, "var"), s_at + "/var", shown, true);
    } else {
      channel_numbers(key(stats, s_at, "channel_mean"), s_at + "/channel_mean", c);
      channel_numbers(key(stats, s_at, "channel_var"), s_at + "/channel_var", c);
    }
    const Json& shift = key(m, at, "shift");
    const std::string sh_at = at + "/shift";
    if (key(shift, sh_at, "applicable").is_boolean() && shift.at("applicable").get<bool>()) {
      const Json& by = key(shift, sh_at, "shift");
      if (!by.is_array() || by.size() != 2) fail(sh_at + "/shift", "expected (dh, dw), got " + what_it_is(by));
      for (std::size_t i = 0; i < 2; ++i) count(by[i], sh_at + "/shift/" + std::to_string(i), 0, kMaxExtent);
      count(key(shift, sh_at, "channel"), sh_at + "/channel", 0, c - 1);
      map(key(shift, sh_at, "difference"), sh_at + "/difference");
      if (!key(shift, sh_at, "leakage").is_null()) map(shift.at("leakage"), sh_at + "/leakage");
    }
  }

  void batch_size(const Json& probe, const std::string& at, std::uint64_t n) const {
    if (!probe.value("applicable", false)) return;
    const Json& sizes = key(probe, at, "sizes");
    if (!sizes.is_array() || sizes.size() > kMaxBatchSizes)
      fail(at + "/sizes", "expected at most " + std::to_string(kMaxBatchSizes) + " batch sizes, got " + what_it_is(sizes));
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const std::string s_at = at + "/sizes/" + std::to_string(i);
      count(key(sizes[i], s_at, "n"), s_at + "/n", 1, n);  // the first n samples of N: log2(n) is drawn
      if (sizes[i].contains("var_error")) {
        const Json& e = sizes[i].at("var_error");
        if (!e.is_number() || e.get<double>() < 0) fail(s_at + "/var_error", "expected a number >= 0, got " + what_it_is(e));
      }
    }
  }

  const std::string& source_;
};

}  // namespace

void validate_report(const Json& report, const std::string& source) {
  if (!report.is_object() || !report.contains("schema") || !report.at("schema").is_string()) return;
  const std::string schema = report.at("schema").get<std::string>();
  Validator v(source);
  if (schema == kCompareSchema) v.compare_block(report, "");
  else if (schema == kCompareLayersSchema) v.layers_report(report);
  else if (schema == train::kTrainSchema) v.train_report(report);
}

}  // namespace bnlab::html
