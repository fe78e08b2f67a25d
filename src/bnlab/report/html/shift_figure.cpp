// Figure 4, shifts: sample 0 alone circularly shifted by the first shift of
// the invariance probes' set (as per_sample_shift does); per method, the map
// f(shift(x)) - shift(f(x)) of sample 0 in one channel (diverging, one scale
// for all methods), and the leakage into the other samples, the mean over
// n >= 1 of |f(x')[n] - f(x)[n]| per (h, w) (sequential, one scale).
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/heat_map.hpp"
#include "bnlab/report/html/report_maps.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::string shift_figure(const Json& report) {
  const std::string id = "fig-shift", title = "4. Shifts: does normalizing commute with moving the image?";
  const auto [methods, not_measured] = methods_with_maps(report);
  if (methods.empty()) return figure_not_applicable(id, title, kNoMethodMeasured);
  const Json& first = methods.front().maps->at("shift");
  if (!first.at("applicable").get<bool>())
    return figure_not_applicable(id, title, first.value("reason", "no spatial shift exists"));
  const std::size_t H = plane_height(report), W = plane_width(report);
  const std::size_t dh = first.at("shift").at(0).get<std::size_t>(), dw = first.at("shift").at(1).get<std::size_t>();
  const std::size_t c = first.at("channel").get<std::size_t>();
  const bool has_leakage = !first.at("leakage").is_null();

  std::vector<Cells> difference, leakage;
  for (const MethodMaps& m : methods) {
    const Json& shift = m.maps->at("shift");
    difference.push_back(shift.at("difference").get<Cells>());
    if (has_leakage) leakage.push_back(shift.at("leakage").get<Cells>());
  }
  std::vector<const Cells*> all_difference, all_leakage;
  for (const Cells& d : difference) all_difference.push_back(&d);
  for (const Cells& l : leakage) all_leakage.push_back(&l);
  const ColourScale difference_scale = fit_scale(Palette::diverging, all_difference);
  const ColourScale leakage_scale = fit_scale(Palette::sequential, all_leakage);

  const std::string shift_text = "(dh, dw) = (" + std::to_string(dh) + ", " + std::to_string(dw) + ")";
  PanelGrid grid;
  std::string panels;
  grid.heading("Sample 0, channel " + std::to_string(c) + ": f(shift(x)) - shift(f(x)) for the shift " + shift_text);
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const std::string max = number(methods[i].maps->at("shift").at("max_abs_difference").get<double>());
    const HeatPanel panel{methods[i].column + ", max |d| " + max, H, W};
    const PanelGrid::Corner at = grid.next(heat_panel_height(panel, difference[i]));
    panels += heat_panel(at.x, at.y, panel, difference[i], difference_scale);
  }
  if (has_leakage) {
    grid.heading("Leakage: mean over the other samples n >= 1 of |f(x')[n] - f(x)[n]|, channel " + std::to_string(c));
    for (std::size_t i = 0; i < methods.size(); ++i) {
      const std::string max = number(methods[i].maps->at("shift").at("max_leakage").get<double>());
      const HeatPanel panel{methods[i].column + ", max " + max, H, W};
      const PanelGrid::Corner at = grid.next(heat_panel_height(panel, leakage[i]));
      panels += heat_panel(at.x, at.y, panel, leakage[i], leakage_scale);
    }
  }
  std::string caption =
      "Sample 0 alone is shifted circularly by " + shift_text +
      " rows and columns (x'), the batch is normalized again (train mode, gamma 1, beta 0), and its output is "
      "compared with the shifted output of the original batch. A method that treats every location alike gives 0 "
      "everywhere (an all-white map): Method 3, whose per-channel statistics pool the whole plane, which a shift only "
      "permutes (ln, in and gn too). Method 1 (statistics per location, pooled over the batch and channels) and Method 2 (per "
      "activation, over the batch) normalize the moved image with the statistics of the locations it moved to. ";
  caption += has_leakage ? "The second row shows what the shift of sample 0 does to the other samples' outputs: "
                           "nothing for a method whose statistics ignore where sample 0's values are (white), "
                           "something wherever a statistic pools sample 0's values location by location."
                         : "With N = 1 there is no other sample for the shift to leak into.";
  caption += downsampling_sentence(*methods.front().maps) + not_measured_sentence(not_measured);
  grid.svg += panels;
  return panel_figure(id, title, grid, caption);
}

}  // namespace bnlab::html
