// Figure 2, output per channel: each method's per-channel output mean and
// standard deviation (std = sqrt(var), at the configured eps, gamma 1, beta 0)
// as dot plots over the channel index, all methods on the same axes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/plot.hpp"
#include "bnlab/report/html/report_maps.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kWidth = 1060, kPlotLeft = 70, kPlotRight = 800, kDotPanelHeight = 170, kDotPanelGap = 60, kTop = 30;
// An output channel whose variance is below this is constant (a dead input
// channel under Method 3 gives exactly 0).
constexpr double kConstantVar = 1e-12;

struct Series {
  std::size_t index;  // position in the report, for colour and marker
  std::string column, name;
  std::vector<double> mean, var;  // (C)
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
  // 5% of the range beyond the extreme values at both ends (8.5 px, more
  // than a dot's radius), so that no dot sits on the frame.
  const double pad = (hi - lo) * 0.05;
  hi += pad;
  lo -= pad;
  const PlotArea area{kPlotLeft, kPlotRight, top, kDotPanelHeight};
  const auto y_of = [&](double v) { return top + kDotPanelHeight - (v - lo) / (hi - lo) * kDotPanelHeight; };
  const double step = tick_step(hi - lo, 4);
  std::string out = "<g class=\"panel\">\n" + axes_frame(area);
  for (const double t : axis_ticks(lo, hi, 4)) {
    const double y = y_of(t);
    out += horizontal_rule(area, y, "stroke=\"#ddd\"");
    out += y_tick_label(area, y, number(std::abs(t) < step / 1e6 ? 0.0 : t));  // a tick at 0 up to rounding (-1e-17) reads "0"
  }
  const double target = std_panel ? 1.0 : 0.0;  // what a standardized channel gives
  out += horizontal_rule(area, y_of(target), "stroke=\"#333\" stroke-dasharray=\"4 3\"");
  out += text(kPlotRight + 4, y_of(target) + 4, std_panel ? "std 1" : "mean 0", "font-size=\"11\"");
  out += y_axis_title(area, 18, std_panel ? "output std per channel" : "output mean per channel");
  // Dots: channel c at its own x, methods side by side within the channel's slot.
  const double slot = (kPlotRight - kPlotLeft) / double(channels);
  const double r = std::clamp(slot / double(series.size() + 1) / 2, 1.5, 4.0);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    for (std::size_t c = 0; c < channels; ++c) {
      const double x = kPlotLeft + slot * (double(c) + double(k + 1) / double(series.size() + 1));
      const bool constant = s.var[c] < kConstantVar;
      const double v = plottable(std_panel ? std::sqrt(std::max(0.0, s.var[c])) : s.mean[c]);
      out += marker(s.index, x, y_of(v), r, constant);
    }
  }
  // Channel index ticks (at most about 16 labels).
  const std::size_t every = std::max<std::size_t>(1, (channels + 15) / 16);
  for (std::size_t c = 0; c < channels; c += every)
    out += text(kPlotLeft + slot * (double(c) + 0.5), top + kDotPanelHeight + 14, std::to_string(c),
                "text-anchor=\"middle\" font-size=\"10\"");
  out += x_axis_title(area, 30, "channel c (index)");
  return out + "</g>\n";
}

}  // namespace

std::string channels_figure(const Json& report) {
  const std::string title = "2. Output per channel: is every channel standardized?";
  const std::size_t channels = report.at("input").at("shape")[1].get<std::size_t>();
  std::vector<Series> series;
  std::vector<std::string> unmeasured;
  for (const ReportMethod& method : report_methods(report)) {
    const Json& output = method.block->at("output");
    if (output.is_object() && output.contains("per_channel")) {
      series.push_back({method.index, method.column, method.name, output.at("per_channel").at("mean").get<std::vector<double>>(),
                        output.at("per_channel").at("var").get<std::vector<double>>()});
    } else {
      unmeasured.push_back(method.column);
    }
  }
  if (series.empty())
    return figure_not_applicable("fig-channels", title,
                                 "no method's output was measured (each statistic pools a single value)");
  std::string body = panel(series, channels, false, kTop);
  body += panel(series, channels, true, kTop + kDotPanelHeight + kDotPanelGap);
  // Legend: marker + column + name; the hollow marker explained.
  Legend legend(kPlotRight + 70, kTop + 10);
  for (const Series& s : series) body += legend.entry(s.index, series_label(s.column, s.name));
  body += legend.entry(0, "hollow: output constant", true);
  body += legend.second_line("(a dead channel)");
  std::string caption =
      "For each channel c (across), the mean (top) and standard deviation (bottom) of the output over N, H and W, "
      "with gamma 1, beta 0 and the configured eps; each method has its own colour and marker. A method that "
      "standardizes channels puts every dot on the dashed lines (mean 0, std 1). Method 1 shares one statistic "
      "across channels of different scale, so its channel std spreads far from 1. A hollow marker is a channel whose "
      "output is constant (variance below 1e-12): a dead input channel, left out of the verdict.";
  caption += not_measured_sentence(unmeasured);
  return figure("fig-channels", title, kWidth, kTop + 2 * kDotPanelHeight + kDotPanelGap + 40, body, caption);
}

}  // namespace bnlab::html
