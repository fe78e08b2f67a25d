#include "bnlab/report/html/plot.hpp"

#include <algorithm>
#include <cmath>

#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {

std::string axes_frame(const PlotArea& area) {
  return "<rect x=\"" + coord(area.left) + "\" y=\"" + coord(area.top) + "\" width=\"" +
         coord(area.right - area.left) + "\" height=\"" + coord(area.height) + "\" fill=\"none\" stroke=\"#555\"/>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" + coord(y2) + "\" " +
         style + "/>\n";
}

std::string horizontal_rule(const PlotArea& area, double y, const std::string& style) {
  return line(area.left, y, area.right, y, style);
}

std::string y_tick_label(const PlotArea& area, double y, const std::string& label) {
  return text(area.left - 6, y + 4, label, "text-anchor=\"end\" font-size=\"11\"");
}

std::string x_tick_label(double x, double y, const std::string& label) {
  return text(x, y, label, "text-anchor=\"middle\" font-size=\"11\"");
}

std::string x_axis_title(const PlotArea& area, double below, const std::string& title) {
  return text(area.centre_x(), area.bottom() + below, title, "text-anchor=\"middle\" font-size=\"12\"");
}

std::string y_axis_title(const PlotArea& area, double x, const std::string& title) {
  const double y = area.centre_y();
  return text(x, y, title,
              "text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 " + coord(x) + " " + coord(y) + ")\"");
}

double plottable(double v) {
  constexpr double kLimit = 1e300;
  if (std::isnan(v)) return 0;
  return std::clamp(v, -kLimit, kLimit);
}

double tick_step(double span, int about) {
  const double raw = span / double(about);
  if (!std::isfinite(raw) || !std::isnormal(raw) || raw <= 0) return 0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  if (!std::isnormal(power)) return 0;
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= raw) return m * power;
  const double step = 10 * power;
  return std::isfinite(step) ? step : 0;
}

std::vector<double> axis_ticks(double lo, double hi, int about) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) return ticks;
  const double step = tick_step(hi - lo, about);
  if (step == 0) return ticks;
  const double first = std::ceil(lo / step);
  const int most = 3 * about + 2;
  for (int k = 0; k < most; ++k) {
    const double t = (first + k) * step;
    if (!std::isfinite(t) || t > hi + step * 1e-9) break;
    ticks.push_back(t);
  }
  return ticks;
}

std::vector<double> multiples_up_to(double step, double limit, int most) {
  std::vector<double> ticks;
  for (int k = 0; k <= most; ++k) {
    // k * step, never a running sum (which stalls where step is below t's precision).
    const double t = k == 0 ? 0.0 : double(k) * step;
    if (!std::isfinite(t) || !(t <= limit)) break;
    ticks.push_back(t);
  }
  return ticks;
}

std::vector<double> exponent_ticks(double first, double last, double span, int labels) {
  std::vector<double> ticks;
  const double every = std::max(1.0, std::ceil(span / labels));
  // Whole numbers: first + k * every is exact; at most labels + 1 of them fit
  // in the span, the bound only guards against a NaN span.
  for (int k = 0; k <= labels + 1; ++k) {
    const double e = first + k * every;
    if (!std::isfinite(e) || !(e <= last)) break;
    ticks.push_back(e);
  }
  return ticks;
}

std::string Legend::entry(std::size_t series, const std::string& label, bool hollow) {
  std::string out = marker(series, x_, baseline_ - 4, 4.5, hollow);
  out += text(x_ + 12, baseline_, label, "font-size=\"12\"");
  last_baseline_ = baseline_;
  baseline_ += 20;
  return out;
}

std::string Legend::second_line(const std::string& label) const {
  return text(x_ + 12, last_baseline_ + 15, label, "font-size=\"12\"");
}

std::string series_label(const std::string& column, const std::string& name) {
  return column == name ? column : column + " (" + name + ")";
}

std::string line_series(const std::vector<std::pair<double, double>>& points, std::size_t series) {
  std::string coords;
  for (const auto& [x, y] : points) {
    if (!coords.empty()) coords += ' ';
    coords += coord(x) + "," + coord(y);
  }
  return "<polyline points=\"" + coords + "\" fill=\"none\" stroke=\"" + series_colour(series) +
         "\" stroke-width=\"1.5\"/>\n";
}

std::string horizontal_bar(double x0, double x1, double y, std::size_t series) {
  return "<rect x=\"" + coord(x0) + "\" y=\"" + coord(y - 5) + "\" width=\"" + coord(x1 - x0) +
         "\" height=\"10\" fill=\"" + series_colour(series) + "\" fill-opacity=\"0.75\"/>\n";
}

std::string whisker(double x0, double x1, double y) {
  const std::string style = "stroke=\"#111\" stroke-width=\"1.2\"";
  return line(x0, y, x1, y, style) + line(x0, y - 4, x0, y + 4, style) + line(x1, y - 4, x1, y + 4, style);
}

std::string meter(double fraction, double mark, bool alarm, double width) {
  const double filled = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0) * width;
  return "<svg width=\"" + coord(width) + "\" height=\"14\" viewBox=\"0 0 " + coord(width) + " 14\">" +
         "<rect x=\"0\" y=\"2\" width=\"" + coord(width) + "\" height=\"10\" fill=\"#eee\"/>" +
         "<rect x=\"0\" y=\"2\" width=\"" + coord(filled) + "\" height=\"10\" fill=\"" +
         (alarm ? "#c0392b" : "#2e86c1") + "\"/>" + line(mark * width, 0, mark * width, 14, "stroke=\"#333\"") +
         "</svg>";
}

}  // namespace bnlab::html
