// Figure 6, batch size: how far the batch variance of the first n samples is
// from the variance over the whole input, as n halves (the probe's
// batch_size.sizes: var_error = RMS over statistics of (var_n - var) / (var + eps)).
// Log-log axes; a zero error (n = N: the batch is the population) cannot be
// drawn on them and is left out.
#include <algorithm>
#include <cmath>
#include <vector>

#include "bnlab/engine/method.hpp"
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kWidth = 1000, kLeft = 80, kRight = 700, kTop = 20, kHeight = 260;

struct Curve {
  std::size_t index;
  std::string column, name;
  std::vector<std::pair<double, double>> points;  // (n, var_error), var_error > 0
};

}  // namespace

std::string batch_size_figure(const Json& report) {
  const std::string title = "6. Batch size: how noisy are the batch statistics?";
  std::vector<Curve> curves;
  std::vector<std::string> per_sample;
  std::size_t index = 0;
  for (const auto& [id, block] : report.at("methods").items()) {
    const Method method = parse_method(id, "methods");
    const Json& probe = block.at("batch_size");
    if (probe.is_object() && probe.value("applicable", false)) {
      Curve curve{index, method.column, method.name, {}};
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
    ++index;
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
  const auto x_of = [&](double n) { return kLeft + (std::log2(n) - o_lo) / (o_hi - o_lo) * (kRight - kLeft); };
  const auto y_of_decade = [&](double d) { return kTop + kHeight - (d - d_lo) / (d_hi - d_lo) * kHeight; };
  const auto y_of = [&](double e) { return y_of_decade(std::log10(e)); };
  std::string body = "<rect x=\"" + coord(kLeft) + "\" y=\"" + coord(kTop) + "\" width=\"" + coord(kRight - kLeft) +
                     "\" height=\"" + coord(kHeight) + "\" fill=\"none\" stroke=\"#555\"/>\n";
  // Every decade and octave up to about a dozen labels, then every k-th: a
  // bounded loop whatever the range (errors from 1e-320 to 1e308 are 628 decades).
  const double d_every = std::max(1.0, std::ceil((d_hi - d_lo) / 12)), o_every = std::max(1.0, std::ceil((o_hi - o_lo) / 12));
  for (double d = d_lo; d <= d_hi; d += d_every) {
    const double y = y_of_decade(d);  // 10^d itself may be 0 (below the subnormals)
    body += "<line x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kRight) + "\" y1=\"" + coord(y) + "\" y2=\"" + coord(y) +
            "\" stroke=\"#ddd\"/>\n";
    body += text(kLeft - 6, y + 4, number(std::pow(10.0, d)), "text-anchor=\"end\" font-size=\"11\"");
  }
  for (double o = std::ceil(o_lo); o <= o_hi; o += o_every)
    body += text(x_of(std::pow(2.0, o)), kTop + kHeight + 15, number(std::pow(2.0, o)),
                 "text-anchor=\"middle\" font-size=\"11\"");
  body += text((kLeft + kRight) / 2, kTop + kHeight + 34, "batch size n (the first n samples; log scale)",
               "text-anchor=\"middle\" font-size=\"12\"");
  body +=
      text(20, kTop + kHeight / 2, "relative error of the variance (log)",
           "text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 20 " + coord(kTop + kHeight / 2) + ")\"");
  double legend_y = kTop + 14;
  for (const Curve& c : curves) {
    std::string points;
    for (const auto& [n, e] : c.points) {
      if (!points.empty()) points += " ";
      points += coord(x_of(n)) + "," + coord(y_of(e));
    }
    body += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + series_colour(c.index) +
            "\" stroke-width=\"1.5\"/>\n";
    for (const auto& [n, e] : c.points) body += marker(c.index, x_of(n), y_of(e), 4);
    // Label at the curve's smallest batch, and in the legend.
    body += marker(c.index, kRight + 40, legend_y - 4, 4.5);
    body += text(kRight + 52, legend_y, (c.column == c.name ? c.column : c.column + " (" + c.name + ")"),
                 "font-size=\"12\"");
    legend_y += 20;
  }
  std::string caption =
      "The batch is cut to its first n samples (n = N, N/2, ..., 1) and its variances compared with those of the "
      "whole input: the root mean square, over the method's statistics, of (batch variance - variance) / "
      "(variance + eps). The fewer values a statistic pools (n times the size of the other reduced axes), the "
      "noisier it is: Method 2 pools only n values per statistic and is the first to fail. The error at n = N "
      "is 0 by construction and not drawn.";
  if (!per_sample.empty()) {
    std::string names;
    for (const std::string& n : per_sample) {
      if (!names.empty()) names += ", ";
      names += n;
    }
    caption += " Not drawn: " + names + " (statistics per sample, independent of the batch, or nothing measured).";
  }
  return figure("fig-batch-size", title, kWidth, kTop + kHeight + 45, body, caption);
}

}  // namespace bnlab::html
