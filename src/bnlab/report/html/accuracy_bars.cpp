#include "bnlab/report/html/accuracy_bars.hpp"

#include <algorithm>

#include "bnlab/report/html/plot.hpp"
#include "bnlab/report/html/svg.hpp"
#include "bnlab/report/html/train_result_text.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kBarsWidth = 1000, kBarLeft = 200, kBarSpan = 600, kBarsTop = 24;
constexpr double kGroupHeader = 20, kRow = 16, kGroupGap = 8;

}  // namespace

std::string accuracy_bars(const Json& result, const std::vector<Measurement>& rows, const std::string& figure_id,
                          const std::string& title, const std::string& caption) {
  std::vector<SeriesName> methods;
  for (const auto& [id, block] : result.at("methods").items()) methods.push_back(series_name(id, block));
  if (methods.empty()) return figure_not_applicable(figure_id, title, "the result holds no method");
  const double x0 = kBarLeft;
  const auto x_of = [&](double accuracy) { return x0 + std::clamp(accuracy, 0.0, 1.0) * kBarSpan; };
  const double chart_height =
      double(rows.size()) * (kGroupHeader + double(methods.size()) * kRow + kGroupGap);
  const PlotArea area{kBarLeft, kBarLeft + kBarSpan, kBarsTop, chart_height};
  const double bottom = area.bottom();

  std::string body;
  // Grid and axis: accuracy 0 to 1 in tenths, labelled under and over the bars; chance (one class in `classes`) dashed.
  for (int t = 0; t <= 10; ++t) {
    const double x = x_of(t / 10.0);
    body += line(x, kBarsTop, x, bottom, t == 0 ? "stroke=\"#555\"" : "stroke=\"#e4e4e4\"");
    body += x_tick_label(x, bottom + 15, number(t / 10.0));
    body += x_tick_label(x, kBarsTop - 6, number(t / 10.0));
  }
  const double classes = result.at("data").at("classes").get<double>();
  const double chance = x_of(1.0 / classes);
  body += line(chance, kBarsTop, chance, bottom, "stroke=\"#555\" stroke-dasharray=\"4 3\"");
  body += text(chance + 4, bottom + 30, "chance (1/" + number(classes) + ")", "font-size=\"11\"");
  body += x_axis_title(area, 44, "test accuracy (fraction of test images classified correctly)");

  double y = kBarsTop;
  for (const Measurement& row : rows) {
    // A white halo keeps a long label readable where it crosses the axis and the chance line.
    body += text(8, y + 14, row.label,
                 "font-size=\"12\" font-weight=\"bold\" stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\"");
    y += kGroupHeader;
    for (std::size_t i = 0; i < methods.size(); ++i) {
      const double mid = y + kRow / 2;
      body += marker(i, kBarLeft - 12, mid, 4);
      body += text(kBarLeft - 22, mid + 4, methods[i].column, "text-anchor=\"end\" font-size=\"11\"");
      const Cell& cell = row.cells[i];
      if (!cell.stat) {  // does not apply: the reason in the bar's place
        body += text(x0 + 6, mid + 4, "n/a: " + cell.reason, "font-size=\"10.5\" font-style=\"italic\" fill=\"#333\"");
      } else {
        const double mean = cell.stat->at("mean").get<double>(), sd = cell.stat->at("std").get<double>();
        body += horizontal_bar(x0, x_of(mean), mid, i);
        const double lo = x_of(mean - sd), hi = x_of(mean + sd);
        if (sd > 0) body += whisker(lo, hi, mid);
        body += text(std::max(hi, x_of(mean)) + 6, mid + 4, plus_minus(*cell.stat), "font-size=\"11\"");
      }
      y += kRow;
    }
    y += kGroupGap;
  }
  return figure(figure_id, title, kBarsWidth, bottom + 54, body, caption);
}

}  // namespace bnlab::html
