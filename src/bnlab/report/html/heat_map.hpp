#pragma once
// Heat maps for the HTML report's figures 3 to 5: a (rows, cols) map of
// numbers drawn as coloured cells, with its title, axis labels (h, w in
// pixels of the original plane) and a colour bar with numbers.
//
// Colours are quantized to a few levels (kDivergingSteps on each side of the
// centre, kSequentialSteps above 0), so that one <path> per level draws the
// whole map: a 32 x 32 map is a few kilobytes, not one <rect> per cell, and
// the colour bar shows exactly the colours the map uses.
//   diverging  (signed data) blue - white - orange, white at `centre`;
//              level k = round(K (v - centre) / half_range), clamped to [-K, K];
//              level 0 (|v - centre| < half_range / 2K) is white, so an exact
//              zero map is all white.
//   sequential (variances, magnitudes >= 0) white - yellow - green - blue -
//              purple (the light-to-dark half of viridis);
//              level k = round(K v / top), clamped to [0, K].
// Both palettes stay distinguishable with the common colour-vision
// deficiencies (they vary in lightness, not only in hue).
#include <cstddef>
#include <string>
#include <vector>

namespace bnlab::html {

inline constexpr int kDivergingSteps = 8, kSequentialSteps = 8;

using Cells = std::vector<std::vector<double>>;  // (rows, cols)

enum class Palette { diverging, sequential };

struct ColourScale {
  Palette palette = Palette::diverging;
  double centre = 0;  // diverging: the white value
  double range = 0;   // diverging: half range (centre +- range at the ends); sequential: the top
};

// A scale that fits every value of `maps`: diverging around `centre`
// (range = max |v - centre|) or sequential from 0 (top = max v).
ColourScale fit_scale(Palette palette, const std::vector<const Cells*>& maps, double centre = 0);

// The mean of a map's cells (an input map's colour centre).
double mean_of(const Cells& map);

// Where and what a heat-map panel shows.
struct HeatPanel {
  std::string title;       // above the map, e.g. "M1, c = 5"
  std::size_t height = 1;  // the plane's H (pixels), for the axis ticks
  std::size_t width = 1;   // the plane's W
  std::string x_label = "w (pixels)", y_label = "h (pixels)";
};

// Panel geometry, in SVG user units.
inline constexpr double kPanelWidth = 150, kPanelHeight = 200, kMapSide = 108;
inline constexpr double kFigureWidth = 7 * kPanelWidth;  // seven panels to a row

// One panel with its top-left corner at (x, y): title, map, ticks 0 and
// H / W at the plane's edges, axis labels, colour bar with its numbers.
std::string heat_panel(double x, double y, const HeatPanel& panel, const Cells& map, const ColourScale& scale);

// Panels placed left to right, kPanelWidth apart, at most per_row to a row,
// under optional headings; a row is as tall as its tallest panel. The
// figure's height is height().
class PanelGrid {
 public:
  explicit PanelGrid(std::size_t per_row = 7) : per_row_(per_row) {}
  // A heading on a line of its own (e.g. "Channel 5"), starting a new row.
  void heading(const std::string& label);
  // The top-left corner of the next panel of this height (wrapping after per_row panels).
  struct Corner {
    double x, y;
  };
  Corner next(double panel_height = kPanelHeight);
  double height() const { return y_ + row_height_; }
  std::size_t widest_row() const { return widest_; }  // the most panels in one row
  std::string svg;  // the headings and the panels

 private:
  void close_row();
  std::size_t per_row_, column_ = 0, widest_ = 0;
  double y_ = 0, row_height_ = 0;
};

// The figure (svg.hpp's html::figure) of a grid of panels, kFigureWidth wide:
// with fewer than seven panels to a row the panels are enlarged (at most 1.4
// times) to use the width.
std::string panel_figure(const std::string& id, const std::string& title, const PanelGrid& grid,
                         const std::string& caption);

// The height of a heat panel drawing this map (a strip is lower than a square map).
double heat_panel_height(const HeatPanel& panel, const Cells& map);

}  // namespace bnlab::html
