#pragma once
// The plot layer of the HTML figures: a plot area and what is drawn around
// and in it (frame, tick labels, axis titles, a legend column, line and bar
// series), so that every figure draws its axes the same way from one place.
// Like svg.hpp it assembles text: the same input gives the same bytes, and
// every element keeps the attribute order the pages were first written with.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace bnlab::html {

// The rectangle the data is drawn in, in SVG user units: x from left to
// right, y from top down to bottom().
struct PlotArea {
  double left, right, top, height;
  constexpr double bottom() const { return top + height; }
  constexpr double centre_x() const { return (left + right) / 2; }
  constexpr double centre_y() const { return top + height / 2; }
};

// The area's outline (a grey frame, no fill).
std::string axes_frame(const PlotArea& area);

// <line> from (x1, y1) to (x2, y2) with `style` (e.g. "stroke=\"#555\"").
std::string line(double x1, double y1, double x2, double y2, const std::string& style);

// A horizontal line across the area at y, e.g. a grid line (style "stroke=\"#ddd\"")
// or a dashed target.
std::string horizontal_rule(const PlotArea& area, double y, const std::string& style);

// A tick label left of the area at height y, right-aligned.
std::string y_tick_label(const PlotArea& area, double y, const std::string& label);
// A tick label centred on x at baseline y (below or above the area).
std::string x_tick_label(double x, double y, const std::string& label);

// The x axis's title, centred under the area, `below` units under its bottom.
std::string x_axis_title(const PlotArea& area, double below, const std::string& title);
// The y axis's title, rotated to read upwards, centred on the area's height at x.
std::string y_axis_title(const PlotArea& area, double x, const std::string& title);

// ---- ticks -----------------------------------------------------------------------

// A value as a figure places it: clamped to [-1e300, 1e300] (NaN to 0), so
// that spans, sums and margins of an axis stay finite whatever a report holds.
double plottable(double v);

// "Nice" tick step for a span: 1, 2 or 5 times a power of ten, about `about`
// ticks; 0 when the span is not a positive finite number whose step is a
// normal double (0, negative, subnormal, inf, NaN: no ticks then).
double tick_step(double span, int about);

// The ticks of a linear axis [lo, hi]: the multiples of tick_step(hi - lo,
// about) inside it, at most 3 * about + 2 of them, each computed as k * step
// (never by repeated addition, which stalls where step is below t's
// precision); empty for a range that is not finite or not increasing. Each
// tick function here returns a bounded list, so every figure's tick loop ends.
std::vector<double> axis_ticks(double lo, double hi, int about);

// 0, step, 2 step, ... while <= limit, each computed as k * step, k at most
// `most`: the ticks of an axis from 0 (training steps, a loss), bounded
// and finite whatever step and limit are (0: a bounded run of zeros; NaN, inf: none past 0).
std::vector<double> multiples_up_to(double step, double limit, int most);

// The whole exponents of a log axis (decades or octaves) from `first` to
// `last`: every one while the axis spans up to `labels` of them, then every
// k-th (k = ceil(span / labels)), so that a span of 628 decades still gives
// about `labels` ticks. `first` is a whole number; span = the axis's length.
std::vector<double> exponent_ticks(double first, double last, double span, int labels);

// ---- legend ----------------------------------------------------------------------

// A column of legend entries, 20 units apart: each a series' marker (at x)
// and its label (at x + 12), the first on baseline `first_baseline`.
class Legend {
 public:
  Legend(double x, double first_baseline) : x_(x), baseline_(first_baseline) {}
  // Series i's marker (hollow: outline only) and its label; the next entry goes below.
  std::string entry(std::size_t series, const std::string& label, bool hollow = false);
  // A second line under the last entry's label.
  std::string second_line(const std::string& label) const;

 private:
  double x_, baseline_, last_baseline_ = 0;
};

// "M3 (Method 3)", "ln": a method's column heading, and its sentence name when it differs.
std::string series_label(const std::string& column, const std::string& name);

// ---- series ----------------------------------------------------------------------

// Series i's line through `points` (SVG coordinates, in order).
std::string line_series(const std::vector<std::pair<double, double>>& points, std::size_t series);

// Series i's horizontal bar from x0 to x1, 10 units high, centred on y.
std::string horizontal_bar(double x0, double x1, double y, std::size_t series);

// A horizontal whisker from x0 to x1 at y with end caps (e.g. mean +- one standard deviation).
std::string whisker(double x0, double x1, double y);

// A meter for a table cell: an inline SVG `width` x 14 units with a grey
// track, a bar of `fraction` (clamped to [0, 1]) of the width, red when
// `alarm` (else blue), and a black tick at `mark` (a fraction of the width,
// e.g. a threshold). Inline in HTML: no namespace attribute, nothing fetched.
std::string meter(double fraction, double mark, bool alarm, double width = 120);

}  // namespace bnlab::html
