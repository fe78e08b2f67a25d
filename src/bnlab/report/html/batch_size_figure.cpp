// Figure 6, batch size: how far the batch variance of the first n samples is
// from the variance over the whole input, as n halves (the probe's
// batch_size.sizes: var_error = RMS over statistics of (var_n - var) / (var + eps)).
// Log-log axes; a zero error (n = N: the batch is the population) cannot be
// drawn on them and is left out.
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

struct Curve {
  ReportMethod method;
  std::vector<std::pair<double, double>> points;  // (n, var_error), var_error > 0
};

}  // namespace

std::string batch_size_figure(const Json& report) {
  const std::string title = "6. Batch size: how noisy are the batch statistics?";
  std::vector<Curve> curves;
  std::vector<std::string> per_sample;
  for (const ReportMethod& method : report_methods(report)) {
    const Json& probe = method.block->at("batch_size");
    if (probe.is_object() && probe.value("applicable", false)) {
      Curve curve{method, {}};
      for (const Json& size : probe.at("sizes")) {
        const double error = size.value("var_error", 0.0), n = size.at("n").get<double>();
        // Log axes: only n >= 1 and an error > 0 have a place on them (validated
        // reports hold nothing else; this keeps log2/log10 finite regardless).
        if (!size.value("degenerate", false) && error > 0 && n >= 1 && std::isfinite(error) && std::isfinite(n))
          curve.points.push_back({n, error});
      }
      if (!curve.points.empty()) curves.push_back(curve);
    } else {
      per_sample.push_back(method.column);
    }
  }
  if (curves.empty()) {
    return figure_not_applicable(
        "fig-batch-size", title,
        report.at("input").at("shape")[0].get<std::size_t>() < 2
            ? "the batch holds a single sample (N = 1): there is no smaller batch to compare with"
            : "no method here takes its statistics over the batch (per-sample methods do not depend on it)");
  }
  double n_lo = 1e300, n_hi = 0, e_lo = 1e300, e_hi = 0;
  for (const Curve& c : curves)
    for (const auto& [n, e] : c.points) {
      n_lo = std::min(n_lo, n), n_hi = std::max(n_hi, n), e_lo = std::min(e_lo, e), e_hi = std::max(e_hi, e);
    }
  // Decades that cover the errors; octaves that cover n (and one more so a single point has room).
  const double d_lo = std::floor(std::log10(e_lo)), d_hi = std::max(d_lo + 1, std::ceil(std::log10(e_hi)));
  const double o_lo = std::log2(n_lo), o_hi = std::max(o_lo + 1, std::log2(n_hi));
  constexpr PlotArea area{80, 700, 20, 260};  // the legend right of it, in a figure 1000 wide
  const auto x_of = [&](double n) { return area.left + (std::log2(n) - o_lo) / (o_hi - o_lo) * (area.right - area.left); };
  const auto y_of_decade = [&](double d) { return area.bottom() - (d - d_lo) / (d_hi - d_lo) * area.height; };
  const auto y_of = [&](double e) { return y_of_decade(std::log10(e)); };
  std::string body = axes_frame(area);
  // Every decade and octave up to about a dozen labels, then every k-th: a
  // bounded loop whatever the range (errors from 1e-320 to 1e308 are 628 decades).
  for (const double d : exponent_ticks(d_lo, d_hi, d_hi - d_lo, 12)) {
    const double y = y_of_decade(d);  // 10^d itself may be 0 (below the subnormals)
    body += horizontal_rule(area, y, "stroke=\"#ddd\"");
    body += y_tick_label(area, y, number(std::pow(10.0, d)));
  }
  for (const double o : exponent_ticks(std::ceil(o_lo), o_hi, o_hi - o_lo, 12))
    body += x_tick_label(x_of(std::pow(2.0, o)), area.bottom() + 15, number(std::pow(2.0, o)));
  body += x_axis_title(area, 34, "batch size n (the first n samples; log scale)");
  body += y_axis_title(area, 20, "relative error of the variance (log)");
  Legend legend(area.right + 40, area.top + 14);
  for (const Curve& c : curves) {
    std::vector<std::pair<double, double>> points;
    for (const auto& [n, e] : c.points) points.push_back({x_of(n), y_of(e)});
    body += line_series(points, c.method.index);
    for (const auto& [x, y] : points) body += marker(c.method.index, x, y, 4);
    body += legend.entry(c.method.index, series_label(c.method.column, c.method.name));
  }
  std::string caption =
      "The batch is cut to its first n samples (n = N, N/2, ..., 1) and its variances compared with those of the "
      "whole input: the root mean square, over the method's statistics, of (batch variance - variance) / "
      "(variance + eps). The fewer values a statistic pools (n times the size of the other reduced axes), the "
      "noisier it is: Method 2 pools only n values per statistic and is the first to fail. The error at n = N "
      "is 0 by construction and not drawn.";
  caption += not_drawn_sentence(per_sample, "statistics per sample, independent of the batch, or nothing measured");
  return figure("fig-batch-size", title, 1000, area.bottom() + 45, body, caption);
}

}  // namespace bnlab::html
