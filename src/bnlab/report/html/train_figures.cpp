// The training experiment's section of the HTML report (bnlab.train/1): the
// loss curves and the accuracy bars, both over seeds (mean and sample
// standard deviation, as the result stores them), and the summary sentence.
#include "bnlab/report/html/train_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "bnlab/engine/method.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

// "0.634": accuracies and losses with three decimals, as the train table prints them.
std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string plus_minus(const Json& stat) {
  return fixed3(stat.at("mean").get<double>()) + " ± " + fixed3(stat.at("std").get<double>());
}

// A method's column heading ("M3", "none") and sentence name ("Method 3"), as
// the result stores them; a result written before they were stored has only
// the id, which the method table names.
struct SeriesName {
  std::string column, name;
};
SeriesName series_name(const std::string& id, const Json& block) {
  if (block.contains("column") && block.contains("name")) {
    return {block.at("column").get<std::string>(), block.at("name").get<std::string>()};
  }
  const Method m = parse_method(id, "methods");
  return {m.column, m.name};
}

// "M3 (Method 3)", "ln": the column heading, and the sentence name when it differs.
std::string series_label(const SeriesName& m) { return m.column == m.name ? m.column : m.column + " (" + m.name + ")"; }

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" + coord(y2) + "\" " +
         style + "/>\n";
}

// ---- the loss curves ---------------------------------------------------------

constexpr double kLossWidth = 1000, kLossLeft = 80, kLossRight = 700, kLossTop = 20, kLossHeight = 280;

struct LossCurve {
  std::size_t index;
  SeriesName method;
  std::vector<double> mean, std;  // (points)
  std::vector<double> step;       // (points): the last training step each point averages
  std::string final_loss;         // "0.747 ± 0.011"
};

// ---- the accuracy bars -------------------------------------------------------

constexpr double kBarsWidth = 1000, kBarLeft = 200, kBarSpan = 600, kBarsTop = 24;
constexpr double kGroupHeader = 20, kRow = 16, kGroupGap = 8;

// One bar of a measurement: the statistic over seeds, or why it does not apply.
struct Cell {
  std::optional<Json> stat;  // {mean, std, min, max}
  std::string reason;
};

struct Measurement {
  std::string label;
  std::vector<Cell> cells;  // per method, in the result's order
};

Cell stat_cell(const Json& stat) { return Cell{stat, ""}; }

// Every measurement the result holds, in the order of the train table.
std::vector<Measurement> measurements(const Json& result) {
  const Json& methods = result.at("methods");
  const Json& first = methods.begin().value();
  std::vector<Measurement> out;
  const auto add = [&](const std::string& label, const auto& cell_of) {
    Measurement m{label, {}};
    for (const auto& [id, block] : methods.items()) m.cells.push_back(cell_of(block));
    out.push_back(std::move(m));
  };
  add("eval mode (running statistics)", [](const Json& b) { return stat_cell(b.at("eval_accuracy")); });
  const Json& config = result.at("config");
  if (config.contains("precise_bn_images")) {
    for (const Json& k : config.at("precise_bn_images")) {
      const std::string key = std::to_string(k.get<std::size_t>());
      add("population statistics, " + key + " images (eval mode)", [&key](const Json& b) {
        const Json& population = b.at("population_accuracy");
        return population.is_null() ? Cell{std::nullopt, "no running statistics to recompute"}
                                    : stat_cell(population.at(key));
      });
    }
  }
  for (const auto& [size, stat] : first.at("batch_accuracy").items()) {
    const std::string key = size;
    add("batch statistics, test batch " + key, [&key](const Json& b) { return stat_cell(b.at("batch_accuracy").at(key)); });
  }
  for (const auto& [pixels, stat] : first.at("shift_accuracy").items()) {
    const std::string key = pixels;
    add("shifted by " + key + " px (eval mode)", [&key](const Json& b) { return stat_cell(b.at("shift_accuracy").at(key)); });
  }
  if (!first.at("canvas").is_null()) {
    const std::string size = std::to_string(first.at("canvas").at("size").get<std::size_t>());
    add("on a " + size + "×" + size + " canvas (eval mode)", [](const Json& b) {
      const Json& canvas = b.at("canvas");
      return canvas.at("applicable").get<bool>() ? stat_cell(canvas.at("accuracy"))
                                                 : Cell{std::nullopt, canvas.at("reason").get<std::string>()};
    });
  }
  if (!first.at("small_batch").is_null()) {
    const Json& small = first.at("small_batch");
    const std::string trained = "trained with batch " + std::to_string(small.at("batch_size").get<std::size_t>()) + " (" +
                                std::to_string(small.at("images").get<std::size_t>()) + " images): ";
    add(trained + "eval mode", [](const Json& b) { return stat_cell(b.at("small_batch").at("eval_accuracy")); });
    const Json& sizes = result.at("config").at("test_batch_sizes");
    if (!sizes.empty()) {
      add(trained + "batch statistics, test batch " + std::to_string(sizes.at(0).get<std::size_t>()),
          [](const Json& b) { return stat_cell(b.at("small_batch").at("batch_accuracy")); });
    }
  }
  return out;
}

std::string seeds_text(const Json& result) {
  const std::size_t n = result.at("config").at("seeds").size();
  return std::to_string(n) + (n == 1 ? " seed" : " seeds");
}

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
  // Values clamped to what an axis can hold (svg.hpp plottable): a loss of
  // 1.7e308 puts the axis top near 1e300, never at infinity.
  for (LossCurve& c : curves)
    for (std::size_t i = 0; i < c.mean.size(); ++i) c.mean[i] = plottable(c.mean[i]), c.std[i] = plottable(c.std[i]);
  double hi = 0;
  for (const LossCurve& c : curves)
    for (std::size_t i = 0; i < c.mean.size(); ++i) hi = std::max(hi, plottable(c.mean[i] + c.std[i]));
  const double y_step = tick_step(std::max(hi, 1e-3), 5);
  const double y_hi = plottable(std::ceil(hi / y_step) * y_step + (hi <= 0 ? y_step : 0));
  const double x_step = std::max(1.0, tick_step(x_hi, 5));  // whole steps
  const auto x_of = [&](double step) { return kLossLeft + step / x_hi * (kLossRight - kLossLeft); };
  const auto y_of = [&](double loss) { return kLossTop + kLossHeight - loss / y_hi * kLossHeight; };

  std::string body = "<rect x=\"" + coord(kLossLeft) + "\" y=\"" + coord(kLossTop) + "\" width=\"" +
                     coord(kLossRight - kLossLeft) + "\" height=\"" + coord(kLossHeight) +
                     "\" fill=\"none\" stroke=\"#555\"/>\n";
  for (double k = 0, t = 0; t <= y_hi + y_step / 2 && k <= 20; t = ++k * y_step) {
    body += line(kLossLeft, y_of(t), kLossRight, y_of(t), "stroke=\"#ddd\"");
    body += text(kLossLeft - 6, y_of(t) + 4, number(t), "text-anchor=\"end\" font-size=\"11\"");
  }
  for (double k = 0, t = 0; t <= x_hi * (1 + 1e-9) && k <= 20; t = ++k * x_step)  // no tick beyond the last step
    body += text(x_of(t), kLossTop + kLossHeight + 15, number(t), "text-anchor=\"middle\" font-size=\"11\"");
  body += text((kLossLeft + kLossRight) / 2, kLossTop + kLossHeight + 34,
               "training step (batches of " + std::to_string(result.at("config").at("batch_size").get<std::size_t>()) +
                   " images)",
               "text-anchor=\"middle\" font-size=\"12\"");
  body += text(20, kLossTop + kLossHeight / 2, "training loss (cross-entropy, nats)",
               "text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 20 " +
                   coord(kLossTop + kLossHeight / 2) + ")\"");
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
  double legend_y = kLossTop + 14;
  for (const LossCurve& c : curves) {
    std::string pts;
    for (std::size_t i = 0; i < c.mean.size(); ++i)
      pts += (i ? " " : "") + coord(x_of(c.step[i])) + "," + coord(y_of(c.mean[i]));
    body += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + series_colour(c.index) +
            "\" stroke-width=\"1.5\"/>\n";
    // About ten markers per curve: its shape tells the methods apart without colour.
    const std::size_t stride = std::max<std::size_t>(1, (c.mean.size() + 9) / 10);
    for (std::size_t i = c.mean.size() - 1;; i -= std::min(i, stride)) {
      body += marker(c.index, x_of(c.step[i]), y_of(c.mean[i]), 3.5);
      if (i == 0) break;
    }
    body += marker(c.index, kLossRight + 24, legend_y - 4, 4.5);
    body += text(kLossRight + 36, legend_y, series_label(c.method) + ": final " + c.final_loss, "font-size=\"12\"");
    legend_y += 20;
  }
  const std::string caption =
      "The mean training loss of every " + std::to_string(every) + " steps, drawn at the last of them: the line is " +
      "the mean over the " + seeds_text(result) + ", the shaded band the mean ± one sample standard deviation over " +
      "them (no band with one seed); the legend gives the final loss (the last tenth of the steps), mean ± std. " +
      "What to look for: whether a method trains more slowly or less smoothly than the others, and whether the " +
      "curves are further apart than their bands are wide (if not, these seeds do not separate the methods).";
  return figure("fig-train-loss", title, kLossWidth, kLossTop + kLossHeight + 45, body, caption);
}

namespace {

// Bars of `rows` (measurements) per method; `id`, `title` and the caption's
// opening name the figure.
std::string accuracy_bars(const Json& result, const std::vector<Measurement>& rows, const std::string& id,
                          const std::string& title, const std::string& caption_opening);

}  // namespace

std::string train_accuracy_figure(const Json& result) {
  const std::size_t test_images = result.at("data").at("test_images").get<std::size_t>();
  return accuracy_bars(
      result, measurements(result), "fig-train-accuracy", "Test accuracy per measurement and method",
      "Accuracy on the first " + std::to_string(test_images) + " test images: the bar is the mean over the " +
          seeds_text(result) + ", the whisker ± one sample standard deviation. Eval mode normalizes with the running " +
          "statistics gathered in training; population statistics are recomputed after training over K training " +
          "images (PreciseBN); batch statistics normalize each test batch by its own statistics (as in " +
          "training). Shifted: every test image moved down and right, the background filling in. Canvas: every test " +
          "image centred on a larger one, where the method's parameters and running statistics allow another height " +
          "and width; where they do not, the reason stands in place of the bar. What to look for: a gap between eval " +
          "mode and batch statistics (the running statistics do not stand for the batch statistics the network was " +
          "trained with), the fall under shifts, which methods cannot run on another image size, and the network " +
          "trained with a small batch; differences smaller than the whiskers are not separated by these seeds.");
}

std::string train_headline_figure(const Json& result) {
  std::vector<Measurement> rows;
  for (Measurement& m : measurements(result)) {
    if (m.label.rfind("eval mode", 0) == 0 || m.label.rfind("population statistics", 0) == 0) rows.push_back(std::move(m));
  }
  return accuracy_bars(result, rows, "fig-train-headline", "The headline: eval-mode test accuracy per method",
                       "Eval-mode accuracy on the test images, mean over the " + seeds_text(result) +
                           " with ± one standard deviation, with the running statistics and with population "
                           "statistics recomputed after training; `none` is the same network without normalization.");
}

namespace {

std::string accuracy_bars(const Json& result, const std::vector<Measurement>& rows, const std::string& figure_id,
                          const std::string& title, const std::string& caption) {
  std::vector<SeriesName> methods;
  for (const auto& [id, block] : result.at("methods").items()) methods.push_back(series_name(id, block));
  if (methods.empty()) return figure_not_applicable(figure_id, title, "the result holds no method");
  const double x0 = kBarLeft;
  const auto x_of = [&](double accuracy) { return x0 + std::clamp(accuracy, 0.0, 1.0) * kBarSpan; };
  const double chart_height =
      double(rows.size()) * (kGroupHeader + double(methods.size()) * kRow + kGroupGap);
  const double bottom = kBarsTop + chart_height;

  std::string body;
  // Grid and axis: accuracy 0 to 1 in tenths, chance (one class in `classes`) dashed.
  for (int t = 0; t <= 10; ++t) {
    const double x = x_of(t / 10.0);
    body += line(x, kBarsTop, x, bottom, t == 0 ? "stroke=\"#555\"" : "stroke=\"#e4e4e4\"");
    body += text(x, bottom + 15, number(t / 10.0), "text-anchor=\"middle\" font-size=\"11\"");
    body += text(x, kBarsTop - 6, number(t / 10.0), "text-anchor=\"middle\" font-size=\"11\"");
  }
  const double classes = result.at("data").at("classes").get<double>();
  const double chance = x_of(1.0 / classes);
  body += line(chance, kBarsTop, chance, bottom, "stroke=\"#555\" stroke-dasharray=\"4 3\"");
  body += text(chance + 4, bottom + 30, "chance (1/" + number(classes) + ")", "font-size=\"11\"");
  body += text(x0 + kBarSpan / 2, bottom + 44, "test accuracy (fraction of test images classified correctly)",
               "text-anchor=\"middle\" font-size=\"12\"");

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
        body += "<rect x=\"" + coord(x0) + "\" y=\"" + coord(mid - 5) + "\" width=\"" + coord(x_of(mean) - x0) +
                "\" height=\"10\" fill=\"" + series_colour(i) + "\" fill-opacity=\"0.75\"/>\n";
        const double lo = x_of(mean - sd), hi = x_of(mean + sd);
        if (sd > 0) {
          body += line(lo, mid, hi, mid, "stroke=\"#111\" stroke-width=\"1.2\"");
          body += line(lo, mid - 4, lo, mid + 4, "stroke=\"#111\" stroke-width=\"1.2\"");
          body += line(hi, mid - 4, hi, mid + 4, "stroke=\"#111\" stroke-width=\"1.2\"");
        }
        body += text(std::max(hi, x_of(mean)) + 6, mid + 4, plus_minus(*cell.stat), "font-size=\"11\"");
      }
      y += kRow;
    }
    y += kGroupGap;
  }
  return figure(figure_id, title, kBarsWidth, bottom + 54, body, caption);
}

}  // namespace

std::string train_section(const Json& result) {
  const Json& config = result.at("config");
  const Json& data = result.at("data");
  std::string out = "<section id=\"train\">\n<h1>bnlab train: does it matter in a trained network?</h1>\n<p>" +
                    escape(result.at("question").get<std::string>()) + "</p>\n";
  // The finding first, then its figure; what was trained and the details follow.
  if (result.contains("takeaway") && !result.at("takeaway").get<std::string>().empty()) {
    out += "<p class=\"summary\">" + escape(result.at("takeaway").get<std::string>()) + "</p>\n";
  }
  out += train_headline_figure(result) + "<table>\n";
  const auto row = [&](const std::string& label, const std::string& value) {
    out += "<tr><td>" + escape(label) + "</td><td>" + escape(value) + "</td></tr>\n";
  };
  const std::string source = data.at("source").get<std::string>();
  row("data", source == "stand-in" ? "generated stand-in images" : "Fashion-MNIST (" + source + ")");
  const Json& shape = data.at("image_shape");
  row("images", std::to_string(data.at("train_images").get<std::size_t>()) + " for training, " +
                    std::to_string(data.at("test_images").get<std::size_t>()) + " for testing, " +
                    std::to_string(shape.at(0).get<std::size_t>()) + "×" +
                    std::to_string(shape.at(1).get<std::size_t>()) + " pixels");
  const std::size_t epochs = config.at("epochs").get<std::size_t>();
  row("training", std::to_string(epochs) + (epochs == 1 ? " epoch" : " epochs") + ", batch " +
                      std::to_string(config.at("batch_size").get<std::size_t>()) + ", SGD lr " +
                      number(config.at("lr").get<double>()) +
                      (config.contains("lr_schedule")
                           ? " (" + config.at("lr_schedule").get<std::string>() + ", " +
                                 std::to_string(config.at("warmup_steps").get<std::size_t>()) + " warm-up steps)"
                           : std::string()) +
                      ", momentum " +
                      number(config.at("momentum").get<double>()));
  std::string seeds;
  for (const Json& s : config.at("seeds")) seeds += (seeds.empty() ? "" : ", ") + std::to_string(s.get<std::uint64_t>());
  row("seeds", seeds + " (one training run per method and seed)");
  row("network", result.at("network").get<std::string>());
  out += "</table>\n<p class=\"summary\">" + escape(result.at("summary").get<std::string>()) + "</p>\n";
  out += train_loss_figure(result);
  out += train_accuracy_figure(result);
  out += "<ul class=\"legend\">\n";
  for (const auto& [id, block] : result.at("methods").items()) {
    const SeriesName m = series_name(id, block);
    out += "<li><b>" + escape(m.column) + "</b> = " + escape(block.at("title").get<std::string>()) + "; " +
           std::to_string(block.at("parameters").get<std::size_t>()) + " parameters, of which " +
           std::to_string(block.at("norm_parameters").get<std::size_t>()) + " in the norm layers</li>\n";
  }
  out += "</ul>\n<p>The time per step is left out of the page (it varies between runs; the JSON result's "
         "<code>timing</code> has it), so the same result draws the same bytes.</p>\n";
  return out + "</section>\n";
}

}  // namespace bnlab::html
