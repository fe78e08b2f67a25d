#include "bnlab/train/train_report.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include <omp.h>

#include "bnlab/core/escape.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/train_schema.hpp"
#include "bnlab/engine/method.hpp"

namespace bnlab::train {
namespace {

using Json = nlohmann::ordered_json;

struct Spread {
  double mean = 0, std = 0, min = 0, max = 0;
};

// Mean, sample standard deviation (n - 1; 0 for one value), min and max.
Spread spread(const std::vector<double>& values) {
  Spread s;
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(values.size());
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.std = values.size() > 1 ? std::sqrt(squares / double(values.size() - 1)) : 0.0;
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

Json to_json(const Spread& s) { return Json{{"mean", s.mean}, {"std", s.std}, {"min", s.min}, {"max", s.max}}; }

// One value per seed.
std::vector<double> per_seed(const TrainMethodResult& m, const std::function<double(const SeedResult&)>& get) {
  std::vector<double> values;
  for (const SeedResult& r : m.seeds) values.push_back(get(r));
  return values;
}

Spread over_seeds(const TrainMethodResult& m, const std::function<double(const SeedResult&)>& get) {
  return spread(per_seed(m, get));
}

// "M1" for the three candidate methods, the id itself for none, ln, in, gn:G
// (the method table's column heading and sentence name).
std::string short_name(const TrainMethodResult& m) { return m.method.column; }
std::string long_name(const TrainMethodResult& m) { return m.method.name; }

std::string plus_minus(const Spread& s) { return fixed(s.mean, 3) + "±" + fixed(s.std, 3); }

Json loss_curve_json(const TrainMethodResult& m, std::size_t steps_per_point) {
  std::size_t points = m.seeds.empty() ? 0 : m.seeds.front().training.loss_curve.size();
  Json mean = Json::array(), std = Json::array();
  for (std::size_t i = 0; i < points; ++i) {
    Spread s = over_seeds(m, [i](const SeedResult& r) { return r.training.loss_curve[i]; });
    mean.push_back(s.mean);
    std.push_back(s.std);
  }
  return Json{{"steps_per_point", steps_per_point}, {"mean", mean}, {"std", std}};
}

Json seed_json(const SeedResult& r, const TrainConfig& c) {
  Json j;
  j["seed"] = r.seed;
  j["steps"] = r.training.steps;
  j["final_loss"] = r.training.final_loss;
  j["eval_accuracy"] = r.eval_accuracy;
  Json batch = Json::object();
  for (std::size_t i = 0; i < c.test_batch_sizes.size(); ++i) batch[std::to_string(c.test_batch_sizes[i])] = r.batch_accuracy[i];
  j["batch_accuracy"] = batch;
  Json shift = Json::object();
  for (std::size_t i = 0; i < c.shifts.size(); ++i) shift[std::to_string(c.shifts[i])] = r.shift_accuracy[i];
  j["shift_accuracy"] = shift;
  j["canvas_accuracy"] = r.canvas_accuracy ? Json(*r.canvas_accuracy) : Json(nullptr);
  if (r.small_batch) {
    j["small_batch"] = Json{{"steps", r.small_batch->steps},
                            {"diverged_at_step", r.small_batch->diverged_at ? Json(*r.small_batch->diverged_at) : Json(nullptr)},
                            {"final_loss", r.small_batch->diverged_at ? Json(nullptr) : Json(r.small_batch->final_loss)},
                            {"eval_accuracy", r.small_batch_eval_accuracy},
                            {"batch_accuracy", r.small_batch_batch_accuracy}};
  } else {
    j["small_batch"] = nullptr;
  }
  Json population = Json::object();
  for (std::size_t i = 0; i < r.population_accuracy.size(); ++i) {
    population[std::to_string(c.precise_bn_images[i])] = r.population_accuracy[i];
  }
  j["population_accuracy"] = r.population_accuracy.empty() ? Json(nullptr) : population;
  j["loss_curve"] = r.training.loss_curve;
  return j;
}

Json sweep_json(const SweepPoint& p) {
  Json j;
  j["lr"] = p.lr;
  j["outcome"] = p.training.diverged_at ? "diverged" : "trained";
  j["diverged_at_step"] = p.training.diverged_at ? Json(*p.training.diverged_at) : Json(nullptr);
  j["steps"] = p.training.steps;
  j["final_loss"] = p.training.diverged_at ? Json(nullptr) : Json(p.training.final_loss);
  j["eval_accuracy"] = p.eval_accuracy ? Json(*p.eval_accuracy) : Json(nullptr);
  return j;
}

// The largest lr of the sweep that trained without diverging, and every
// smaller one too (a stable lr above a diverging one would be luck, not
// stability); null when even the smallest diverged.
Json largest_stable_lr(const TrainMethodResult& m) {
  std::vector<SweepPoint> points = m.lr_sweep;
  std::sort(points.begin(), points.end(), [](const SweepPoint& a, const SweepPoint& b) { return a.lr < b.lr; });
  Json best = nullptr;
  for (const SweepPoint& p : points) {
    if (p.training.diverged_at) break;
    best = p.lr;
  }
  return best;
}

std::size_t diverged_small_batch_runs(const TrainMethodResult& m) {
  std::size_t count = 0;
  for (const SeedResult& r : m.seeds) count += r.small_batch && r.small_batch->diverged_at;
  return count;
}

// The small-batch runs' final losses, diverged runs left out (they have none).
std::vector<double> small_batch_final_losses(const TrainMethodResult& m) {
  std::vector<double> out;
  for (const SeedResult& r : m.seeds) {
    if (r.small_batch && !r.small_batch->diverged_at) out.push_back(r.small_batch->final_loss);
  }
  return out;
}

Json method_json(const TrainMethodResult& m, const TrainConfig& c) {
  Json j;
  j["title"] = m.method.title;
  j["name"] = m.method.name;
  j["column"] = m.method.column;
  j["normalizes"] = m.method.norm.has_value();
  j["batch_dependent"] = m.method.batch_dependent();
  j["parameters"] = m.parameters;
  j["norm_parameters"] = m.norm_parameters;
  j["loss_curve"] = loss_curve_json(m, c.loss_every);
  j["final_loss"] = to_json(over_seeds(m, [](const SeedResult& r) { return r.training.final_loss; }));
  j["eval_accuracy"] = to_json(over_seeds(m, [](const SeedResult& r) { return r.eval_accuracy; }));
  Json batch = Json::object(), gap = Json::object(), shift = Json::object();
  for (std::size_t i = 0; i < c.test_batch_sizes.size(); ++i) {
    const std::string key = std::to_string(c.test_batch_sizes[i]);
    batch[key] = to_json(over_seeds(m, [i](const SeedResult& r) { return r.batch_accuracy[i]; }));
    gap[key] = to_json(over_seeds(m, [i](const SeedResult& r) { return r.batch_accuracy[i] - r.eval_accuracy; }));
  }
  j["batch_accuracy"] = batch;
  j["train_eval_gap"] = gap;
  for (std::size_t i = 0; i < c.shifts.size(); ++i) {
    shift[std::to_string(c.shifts[i])] = to_json(over_seeds(m, [i](const SeedResult& r) { return r.shift_accuracy[i]; }));
  }
  j["shift_accuracy"] = shift;
  if (c.canvas) {
    Json canvas{{"size", c.canvas}, {"applicable", !m.canvas_problem}};
    const bool batch_dependent = m.method.batch_dependent();
    canvas["reason"] = m.canvas_problem ? *m.canvas_problem
                       : !m.method.norm  ? std::string("gamma and beta have no H or W axis; no statistics")
                       : batch_dependent ? std::string("gamma, beta and running statistics have no H or W axis")
                                         : std::string("gamma and beta have no H or W axis; the statistics are per sample");
    canvas["accuracy"] = m.canvas_problem ? Json(nullptr)
                                          : to_json(over_seeds(m, [](const SeedResult& r) { return *r.canvas_accuracy; }));
    j["canvas"] = canvas;
  } else {
    j["canvas"] = nullptr;
  }
  if (c.small_batch) {
    j["small_batch"] = Json{
        {"batch_size", c.small_batch},
        {"images", c.small_batch_images},
        {"diverged_runs", diverged_small_batch_runs(m)},
        // Over the runs that did not diverge (null when none trained).
        {"final_loss", small_batch_final_losses(m).empty() ? Json(nullptr) : to_json(spread(small_batch_final_losses(m)))},
        {"eval_accuracy", to_json(over_seeds(m, [](const SeedResult& r) { return r.small_batch_eval_accuracy; }))},
        {"batch_accuracy", to_json(over_seeds(m, [](const SeedResult& r) { return r.small_batch_batch_accuracy; }))}};
  } else {
    j["small_batch"] = nullptr;
  }
  if (m.method.batch_dependent() && !c.precise_bn_images.empty()) {
    Json population = Json::object();
    for (std::size_t i = 0; i < c.precise_bn_images.size(); ++i) {
      population[std::to_string(c.precise_bn_images[i])] =
          to_json(over_seeds(m, [i](const SeedResult& r) { return r.population_accuracy[i]; }));
    }
    j["population_accuracy"] = population;
  } else {
    j["population_accuracy"] = nullptr;  // no running statistics to recompute, or not asked
  }
  if (!c.lr_sweep.empty()) {
    Json points = Json::array();
    for (const SweepPoint& p : m.lr_sweep) points.push_back(sweep_json(p));
    j["lr_sweep"] = Json{{"images", c.lr_sweep_images}, {"seed", c.seeds.front()}, {"points", points},
                         {"largest_stable_lr", largest_stable_lr(m)}};
  } else {
    j["lr_sweep"] = nullptr;
  }
  Json seeds = Json::array();
  for (const SeedResult& r : m.seeds) seeds.push_back(seed_json(r, c));
  j["seeds"] = seeds;
  return j;
}

// "M1 0.812±0.010, M2 ..." for one per-seed measurement of every method
// (methods where `get` gives nothing are left out).
std::string list(const TrainResult& result, const std::function<std::optional<double>(const SeedResult&)>& get) {
  std::string text;
  for (const TrainMethodResult& m : result.methods) {
    std::vector<double> values;
    for (const SeedResult& r : m.seeds) {
      if (auto v = get(r)) values.push_back(*v);
    }
    if (values.empty()) continue;
    text += (text.empty() ? "" : ", ") + short_name(m) + " " + plus_minus(spread(values));
  }
  return text;
}

// The method with the highest mean of `get`, and those whose mean is within
// the sum of the two standard deviations of it (not separable with these seeds).
std::string leader(const TrainResult& result, const std::function<std::optional<double>(const SeedResult&)>& get) {
  std::vector<std::pair<std::string, Spread>> spreads;  // (sentence name, spread)
  for (const TrainMethodResult& m : result.methods) {
    std::vector<double> values;
    for (const SeedResult& r : m.seeds) {
      if (auto v = get(r)) values.push_back(*v);
    }
    if (!values.empty()) spreads.push_back({long_name(m), spread(values)});
  }
  if (spreads.empty()) return "";
  auto best = std::max_element(spreads.begin(), spreads.end(),
                               [](const auto& a, const auto& b) { return a.second.mean < b.second.mean; });
  std::string text = "highest: " + best->first;
  std::string ties;
  for (const auto& [name, s] : spreads) {
    if (name != best->first && best->second.mean - s.mean <= best->second.std + s.std) {
      ties += (ties.empty() ? "" : ", ") + name;
    }
  }
  if (!ties.empty()) text += " (within the seed spread of " + ties + ")";
  return text;
}

// "0.884±0.003 against 0.861±0.004: +0.023, beyond the seed spread" — a
// difference is "beyond the seed spread" when it exceeds the sum of the two
// standard deviations (the rule of leader() above).
std::string versus(const Spread& a, const Spread& b) {
  const double d = a.mean - b.mean;
  const bool beyond = std::abs(d) > a.std + b.std;
  return plus_minus(a) + " against " + plus_minus(b) + ": " + (d >= 0 ? "+" : "") + fixed(d, 3) + ", " +
         (beyond ? "beyond" : "within") + " the seed spread";
}

const TrainMethodResult* find_method(const TrainResult& result, const std::string& id) {
  for (const TrainMethodResult& m : result.methods) {
    if (m.method.id == id) return &m;
  }
  return nullptr;
}

}  // namespace

std::string takeaway(const TrainResult& result) {
  const TrainConfig& c = result.config;
  const auto eval = [](const SeedResult& r) { return r.eval_accuracy; };
  const TrainMethodResult* baseline = find_method(result, kNoNormId);
  const TrainMethodResult* reference = find_method(result, "3");
  std::vector<std::string> sentences;
  if (baseline && reference) {
    sentences.push_back("Method 3 (per channel, BatchNorm2d) against no normalization, eval-mode test accuracy " +
                        versus(over_seeds(*reference, eval), over_seeds(*baseline, eval)) + ".");
  }
  if (reference) {
    for (const TrainMethodResult& m : result.methods) {
      if (&m == reference || &m == baseline) continue;
      sentences.push_back(long_name(m) + " against Method 3: " + versus(over_seeds(m, eval), over_seeds(*reference, eval)) +
                          ".");
    }
  }
  // PreciseBN: population statistics over the largest K against the running
  // (EMA) ones; a method whose eval mode gains much from them lost that much
  // to its running statistics, not to its choice of axes.
  if (!c.precise_bn_images.empty()) {
    const std::size_t last = std::size_t(std::max_element(c.precise_bn_images.begin(), c.precise_bn_images.end()) -
                                         c.precise_bn_images.begin());
    std::string changes;
    for (const TrainMethodResult& m : result.methods) {
      if (!m.method.batch_dependent()) continue;
      changes += std::string(changes.empty() ? "" : "; ") + long_name(m) + " " +
                 versus(over_seeds(m, [last](const SeedResult& r) { return r.population_accuracy[last]; }),
                        over_seeds(m, eval));
    }
    if (!changes.empty()) {
      sentences.push_back("With population statistics over " + std::to_string(c.precise_bn_images[last]) +
                          " training images instead of the running averages: " + changes + ".");
    }
  }
  std::string out;
  for (const std::string& sentence : sentences) out += (out.empty() ? "" : " ") + sentence;
  return out;
}

std::string summary(const TrainResult& result) {
  const TrainConfig& c = result.config;
  std::ostringstream out;
  const std::size_t seeds = c.seeds.size();
  out << "Over " << seeds << " seed" << (seeds == 1 ? "" : "s") << " (mean±std), eval-mode test accuracy: "
      << list(result, [](const SeedResult& r) { return r.eval_accuracy; }) << "; "
      << leader(result, [](const SeedResult& r) { return r.eval_accuracy; }) << ".";
  if (!c.test_batch_sizes.empty()) {
    out << " With batch statistics of " << c.test_batch_sizes.front() << " test images instead of running ones: "
        << list(result, [](const SeedResult& r) { return r.batch_accuracy.front(); }) << ".";
  }
  if (c.test_batch_sizes.size() > 1) {
    out << " With batch statistics of " << c.test_batch_sizes.back() << ": "
        << list(result, [](const SeedResult& r) { return r.batch_accuracy.back(); }) << ".";
  }
  if (!c.shifts.empty()) {
    out << " Shifted by " << c.shifts.back() << " pixels: "
        << list(result, [](const SeedResult& r) { return r.shift_accuracy.back(); }) << "; "
        << leader(result, [](const SeedResult& r) { return r.shift_accuracy.back(); }) << ".";
  }
  if (c.canvas) {
    std::string runs = list(result, [](const SeedResult& r) { return r.canvas_accuracy; });
    std::string cannot;
    for (const TrainMethodResult& m : result.methods) {
      if (m.canvas_problem) cannot += (cannot.empty() ? "" : ", ") + long_name(m);
    }
    out << " On a " << c.canvas << "x" << c.canvas << " canvas: " << (runs.empty() ? "no method applies" : runs);
    if (!cannot.empty()) {
      out << " (" << cannot << ": not applicable, parameters or statistics tied to " << result.image_height << "x"
          << result.image_width << ")";
    }
    out << ".";
  }
  if (c.small_batch) {
    out << " Trained with batch " << c.small_batch << ", eval mode: "
        << list(result, [](const SeedResult& r) { return r.small_batch_eval_accuracy; }) << "; "
        << leader(result, [](const SeedResult& r) { return r.small_batch_eval_accuracy; }) << ".";
  }
  return out.str();
}

nlohmann::ordered_json to_json(const TrainResult& result) {
  const TrainConfig& c = result.config;
  Json j;
  j["schema"] = kTrainSchema;
  j["question"] = "Do the properties of the normalization methods matter once a network is trained?";
  j["config"] = to_json(c);
  Json used = Json::array();
  for (std::size_t k : c.precise_bn_images) used.push_back(precise_bn_images_used(c, k));
  j["precise_bn_images_used"] = used;  // per config.precise_bn_images entry: whole batches of the training images
  j["data"] = Json{{"source", result.data_source},
                   {"train_images", result.train_images},
                   {"test_images", result.test_images},
                   {"image_shape", {result.image_height, result.image_width}},
                   {"classes", kClasses}};
  j["network"] =
      "conv3x3 1->16 pad 1, norm, ReLU; conv3x3 16->32 stride 2 pad 1, norm, ReLU; conv3x3 32->32 stride 2 pad 1, "
      "norm, ReLU; global average pool; linear 32->10; softmax cross-entropy; SGD with momentum";
  Json methods = Json::object();
  for (const TrainMethodResult& m : result.methods) methods[m.method.id] = method_json(m, c);
  j["methods"] = methods;
  j["takeaway"] = takeaway(result);
  j["summary"] = summary(result);
  Json timing{{"total_seconds", result.total_seconds}, {"threads", omp_get_max_threads()}};
  Json per_method = Json::object();
  for (const TrainMethodResult& m : result.methods) {
    Json t{{"seconds_per_step", to_json(over_seeds(m, [](const SeedResult& r) { return r.training.seconds / double(r.training.steps); }))},
           {"eval_seconds", to_json(over_seeds(m, [](const SeedResult& r) { return r.eval_seconds; }))}};
    if (c.small_batch) {
      t["small_batch_seconds_per_step"] =
          to_json(over_seeds(m, [](const SeedResult& r) { return r.small_batch->seconds / double(r.small_batch->steps); }));
    }
    per_method[m.method.id] = t;
  }
  timing["methods"] = per_method;
  j["timing"] = timing;
  return j;
}

std::string format_table(const TrainResult& result) {
  const TrainConfig& c = result.config;
  std::ostringstream out;
  constexpr int kLabel = 38, kColumn = 14;
  auto pad = [](std::string text, int width) {
    // Column widths count characters; "±" is two bytes but one column.
    int shown = 0;
    for (unsigned char ch : text) shown += (ch & 0xC0) != 0x80;
    return std::string(std::size_t(std::max(0, width - shown)), ' ') + text;
  };
  auto header = [&](const std::string& title) {
    out << "\n" << title << std::string(std::size_t(std::max(0, kLabel - int(title.size()))), ' ');
    for (const TrainMethodResult& m : result.methods) out << pad(short_name(m), kColumn);
    out << "\n";
  };
  auto row = [&](const std::string& label, const std::function<std::string(const TrainMethodResult&)>& cell) {
    out << "  " << label << std::string(std::size_t(std::max(0, kLabel - 2 - int(label.size()))), ' ');
    for (const TrainMethodResult& m : result.methods) out << pad(cell(m), kColumn);
    out << "\n";
  };
  auto stat = [&](const std::function<double(const SeedResult&)>& get) {
    return [get](const TrainMethodResult& m) { return plus_minus(over_seeds(m, get)); };
  };

  out << "bnlab train: " << (result.data_source == "stand-in" ? "generated stand-in data" : "Fashion-MNIST (" + escape_control(result.data_source) + ")")  // a path: escaped like every echo
      << ", " << result.train_images << " training images x " << c.epochs << " epoch" << (c.epochs == 1 ? "" : "s")
      << ", batch " << c.batch_size << ", lr " << Json(c.lr).dump() << " (" << to_string(c.lr_schedule) << ", "
      << c.warmup_steps << " warm-up steps), momentum " << Json(c.momentum).dump() << "\n"
      << "             " << result.test_images << " test images; seeds";
  for (std::uint64_t s : c.seeds) out << " " << s;
  out << " (mean±std over seeds)\n";

  header("Test accuracy");
  row("eval mode (running statistics)", stat([](const SeedResult& r) { return r.eval_accuracy; }));
  for (std::size_t i = 0; i < c.precise_bn_images.size(); ++i) {
    const std::size_t k = c.precise_bn_images[i], used = precise_bn_images_used(c, k);
    row("population statistics, " + std::to_string(k) + " images" + (used == k ? "" : " (" + std::to_string(used) + " used)"),
        [i](const TrainMethodResult& m) {
      return m.method.batch_dependent() ? plus_minus(over_seeds(m, [i](const SeedResult& r) { return r.population_accuracy[i]; }))
                                        : std::string("n/a");
    });
  }
  for (std::size_t i = 0; i < c.test_batch_sizes.size(); ++i) {
    row("batch statistics, batch " + std::to_string(c.test_batch_sizes[i]),
        stat([i](const SeedResult& r) { return r.batch_accuracy[i]; }));
  }
  for (std::size_t i = 0; i < c.shifts.size(); ++i) {
    row("shifted by " + std::to_string(c.shifts[i]) + " px (eval mode)", stat([i](const SeedResult& r) { return r.shift_accuracy[i]; }));
  }
  if (c.canvas) {
    row("on a " + std::to_string(c.canvas) + "x" + std::to_string(c.canvas) + " canvas (eval mode)", [](const TrainMethodResult& m) {
      return m.canvas_problem ? std::string("n/a") : plus_minus(over_seeds(m, [](const SeedResult& r) { return *r.canvas_accuracy; }));
    });
  }
  if (c.small_batch) {
    header("Trained with batch " + std::to_string(c.small_batch) + " (" + std::to_string(c.small_batch_images) + " images)");
    row("eval mode", stat([](const SeedResult& r) { return r.small_batch_eval_accuracy; }));
    if (!c.test_batch_sizes.empty()) {
      row("batch statistics, batch " + std::to_string(c.test_batch_sizes.front()),
          stat([](const SeedResult& r) { return r.small_batch_batch_accuracy; }));
    }
    row("final training loss", [](const TrainMethodResult& m) {
      const std::vector<double> losses = small_batch_final_losses(m);
      return losses.empty() ? std::string("diverged") : plus_minus(spread(losses));
    });
    bool any_diverged = false;
    for (const TrainMethodResult& m : result.methods) any_diverged |= diverged_small_batch_runs(m) > 0;
    if (any_diverged) {
      row("runs that diverged (of " + std::to_string(c.seeds.size()) + ")",
          [](const TrainMethodResult& m) { return std::to_string(diverged_small_batch_runs(m)); });
    }
  }
  if (!c.lr_sweep.empty()) {
    header("Learning-rate sweep (" + std::to_string(c.lr_sweep_images) + " images, 1 epoch, seed " +
           std::to_string(c.seeds.front()) + ")");
    for (std::size_t i = 0; i < c.lr_sweep.size(); ++i) {
      row("lr " + Json(c.lr_sweep[i]).dump() + ": eval accuracy", [i](const TrainMethodResult& m) {
        const SweepPoint& p = m.lr_sweep[i];
        return p.training.diverged_at ? "diverged@" + std::to_string(*p.training.diverged_at) : fixed(*p.eval_accuracy, 3);
      });
    }
    row("largest stable lr", [](const TrainMethodResult& m) {
      const Json lr = largest_stable_lr(m);
      return lr.is_null() ? std::string("none") : lr.dump();
    });
  }
  header("Training");
  row("final training loss", stat([](const SeedResult& r) { return r.training.final_loss; }));
  row("time per step (ms)", [](const TrainMethodResult& m) {
    return fixed(1e3 * over_seeds(m, [](const SeedResult& r) { return r.training.seconds / double(r.training.steps); }).mean, 1);
  });
  row("parameters (of which norm)", [](const TrainMethodResult& m) {
    return std::to_string(m.parameters) + " (" + std::to_string(m.norm_parameters) + ")";
  });
  bool any_problem = false;
  for (const TrainMethodResult& m : result.methods) {
    if (!m.canvas_problem) continue;
    if (!any_problem) out << "\nn/a on the canvas:\n";
    any_problem = true;
    out << "  " << short_name(m) << ": " << *m.canvas_problem << "\n";
  }
  if (const std::string t = takeaway(result); !t.empty()) out << "\nTakeaway: " << t << "\n";
  out << "\nSummary: " << summary(result) << "\n";
  return out.str();
}

}  // namespace bnlab::train
