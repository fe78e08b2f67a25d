// Figure 3, the shared spatial pattern: for the channels of input.maps
// (channel 0 and the channel whose input mean over N varies most over (h, w)),
// the input's mean map over N and each method's output mean map over N
// (gamma 1, beta 0). Input colours are centred at the map's own mean (its
// pattern is what matters); output colours at 0, one scale for all methods of
// a channel, so that a method that shrinks the pattern looks paler.
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/heat_map.hpp"
#include "bnlab/report/html/report_maps.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::string spatial_figure(const Json& report) {
  const std::string id = "fig-pattern", title = "3. The shared spatial pattern: kept or erased?";
  const std::size_t H = plane_height(report), W = plane_width(report);
  if (H * W == 1)
    return figure_not_applicable(id, title, "H = W = 1: a single location has no spatial pattern to keep or erase");
  const auto [methods, not_measured] = methods_with_maps(report);
  const Json& input = report.at("input").at("maps");
  const std::vector<std::size_t> channels = input.at("channels").get<std::vector<std::size_t>>();
  PanelGrid grid;
  std::string panels;
  for (std::size_t k = 0; k < channels.size(); ++k) {
    const std::size_t c = channels[k];
    const double variance = input.at("spatial_variance").at(k).get<double>();
    grid.heading("Channel " + std::to_string(c) + (k == 0 ? " (the first)" : " (the strongest shared pattern)") +
                 ": variance of the input's mean map over (h, w) " + number(variance));
    const Cells in = input.at("mean_over_n").at(k).get<Cells>();
    const HeatPanel input_panel{"input, mean over N", H, W};
    PanelGrid::Corner at = grid.next(heat_panel_height(input_panel, in));
    panels += heat_panel(at.x, at.y, input_panel, in,
                         fit_scale(Palette::diverging, {&in}, mean_of(in)));
    std::vector<Cells> outputs;
    for (const MethodMaps& m : methods) outputs.push_back(m.maps->at("output_mean").at(k).get<Cells>());
    std::vector<const Cells*> all;
    for (const Cells& o : outputs) all.push_back(&o);
    const ColourScale scale = fit_scale(Palette::diverging, all);
    for (std::size_t i = 0; i < methods.size(); ++i) {
      const HeatPanel panel{methods[i].column + ", output mean", H, W};
      at = grid.next(heat_panel_height(panel, outputs[i]));
      panels += heat_panel(at.x, at.y, panel, outputs[i], scale);
    }
  }
  std::string caption =
      "Each map is a mean over the N samples at every location (h, w) of one channel: the pattern that all samples "
      "share (say, an object that is usually in the middle). Left, the input (white at the map's own mean, so the "
      "pattern shows, whatever the channel's offset); then each method's output at gamma 1, beta 0 (white at 0, one "
      "colour scale for all methods of a row). Method 3 subtracts one mean and divides by one standard deviation "
      "per channel, so it keeps the pattern as it is, only rescaled. Method 2 subtracts each activation's own mean "
      "over N, so its output mean is 0 at every location: the pattern is erased (an all-white map). Method 1 divides "
      "each location by a statistic pooled over all channels, which reshapes the pattern. The per-sample methods "
      "(ln, in, gn) also pool over H and W, so they do not erase it; but ln and gn, like Method 1, flatten a quiet "
      "channel that shares its statistics with loud ones.";
  caption += downsampling_sentence(input) + not_measured_sentence(not_measured);
  grid.svg += panels;
  return panel_figure(id, title, grid, caption);
}

}  // namespace bnlab::html
