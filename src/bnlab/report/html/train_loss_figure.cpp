// The training section's loss figure (bnlab.train/1): per method, the mean
// training loss over seeds as a line and the mean +- one sample standard
// deviation as a band, against the training step.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/plot.hpp"
#include "bnlab/report/html/svg.hpp"
#include "bnlab/report/html/train_result_text.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

struct LossCurve {
  std::size_t index;
  SeriesName method;
  std::vector<double> mean, std;  // (points)
  std::vector<double> step;       // (points): the last training step each point averages
  std::string final_loss;         // "0.747 ± 0.011"
};

}  // namespace

std::string train_loss_figure(const Json& result) {
  const std::string title = "Training loss per method";
  std::vector<LossCurve> curves;
  const std::size_t every = result.at("config").at("loss_every").get<std::size_t>();
  std::size_t index = 0;
  double x_hi = 0;
  for (const auto& [id, block] : result.at("methods").items()) {
    const Json& curve = block.at("loss_curve");
    LossCurve c{index++, series_name(id, block), curve.at("mean").get<std::vector<double>>(), {}, {},
                plus_minus(block.at("final_loss"))};
    // Point i averages steps i*every + 1 .. (i+1)*every, the last one up to the
    // run's last step (a shorter window when every does not divide the steps).
    const std::size_t steps = block.at("seeds").at(0).at("steps").get<std::size_t>();
    for (std::size_t i = 0; i < c.mean.size(); ++i) {
      c.std.push_back(curve.at("std").at(i).get<double>());  // at(): a short std array is an incomplete result
      c.step.push_back(double(std::min((i + 1) * every, steps)));
      x_hi = std::max(x_hi, c.step.back());
    }
    if (!c.mean.empty()) curves.push_back(std::move(c));
  }
  if (curves.empty()) return figure_not_applicable("fig-train-loss", title, "the result holds no point of a loss curve");
  // Linear axes from 0 (a cross-entropy loss is >= 0); log would stretch the
  // few high points of the first steps over most of the height.
  // Values clamped to what an axis can hold (plot.hpp plottable): a loss of
  // 1.7e308 puts the axis top near 1e300, never at infinity.
  for (LossCurve& c : curves)
    for (std::size_t i = 0; i < c.mean.size(); ++i) c.mean[i] = plottable(c.mean[i]), c.std[i] = plottable(c.std[i]);
  double hi = 0;
  for (const LossCurve& c : curves)
    for (std::size_t i = 0; i < c.mean.size(); ++i) hi = std::max(hi, plottable(c.mean[i] + c.std[i]));
  const double y_step = tick_step(std::max(hi, 1e-3), 5);
  const double y_hi = plottable(std::ceil(hi / y_step) * y_step + (hi <= 0 ? y_step : 0));
  const double x_step = std::max(1.0, tick_step(x_hi, 5));  // whole steps
  constexpr PlotArea area{80, 700, 20, 280};  // the legend right of it, in a figure 1000 wide
  const auto x_of = [&](double step) { return area.left + step / x_hi * (area.right - area.left); };
  const auto y_of = [&](double loss) { return area.bottom() - loss / y_hi * area.height; };

  std::string body = axes_frame(area);
  for (const double t : multiples_up_to(y_step, y_hi + y_step / 2, 20)) {
    body += horizontal_rule(area, y_of(t), "stroke=\"#ddd\"");
    body += y_tick_label(area, y_of(t), number(t));
  }
  for (const double t : multiples_up_to(x_step, x_hi * (1 + 1e-9), 20))  // no tick beyond the last step
    body += x_tick_label(x_of(t), area.bottom() + 15, number(t));
  body += x_axis_title(
      area, 34,
      "training step (batches of " + std::to_string(result.at("config").at("batch_size").get<std::size_t>()) + " images)");
  body += y_axis_title(area, 20, "training loss (cross-entropy, nats)");
  // Bands first, so that no band covers another method's line.
  for (const LossCurve& c : curves) {
    std::string upper, lower;
    for (std::size_t i = 0; i < c.mean.size(); ++i) {
      const double x = x_of(c.step[i]);
      upper += coord(x) + "," + coord(y_of(c.mean[i] + c.std[i])) + " ";
      const std::size_t j = c.mean.size() - 1 - i;  // the lower edge, backwards
      lower += coord(x_of(c.step[j])) + "," + coord(y_of(std::max(0.0, c.mean[j] - c.std[j]))) +
               (i + 1 < c.mean.size() ? " " : "");
    }
    body += "<polygon points=\"" + upper + lower + "\" fill=\"" + series_colour(c.index) +
            "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
  }
  Legend legend(area.right + 24, area.top + 14);
  for (const LossCurve& c : curves) {
    std::vector<std::pair<double, double>> points;
    for (std::size_t i = 0; i < c.mean.size(); ++i) points.push_back({x_of(c.step[i]), y_of(c.mean[i])});
    body += line_series(points, c.index);
    // About ten markers per curve: its shape tells the methods apart without colour.
    const std::size_t stride = std::max<std::size_t>(1, (c.mean.size() + 9) / 10);
    for (std::size_t i = c.mean.size() - 1;; i -= std::min(i, stride)) {
      body += marker(c.index, points[i].first, points[i].second, 3.5);
      if (i == 0) break;
    }
    body += legend.entry(c.index, series_label(c.method.column, c.method.name) + ": final " + c.final_loss);
  }
  const std::string caption =
      "The mean training loss of every " + std::to_string(every) + " steps, drawn at the last of them: the line is " +
      "the mean over the " + seeds_text(result) + ", the shaded band the mean ± one sample standard deviation over " +
      "them (no band with one seed); the legend gives the final loss (the last tenth of the steps), mean ± std. " +
      "What to look for: whether a method trains more slowly or less smoothly than the others, and whether the " +
      "curves are further apart than their bands are wide (if not, these seeds do not separate the methods).";
  return figure("fig-train-loss", title, 1000, area.bottom() + 45, body, caption);
}

}  // namespace bnlab::html
