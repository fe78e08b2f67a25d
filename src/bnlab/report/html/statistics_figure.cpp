// Figure 5, where the statistics live: per method, sample 0's batch mean and
// variance of each element (statistics.mean / var of the maps block). Methods
// whose statistics have an (h, w) axis (1, 2) are drawn as maps, for the
// chosen channels (once when the statistic has no channel axis: Method 1's is
// shared by every channel); the others (3, ln, in, gn) as a strip of one value
// per channel, constant along H and W. Means on a diverging scale (white at
// 0), variances on a sequential one, each panel its own scale.
#include <algorithm>

#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/heat_map.hpp"
#include "bnlab/report/html/report_maps.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

bool has(const std::vector<std::string>& axes, const std::string& axis) {
  return std::find(axes.begin(), axes.end(), axis) != axes.end();
}

// "location (h, w)", "activation (c, h, w)", "channel c", ... from the statistic axes.
std::string statistic_of(const std::vector<std::string>& stat_axes) {
  using Axes = std::vector<std::string>;
  if (stat_axes == Axes{"H", "W"}) return "location (h, w)";
  if (stat_axes == Axes{"C", "H", "W"}) return "activation (c, h, w)";
  if (stat_axes == Axes{"C"}) return "channel c";
  if (stat_axes == Axes{"N"}) return "sample n";
  if (stat_axes == Axes{"N", "C"}) return "sample and channel (n, c)";
  if (stat_axes == Axes{"N", "G"}) return "sample and group of channels (n, g)";
  std::string axes = "(";
  axes += join(stat_axes);
  return axes + ")";
}

}  // namespace

std::string statistics_figure(const Json& report) {
  const std::string id = "fig-statistics", title = "5. Where the statistics live";
  const auto [methods, not_measured] = methods_with_maps(report);
  if (methods.empty()) return figure_not_applicable(id, title, kNoMethodMeasured);
  const std::size_t H = plane_height(report), W = plane_width(report);
  const std::size_t C = report.at("input").at("shape").at(1).get<std::size_t>();
  PanelGrid grid;
  std::string panels;
  for (const MethodMaps& m : methods) {
    const Json& stats = m.maps->at("statistics");
    const std::vector<std::string> stat_axes = stats.at("stat_axes").get<std::vector<std::string>>();
    const bool per_sample = has(stat_axes, "N");
    grid.heading(m.column + ": one mean and variance per " + statistic_of(stat_axes) + ", over " +
                 join(m.reduce_axes) + (per_sample ? " (sample 0's shown)" : ""));
    if (stats.at("spatial").get<bool>()) {
      const std::vector<std::size_t> channels = m.maps->at("channels").get<std::vector<std::size_t>>();
      // Without a channel axis the statistic is the same for every channel: drawn once.
      const bool per_channel = has(stat_axes, "C") || has(stat_axes, "G");
      const std::size_t shown = per_channel ? channels.size() : 1;
      for (std::size_t k = 0; k < shown; ++k) {
        const std::string which = per_channel ? "c = " + std::to_string(channels[k]) : "every c";
        const Cells mean = stats.at("mean").at(k).get<Cells>(), var = stats.at("var").at(k).get<Cells>();
        const HeatPanel mean_panel{"mean, " + which, H, W}, var_panel{"variance, " + which, H, W};
        PanelGrid::Corner at = grid.next(heat_panel_height(mean_panel, mean));
        panels += heat_panel(at.x, at.y, mean_panel, mean, fit_scale(Palette::diverging, {&mean}));
        at = grid.next(heat_panel_height(var_panel, var));
        panels += heat_panel(at.x, at.y, var_panel, var, fit_scale(Palette::sequential, {&var}));
      }
    } else {
      const Cells mean{stats.at("channel_mean").get<std::vector<double>>()};
      const Cells var{stats.at("channel_var").get<std::vector<double>>()};
      const HeatPanel strip{"", 1, C, "channel c", ""};
      HeatPanel mean_panel = strip, var_panel = strip;
      mean_panel.title = "mean per channel";
      var_panel.title = "variance per channel";
      PanelGrid::Corner at = grid.next(heat_panel_height(mean_panel, mean));
      panels += heat_panel(at.x, at.y, mean_panel, mean, fit_scale(Palette::diverging, {&mean}));
      at = grid.next(heat_panel_height(var_panel, var));
      panels += heat_panel(at.x, at.y, var_panel, var, fit_scale(Palette::sequential, {&var}));
    }
  }
  std::string caption =
      "The mean and variance each element of sample 0 is normalized with (batch statistics, before eps). Method 1 "
      "keeps one pair per location (h, w), pooled over the batch and all channels: the maps follow the image's "
      "layout and mix loud and quiet channels, and they are tied to this H x W. Method 2 keeps one pair per "
      "activation (c, h, w), pooled over just N values: noisy maps, one per channel. Method 3 keeps one pair per "
      "channel, pooled over N x H x W values: a strip of C numbers, the same at every location. LayerNorm has one "
      "pair per sample (a uniform strip), InstanceNorm one per sample and channel, GroupNorm one per sample and "
      "group of channels (equal within a group); for these per-sample methods sample 0's values are drawn. "
      "Means are white at 0 (blue below, orange above); variances go from white (0) to dark (large); each panel has "
      "its own colour bar.";
  if (C == 1) caption += " With C = 1 a strip is a single value.";
  caption += downsampling_sentence(*methods.front().maps) + not_measured_sentence(not_measured);
  grid.svg += panels;
  return panel_figure(id, title, grid, caption);
}

}  // namespace bnlab::html
