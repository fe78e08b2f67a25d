#include "bnlab/report/html/heat_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "bnlab/core/number.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

struct Rgb {
  double r, g, b;
};
struct Stop {
  double t;
  Rgb colour;
};

// The palettes' stops (t in [0, 1] from the centre or from 0 outwards).
const std::vector<Stop> kBlueSide = {{0, {247, 247, 247}}, {0.5, {146, 197, 222}}, {1, {5, 113, 176}}};
const std::vector<Stop> kOrangeSide = {{0, {247, 247, 247}}, {0.5, {253, 184, 99}}, {1, {230, 97, 1}}};
const std::vector<Stop> kSequential = {{0, {247, 247, 247}}, {0.2, {253, 231, 37}}, {0.45, {94, 201, 98}},
                                       {0.7, {33, 145, 140}},  {0.85, {59, 82, 139}}, {1, {68, 1, 84}}};

std::string hex(const std::vector<Stop>& stops, double t) {
  std::size_t i = 1;
  while (i + 1 < stops.size() && stops[i].t < t) ++i;
  const Stop &a = stops[i - 1], &b = stops[i];
  const double u = std::clamp((t - a.t) / (b.t - a.t), 0.0, 1.0);
  const auto mix = [&](double p, double q) { return int(std::lround(p + (q - p) * u)); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02X%02X%02X", mix(a.colour.r, b.colour.r), mix(a.colour.g, b.colour.g),
                mix(a.colour.b, b.colour.b));
  return buf;
}

// The quantized level of v (see heat_map.hpp) and the colour of a level.
int level_of(double v, const ColourScale& s) {
  if (!(s.range > 0) || !std::isfinite(v) || !std::isfinite(s.range) || !std::isfinite(s.centre)) return 0;
  // Clamped before rounding: a value far outside the scale (an edited report) cannot overflow lround.
  if (s.palette == Palette::diverging) {
    const double t = std::clamp(kDivergingSteps * (v - s.centre) / s.range, -double(kDivergingSteps),
                                double(kDivergingSteps));
    return int(std::lround(t));
  }
  return int(std::lround(std::clamp(kSequentialSteps * v / s.range, 0.0, double(kSequentialSteps))));
}

std::string colour_of(int level, Palette palette) {
  if (palette == Palette::sequential) return hex(kSequential, double(level) / kSequentialSteps);
  return hex(level < 0 ? kBlueSide : kOrangeSide, std::abs(double(level)) / kDivergingSteps);
}

// The cells as one <path> per colour level, in cell units (the caller scales):
// each run of equal level along a row is one rectangle "Mj ihLv1h-Lz".
std::string cells_svg(const Cells& map, const ColourScale& scale) {
  std::map<int, std::string> paths;  // level -> path data, levels in increasing order
  for (std::size_t i = 0; i < map.size(); ++i) {
    const std::vector<double>& row = map[i];
    for (std::size_t j = 0; j < row.size();) {
      const int level = level_of(row[j], scale);
      std::size_t end = j + 1;
      while (end < row.size() && level_of(row[end], scale) == level) ++end;
      const std::string len = std::to_string(end - j);
      std::string& d = paths[level];  // appended piece by piece (GCC 12 warns on "M" + string chains)
      d += 'M';
      d += std::to_string(j);
      d += ' ';
      d += std::to_string(i);
      d += 'h';
      d += len;
      d += "v1h-";
      d += len;
      d += 'z';
      j = end;
    }
  }
  std::string out;
  for (const auto& [level, d] : paths) out += "<path fill=\"" + colour_of(level, scale.palette) + "\" d=\"" + d + "\"/>\n";
  return out;
}

// A colour-bar number: whole numbers from 100 up ("1149", not "1.15e+03"), else html::number.
std::string bar_number(double v) {
  if (std::abs(v) < 100 || std::abs(v) >= 1e6) return number(v);
  return fixed(v, 0);
}

std::string colour_bar(double x, double y, double width, const ColourScale& scale) {
  const int lo = scale.palette == Palette::diverging ? -kDivergingSteps : 0;
  const int hi = scale.palette == Palette::diverging ? kDivergingSteps : kSequentialSteps;
  const double step = width / double(hi - lo + 1);
  std::string out = "<g class=\"colour-bar\">\n";
  for (int k = lo; k <= hi; ++k)
    out += "<rect x=\"" + coord(x + step * (k - lo)) + "\" y=\"" + coord(y) + "\" width=\"" + coord(step + 0.3) +
           "\" height=\"8\" fill=\"" + colour_of(k, scale.palette) + "\"/>\n";
  out += "<rect x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" width=\"" + coord(width) +
         "\" height=\"8\" fill=\"none\" stroke=\"#777\" stroke-width=\"0.5\"/>\n";
  const std::string small = "font-size=\"9\"";
  if (!(scale.range > 0)) {
    out += text(x + width / 2, y + 18, "all " + bar_number(scale.centre), "text-anchor=\"middle\" " + small);
    return out + "</g>\n";
  }
  const double low = scale.palette == Palette::diverging ? scale.centre - scale.range : 0;
  const double mid = scale.palette == Palette::diverging ? scale.centre : scale.range / 2;
  const double high = scale.palette == Palette::diverging ? scale.centre + scale.range : scale.range;
  out += text(x, y + 18, bar_number(low), small);
  out += text(x + width / 2, y + 18, bar_number(mid), "text-anchor=\"middle\" " + small);
  out += text(x + width, y + 18, bar_number(high), "text-anchor=\"end\" " + small);
  return out + "</g>\n";
}

}  // namespace

ColourScale fit_scale(Palette palette, const std::vector<const Cells*>& maps, double centre) {
  ColourScale s{palette, palette == Palette::diverging ? centre : 0.0, 0.0};
  for (const Cells* map : maps)
    for (const std::vector<double>& row : *map)
      for (double v : row) {
        if (!std::isfinite(v)) continue;
        s.range = std::max(s.range, palette == Palette::diverging ? std::abs(v - centre) : v);
      }
  return s;
}

double mean_of(const Cells& map) {
  double sum = 0, count = 0;
  for (const std::vector<double>& row : map)
    for (double v : row) sum += v, count += 1;
  return count > 0 ? sum / count : 0.0;
}

namespace {

// A single row of many cells (per-channel values, or an H = 1 plane) is drawn as a strip.
bool is_strip(const HeatPanel& panel, const Cells& map) {
  return map.size() == 1 && map[0].size() > 1 && panel.height == 1;
}
constexpr double kStripHeight = 24;

}  // namespace

double heat_panel_height(const HeatPanel& panel, const Cells& map) {
  return is_strip(panel, map) ? kPanelHeight - kMapSide + kStripHeight : kPanelHeight;
}

std::string heat_panel(double x, double y, const HeatPanel& panel, const Cells& map, const ColourScale& scale) {
  const std::size_t rows = map.size(), cols = rows ? map[0].size() : 0;
  if (rows == 0 || cols == 0) return "";
  const bool strip = is_strip(panel, map);
  const double cell_w = strip ? kMapSide / double(cols) : kMapSide / double(std::max(rows, cols));
  const double cell_h = strip ? kStripHeight : cell_w;
  const double left = x + 32, top = y + 22, map_w = cell_w * double(cols), map_h = cell_h * double(rows);
  std::string out = "<g class=\"heat-map\">\n";
  out += text(left + kMapSide / 2, y + 12, panel.title, "text-anchor=\"middle\" font-size=\"12\"");
  out += "<g transform=\"translate(" + coord(left) + " " + coord(top) + ") scale(" + std::to_string(cell_w) + " " +
         std::to_string(cell_h) + ")\" shape-rendering=\"crispEdges\">\n" + cells_svg(map, scale) + "</g>\n";
  out += "<rect x=\"" + coord(left) + "\" y=\"" + coord(top) + "\" width=\"" + coord(map_w) + "\" height=\"" +
         coord(map_h) + "\" fill=\"none\" stroke=\"#555\" stroke-width=\"0.8\"/>\n";
  const std::string tick = "font-size=\"9\"";
  out += text(left, top + map_h + 10, "0", tick);
  out += text(left + map_w, top + map_h + 10, std::to_string(panel.width), "text-anchor=\"end\" " + tick);
  out += text(left + map_w / 2, top + map_h + 21, panel.x_label, "text-anchor=\"middle\" font-size=\"10\"");
  if (!strip) {
    out += text(left - 3, top + 8, "0", "text-anchor=\"end\" " + tick);
    out += text(left - 3, top + map_h, std::to_string(panel.height), "text-anchor=\"end\" " + tick);
    const double label_x = x + 12, label_y = top + map_h / 2;
    out += text(label_x, label_y, panel.y_label,
                "text-anchor=\"middle\" font-size=\"10\" transform=\"rotate(-90 " + coord(label_x) + " " +
                    coord(label_y) + ")\"");
  }
  out += colour_bar(left, top + (strip ? kStripHeight : kMapSide) + 30, kMapSide, scale);
  return out + "</g>\n";
}

void PanelGrid::close_row() {
  y_ += row_height_;
  row_height_ = 0;
  column_ = 0;
}

void PanelGrid::heading(const std::string& label) {
  close_row();
  svg += text(0, y_ + 14, label, "font-size=\"11.5\" font-weight=\"bold\"");
  y_ += 22;
}

PanelGrid::Corner PanelGrid::next(double panel_height) {
  if (column_ == per_row_) close_row();
  row_height_ = std::max(row_height_, panel_height);
  widest_ = std::max(widest_, column_ + 1);
  return Corner{double(column_++) * kPanelWidth, y_};
}

std::string panel_figure(const std::string& id, const std::string& title, const PanelGrid& grid,
                         const std::string& caption) {
  const double fit = kFigureWidth / (kPanelWidth * double(std::max<std::size_t>(1, grid.widest_row())));
  const double scale = std::clamp(fit, 1.0, 1.4);
  return figure(id, title, kFigureWidth, grid.height() * scale,
                "<g transform=\"scale(" + fixed(scale, 3) + ")\">\n" + grid.svg + "</g>\n", caption);
}

}  // namespace bnlab::html
