// Figure 2, output per channel: each method's per-channel output mean and
// standard deviation (std = sqrt(var), at the configured eps, gamma 1, beta 0)
// as dot plots over the channel index, all methods on the same axes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "bnlab/engine/method.hpp"
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kWidth = 1060, kPlotLeft = 70, kPlotRight = 800, kPanelHeight = 170, kPanelGap = 60, kTop = 30;
// An output channel whose variance is below this is constant (a dead input
// channel under Method 3 gives exactly 0).
constexpr double kConstantVar = 1e-12;

struct Series {
  std::size_t index;  // position in the report, for colour and marker
  std::string column, name;
  std::vector<double> mean, var;  // (C)
};

// A vertical linear axis: value -> y within [top, top + kPanelHeight].
struct Axis {
  double lo, hi, top;
  double y(double v) const { return top + kPanelHeight - (v - lo) / (hi - lo) * kPanelHeight; }
};

std::string panel(const std::vector<Series>& series, std::size_t channels, bool std_panel, double top) {
  double lo = 0, hi = std_panel ? 1.2 : 0.1;
  for (const Series& s : series)
    for (std::size_t c = 0; c < channels; ++c) {
      const double v = plottable(std_panel ? std::sqrt(std::max(0.0, s.var[c])) : s.mean[c]);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!std_panel) {  // symmetric around 0, so 0 sits in the middle
    const double m = std::max(std::abs(lo), std::abs(hi));
    lo = -m, hi = m;
  }
  hi += (hi - lo) * 0.05;
  const Axis axis{lo, hi, top};
  const double step = tick_step(hi - lo, 4);
  std::string out = "<g class=\"panel\">\n";
  out += "<rect x=\"" + coord(kPlotLeft) + "\" y=\"" + coord(top) + "\" width=\"" + coord(kPlotRight - kPlotLeft) +
         "\" height=\"" + coord(kPanelHeight) + "\" fill=\"none\" stroke=\"#555\"/>\n";
  for (const double t : axis_ticks(lo, hi, 4)) {
    const double y = axis.y(t);
    out += "<line x1=\"" + coord(kPlotLeft) + "\" x2=\"" + coord(kPlotRight) + "\" y1=\"" + coord(y) + "\" y2=\"" +
           coord(y) + "\" stroke=\"#ddd\"/>\n";
    out +=
        text(kPlotLeft - 6, y + 4, number(std::abs(t) < step / 1e6 ? 0.0 : t), "text-anchor=\"end\" font-size=\"11\"");
  }
  const double target = std_panel ? 1.0 : 0.0;  // what a standardized channel gives
  out += "<line x1=\"" + coord(kPlotLeft) + "\" x2=\"" + coord(kPlotRight) + "\" y1=\"" + coord(axis.y(target)) +
         "\" y2=\"" + coord(axis.y(target)) + "\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>\n";
  out += text(kPlotRight + 4, axis.y(target) + 4, std_panel ? "std 1" : "mean 0", "font-size=\"11\"");
  const std::string label = std_panel ? "output std per channel" : "output mean per channel";
  out += text(
      18, top + kPanelHeight / 2, label,
      "text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 18 " + coord(top + kPanelHeight / 2) + ")\"");
  // Dots: channel c at its own x, methods side by side within the channel's slot.
  const double slot = (kPlotRight - kPlotLeft) / double(channels);
  const double r = std::clamp(slot / double(series.size() + 1) / 2, 1.5, 4.0);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    for (std::size_t c = 0; c < channels; ++c) {
      const double x = kPlotLeft + slot * (double(c) + double(k + 1) / double(series.size() + 1));
      const bool constant = s.var[c] < kConstantVar;
      const double v = plottable(std_panel ? std::sqrt(std::max(0.0, s.var[c])) : s.mean[c]);
      out += marker(s.index, x, axis.y(v), r, constant);
    }
  }
  // Channel index ticks (at most about 16 labels).
  const std::size_t every = std::max<std::size_t>(1, (channels + 15) / 16);
  for (std::size_t c = 0; c < channels; c += every)
    out += text(kPlotLeft + slot * (double(c) + 0.5), top + kPanelHeight + 14, std::to_string(c),
                "text-anchor=\"middle\" font-size=\"10\"");
  out += text((kPlotLeft + kPlotRight) / 2, top + kPanelHeight + 30, "channel c (index)",
              "text-anchor=\"middle\" font-size=\"12\"");
  return out + "</g>\n";
}

}  // namespace

std::string channels_figure(const Json& report) {
  const std::string title = "2. Output per channel: is every channel standardized?";
  const std::size_t channels = report.at("input").at("shape")[1].get<std::size_t>();
  std::vector<Series> series;
  std::vector<std::string> unmeasured;
  std::size_t index = 0;
  for (const auto& [id, block] : report.at("methods").items()) {
    const Method method = parse_method(id, "methods");
    const Json& output = block.at("output");
    if (output.is_object() && output.contains("per_channel")) {
      series.push_back({index, method.column, method.name, output.at("per_channel").at("mean").get<std::vector<double>>(),
                        output.at("per_channel").at("var").get<std::vector<double>>()});
    } else {
      unmeasured.push_back(method.column);
    }
    ++index;
  }
  if (series.empty())
    return figure_not_applicable("fig-channels", title,
                                 "no method's output was measured (each statistic pools a single value)");
  std::string body = panel(series, channels, false, kTop);
  body += panel(series, channels, true, kTop + kPanelHeight + kPanelGap);
  // Legend: marker + column + name; the hollow marker explained.
  double y = kTop + 10;
  for (const Series& s : series) {
    body += marker(s.index, kPlotRight + 70, y - 4, 4.5);
    body +=
        text(kPlotRight + 82, y, (s.column == s.name ? s.column : s.column + " (" + s.name + ")"), "font-size=\"12\"");
    y += 20;
  }
  body += marker(0, kPlotRight + 70, y - 4, 4.5, true);
  body += text(kPlotRight + 82, y, "hollow: output constant", "font-size=\"12\"");
  body += text(kPlotRight + 82, y + 15, "(a dead channel)", "font-size=\"12\"");
  std::string caption =
      "For each channel c (across), the mean (top) and standard deviation (bottom) of the output over N, H and W, "
      "with gamma 1, beta 0 and the configured eps; each method has its own colour and marker. A method that "
      "standardizes channels puts every dot on the dashed lines (mean 0, std 1). Method 1 shares one statistic "
      "across channels of different scale, so its channel std spreads far from 1. A hollow marker is a channel whose "
      "output is constant (variance below 1e-12): a dead input channel, left out of the verdict.";
  if (!unmeasured.empty()) {
    std::string names;
    for (const std::string& n : unmeasured) {
      if (!names.empty()) names += ", ";
      names += n;
    }
    caption += " Not drawn: " + names + " (each statistic pools a single value, nothing is measured).";
  }
  return figure("fig-channels", title, kWidth, kTop + 2 * kPanelHeight + kPanelGap + 40, body, caption);
}

}  // namespace bnlab::html
