#include "bnlab/train/train_config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/nearest_name.hpp"
#include "bnlab/core/split.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/output_format.hpp"
#include "bnlab/experiment/config_keys.hpp"
#include "bnlab/io/json_text.hpp"
#include "bnlab/train/train_method.hpp"

namespace bnlab::train {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// The valid range of each numeric key, shared by the config file and the
// command line (one fact in one place).
struct CountRange {
  std::size_t lo, hi;
};
constexpr CountRange kTrainImages{1, 60000}, kEpochs{1, 1000}, kBatchSize{2, 60000}, kTestImages{1, 10000},
    kTestBatchSize{1, 10000}, kShift{1, 27}, kCanvas{0, 256}, kSmallBatch{0, 60000}, kSmallBatchImages{1, 60000},
    kLossEvery{1, 100000}, kWarmupSteps{0, 1000000}, kPreciseBnImages{2, 60000}, kLrSweepImages{2, 60000};
struct RealRange {
  double lo, hi;
  bool lo_closed, hi_open;
};
constexpr RealRange kLr{0.0, 10.0, false, false}, kMomentum{0.0, 1.0, true, true}, kEps{0.0, 1.0, true, false},
    kNormMomentum{0.0, 1.0, true, false};

// "0.1", "10", "1e-05": a number as a person would type it.
std::string short_number(double v) { return significant(v, 6); }  // %g

// A range as an interval: "[1, 60000]", "(0, 10]".
std::string interval_text(const CountRange& r) { return "[" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]"; }
std::string interval_text(const RealRange& r) {
  return std::string(r.lo_closed ? "[" : "(") + short_number(r.lo) + ", " + short_number(r.hi) + (r.hi_open ? ")" : "]");
}

std::string count_range_text(const CountRange& r) { return "expected an integer in " + interval_text(r); }
std::string real_range_text(const RealRange& r) { return "expected a number in " + interval_text(r); }

bool in_range(double x, const RealRange& r) {
  return (r.lo_closed ? x >= r.lo : x > r.lo) && (r.hi_open ? x < r.hi : x <= r.hi);
}

using experiment::KeyValue;
using Key = experiment::ConfigKey<TrainConfig, TrainOverrides>;

// ---- values of the config file ----------------------------------------------------

std::string data_of(const KeyValue& v) {
  std::string text = v.string();
  if (text.empty()) v.fail("expected a directory or \"stand-in\", got \"\"");
  if (text == "stand-in") return text;
  fs::path dir(text);
  if (dir.is_relative()) dir = fs::path(v.path).parent_path() / dir;
  return dir.lexically_normal().string();
}

std::string format_of(const KeyValue& v) {
  std::string text = v.string();
  if (text != "table" && text != "json") v.fail("unknown format " + v.shown() + " (valid: table, json)");
  return text;
}

std::vector<std::string> methods_of(const KeyValue& v) {
  std::string list;
  if (v.value.is_string()) {
    list = v.value.get<std::string>();
  } else if (v.value.is_array() && !v.value.empty()) {
    for (std::size_t i = 0; i < v.value.size(); ++i) {
      if (i) list += ',';
      list += v.item(i).string();
    }
  } else {
    v.fail("expected a non-empty array of method names or a string such as \"1,2,3\", got " + v.shown());
  }
  std::vector<std::string> ids;
  for (const TrainMethod& m : parse_train_method_list(list, v.at())) ids.push_back(m.id);
  return ids;
}

std::size_t count_of(const KeyValue& v, const CountRange& range) {
  const Json& value = v.value;
  if (!value.is_number_integer() || (!value.is_number_unsigned() && value.get<long long>() < 0)) {
    v.fail(count_range_text(range) + ", got " + v.shown());
  }
  const std::uint64_t n = value.get<std::uint64_t>();
  if (n < range.lo || n > range.hi) v.fail(count_range_text(range) + ", got " + v.shown());
  return std::size_t(n);
}

std::vector<std::size_t> counts_of(const KeyValue& v, const CountRange& range) {
  if (!v.value.is_array()) v.fail("expected an array of integers, got " + v.shown());
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < v.value.size(); ++i) out.push_back(count_of(v.item(i), range));
  return out;
}

std::vector<std::uint64_t> seeds_of(const KeyValue& v) {
  if (!v.value.is_array() || v.value.empty()) v.fail("expected a non-empty array of integers >= 0, got " + v.shown());
  std::vector<std::uint64_t> out;
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < v.value.size(); ++i) {
    const KeyValue item = v.item(i);
    if (!item.value.is_number_unsigned()) item.fail("expected an integer >= 0, got " + item.shown());
    if (!seen.insert(item.value.get<std::uint64_t>()).second) item.fail("duplicate seed " + item.shown());
    out.push_back(item.value.get<std::uint64_t>());
  }
  return out;
}

double number_of(const KeyValue& v, const RealRange& range) {
  if (!v.value.is_number() || !in_range(v.value.get<double>(), range)) {
    v.fail(real_range_text(range) + ", got " + v.shown());
  }
  return v.value.get<double>();
}

std::vector<double> numbers_of(const KeyValue& v, const RealRange& range) {
  if (!v.value.is_array()) v.fail("expected an array of numbers, got " + v.shown());
  std::vector<double> out;
  for (std::size_t i = 0; i < v.value.size(); ++i) out.push_back(number_of(v.item(i), range));
  return out;
}

// ---- values typed on the command line (ranges checked by apply_overrides) --------

// Decimal digits only (no sign, no fraction), up to 2^64 - 1.
std::size_t option_count(const std::string& text, const std::string& flag) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || text.front() == '-') {
    throw Error(flag + ": expected an integer, got " + bnlab::quoted(text));
  }
  return value;
}

// ---- the rows: one per key --------------------------------------------------------

std::string count_type(const CountRange& r) { return "integer in " + interval_text(r); }
std::string real_type(const RealRange& r) { return "number in " + interval_text(r); }

std::vector<Key> make_train_keys() {
  const TrainConfig d;  // the defaults the rows show
  auto list = [](const auto& values) {
    std::string text;
    for (const auto& value : values) {
      if (!text.empty()) text += ',';  // appended: GCC 12 misreads "," + std::string as overlapping (-Wrestrict)
      if constexpr (std::is_integral_v<std::decay_t<decltype(value)>>) text += std::to_string(value);
      else text += short_number(value);
    }
    return text.empty() ? std::string("[]") : text;
  };
  std::vector<Key> k;
  k.push_back({{"description", "", "string", "free text", ""},
               [](TrainConfig& c, const KeyValue& v) { c.description = v.string(); }});
  k.push_back({{"data", "--data", "a directory or stand-in",
                "where the four Fashion-MNIST .gz files are (in a config file relative to its directory), or "
                "stand-in for generated images",
                d.data},
               [](TrainConfig& c, const KeyValue& v) { c.data = data_of(v); },
               [](TrainOverrides& o, const std::string& text) { o.data = text; }});
  k.push_back({{"methods", "--methods", "comma-separated names; in a config file also a JSON array",
                "the methods: none, 1, 2, 3, bn, ln, in, gn:G (none: a per-channel scale and bias in place of the norm)",
                "none,1,2,3"},
               [](TrainConfig& c, const KeyValue& v) { c.methods = methods_of(v); },
               [](TrainOverrides& o, const std::string& text) { o.methods = text; }});
  k.push_back({{"seeds", "--seeds", "integers in [0, 2^64): 0,1,2 or 0 1 2; in a config file a JSON array",
                "one training run per method and seed", list(d.seeds)},
               [](TrainConfig& c, const KeyValue& v) { c.seeds = seeds_of(v); },
               [](TrainOverrides& o, const std::string& text) {
                 o.seeds.clear();
                 for (const std::string& seed : split_commas_trimmed(text)) o.seeds.push_back(parse_seed(seed, "--seeds"));
               },
               true});
  k.push_back({{"train_images", "--train-images", count_type(kTrainImages), "use the first n training images",
                std::to_string(d.train_images)},
               [](TrainConfig& c, const KeyValue& v) { c.train_images = count_of(v, kTrainImages); },
               [](TrainOverrides& o, const std::string& t) { o.train_images = option_count(t, "--train-images"); }});
  k.push_back({{"epochs", "--epochs", count_type(kEpochs), "passes over the training images", std::to_string(d.epochs)},
               [](TrainConfig& c, const KeyValue& v) { c.epochs = count_of(v, kEpochs); },
               [](TrainOverrides& o, const std::string& t) { o.epochs = option_count(t, "--epochs"); }});
  k.push_back({{"batch_size", "--batch-size", count_type(kBatchSize), "training batch size", std::to_string(d.batch_size)},
               [](TrainConfig& c, const KeyValue& v) { c.batch_size = count_of(v, kBatchSize); },
               [](TrainOverrides& o, const std::string& t) { o.batch_size = option_count(t, "--batch-size"); }});
  k.push_back({{"lr", "--lr", real_type(kLr),
                "SGD learning rate (its peak, after the warm-up)", short_number(d.lr)},
               [](TrainConfig& c, const KeyValue& v) { c.lr = number_of(v, kLr); },
               [](TrainOverrides& o, const std::string& t) { o.lr = parse_number(t, "--lr"); }});
  k.push_back({{"lr_schedule", "--lr-schedule", "cosine or constant",
                "after the warm-up: cosine (decay to 0 at the last step) or constant", to_string(d.lr_schedule)},
               [](TrainConfig& c, const KeyValue& v) { c.lr_schedule = parse_lr_schedule(v.string(), v.at()); },
               [](TrainOverrides& o, const std::string& t) { o.lr_schedule = t; }});
  k.push_back({{"warmup_steps", "--warmup-steps", count_type(kWarmupSteps),
                "steps of linear warm-up from lr / warmup_steps to lr (0: none)", std::to_string(d.warmup_steps)},
               [](TrainConfig& c, const KeyValue& v) { c.warmup_steps = count_of(v, kWarmupSteps); },
               [](TrainOverrides& o, const std::string& t) { o.warmup_steps = option_count(t, "--warmup-steps"); }});
  k.push_back({{"momentum", "", real_type(kMomentum), "SGD momentum (PyTorch's form)", short_number(d.momentum)},
               [](TrainConfig& c, const KeyValue& v) { c.momentum = number_of(v, kMomentum); }});
  k.push_back({{"eps", "", real_type(kEps), "the norm layers' eps", short_number(d.eps)},
               [](TrainConfig& c, const KeyValue& v) { c.eps = number_of(v, kEps); }});
  k.push_back({{"norm_momentum", "", real_type(kNormMomentum), "the norm layers' running-statistics momentum",
                short_number(d.norm_momentum)},
               [](TrainConfig& c, const KeyValue& v) { c.norm_momentum = number_of(v, kNormMomentum); }});
  k.push_back({{"precise_bn_images", "--precise-bn-images",
                "comma-separated integers in " + interval_text(kPreciseBnImages) + "; in a config file a JSON array",
                "population statistics (PreciseBN) over K training images for each K (whole batches, at most the "
                "training images), evaluated beside the running statistics; \"\" or [] skips them",
                list(d.precise_bn_images)},
               [](TrainConfig& c, const KeyValue& v) { c.precise_bn_images = counts_of(v, kPreciseBnImages); },
               [](TrainOverrides& o, const std::string& t) { o.precise_bn_images = t; }});
  k.push_back({{"lr_sweep", "", "a JSON array of numbers in " + interval_text(kLr),
                "short trainings at each learning rate ([]: no sweep)", list(d.lr_sweep)},
               [](TrainConfig& c, const KeyValue& v) { c.lr_sweep = numbers_of(v, kLr); }});
  k.push_back({{"lr_sweep_images", "", count_type(kLrSweepImages), "training images of each sweep run (one epoch)",
                std::to_string(d.lr_sweep_images)},
               [](TrainConfig& c, const KeyValue& v) { c.lr_sweep_images = count_of(v, kLrSweepImages); }});
  k.push_back({{"test_images", "--test-images", count_type(kTestImages),
                "use the first n test images (a multiple of each test batch size)", std::to_string(d.test_images)},
               [](TrainConfig& c, const KeyValue& v) { c.test_images = count_of(v, kTestImages); },
               [](TrainOverrides& o, const std::string& t) { o.test_images = option_count(t, "--test-images"); }});
  k.push_back({{"test_batch_sizes", "--test-batch-sizes",
                "integers >= 2: 500,2 or 500 2; in a config file a JSON array",
                "batch sizes of the evaluation with batch statistics, each dividing the test images",
                list(d.test_batch_sizes)},
               [](TrainConfig& c, const KeyValue& v) { c.test_batch_sizes = counts_of(v, kTestBatchSize); },
               [](TrainOverrides& o, const std::string& text) {
                 o.test_batch_sizes.clear();
                 for (const std::string& size : split_commas_trimmed(text))
                   o.test_batch_sizes.push_back(option_count(size, "--test-batch-sizes"));
               },
               true});
  k.push_back({{"shifts", "", "a JSON array of integers in " + interval_text(kShift),
                "translations (down and right by k pixels) evaluated", list(d.shifts)},
               [](TrainConfig& c, const KeyValue& v) { c.shifts = counts_of(v, kShift); }});
  k.push_back({{"canvas", "", count_type(kCanvas) + ", 0 or >= 28",
                "evaluate each test image centred on a canvas x canvas image (0: skip)", std::to_string(d.canvas)},
               [](TrainConfig& c, const KeyValue& v) { c.canvas = count_of(v, kCanvas); }});
  k.push_back({{"small_batch", "--small-batch", count_type(kSmallBatch) + ", 0 or >= 2",
                "batch size of the extra run trained with small batches (0: skip it)", std::to_string(d.small_batch)},
               [](TrainConfig& c, const KeyValue& v) { c.small_batch = count_of(v, kSmallBatch); },
               [](TrainOverrides& o, const std::string& t) { o.small_batch = option_count(t, "--small-batch"); }});
  k.push_back({{"small_batch_images", "", count_type(kSmallBatchImages),
                "training images of the small-batch run (one epoch)", std::to_string(d.small_batch_images)},
               [](TrainConfig& c, const KeyValue& v) { c.small_batch_images = count_of(v, kSmallBatchImages); }});
  k.push_back({{"loss_every", "", count_type(kLossEvery), "steps averaged into one point of the loss curve",
                std::to_string(d.loss_every)},
               [](TrainConfig& c, const KeyValue& v) { c.loss_every = count_of(v, kLossEvery); }});
  k.push_back({{"format", "--format", "json or table", "what stdout shows: the JSON result or the table",
                "table on a terminal, json otherwise"},
               [](TrainConfig& c, const KeyValue& v) { c.format = format_of(v); },
               [](TrainOverrides& o, const std::string& t) { o.format = parse_output_format(t, "--format"); }});
  k.push_back({{"output", "--output", "a path",
                "also write the JSON result (schema bnlab.train/1) to this file (atomically)", ""},
               [](TrainConfig& c, const KeyValue& v) { c.output = v.string(); },
               [](TrainOverrides& o, const std::string& t) { o.output = t; }});
  return k;
}

}  // namespace

const std::vector<experiment::ConfigKey<TrainConfig, TrainOverrides>>& train_keys() {
  static const std::vector<Key> keys = make_train_keys();
  return keys;
}

TrainConfig load_train_config(const std::string& path) {
  // The strict reader (io/json_text.hpp): a regular file of at most 64 MiB,
  // no repeated key at any depth, at most 64 levels deep (echoing a value
  // recurses), no number that under- or overflows.
  const Json root = parse_json_file<Json>(path);
  TrainConfig config;
  experiment::read_config_object(config, root, path, train_keys());
  try {
    validate(config);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return config;
}

void apply_overrides(TrainConfig& config, const TrainOverrides& o) {
  TrainConfig c = config;
  const auto count = [](std::size_t n, const CountRange& range, const char* option) {
    if (n < range.lo || n > range.hi) throw Error(std::string(option) + ": " + count_range_text(range) + ", got " + std::to_string(n));
    return n;
  };
  if (o.data) {
    if (o.data->empty()) throw Error("--data: expected a directory or \"stand-in\", got \"\"");
    c.data = *o.data;
  }
  if (o.methods) {
    c.methods.clear();
    for (const TrainMethod& m : parse_train_method_list(*o.methods, "--methods")) c.methods.push_back(m.id);
  }
  if (!o.seeds.empty()) {
    std::set<std::uint64_t> seen;
    for (std::uint64_t seed : o.seeds) {
      if (!seen.insert(seed).second) throw Error("--seeds: duplicate seed " + std::to_string(seed));
    }
    c.seeds = o.seeds;
  }
  if (o.train_images) c.train_images = count(*o.train_images, kTrainImages, "--train-images");
  if (o.test_images) c.test_images = count(*o.test_images, kTestImages, "--test-images");
  if (o.epochs) c.epochs = count(*o.epochs, kEpochs, "--epochs");
  if (o.batch_size) c.batch_size = count(*o.batch_size, kBatchSize, "--batch-size");
  if (o.lr) {
    if (!in_range(*o.lr, kLr)) throw Error("--lr: " + real_range_text(kLr) + ", got " + short_number(*o.lr));
    c.lr = *o.lr;
  }
  if (o.lr_schedule) c.lr_schedule = parse_lr_schedule(*o.lr_schedule, "--lr-schedule");
  if (o.warmup_steps) c.warmup_steps = count(*o.warmup_steps, kWarmupSteps, "--warmup-steps");
  if (o.precise_bn_images) {
    c.precise_bn_images.clear();
    if (!o.precise_bn_images->empty()) {
      for (const std::string& field : split_commas(*o.precise_bn_images)) {
        std::size_t k = 0;
        const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), k);
        if (field.empty() || error != std::errc() || end != field.data() + field.size()) {
          throw Error("--precise-bn-images: expected a comma-separated list of image counts such as 256,1024,4096 "
                      "(or \"\" for none), got " + bnlab::quoted(*o.precise_bn_images));
        }
        c.precise_bn_images.push_back(count(k, kPreciseBnImages, "--precise-bn-images"));
      }
    }
  }
  if (o.format) c.format = *o.format;
  if (o.output) c.output = *o.output;
  if (!o.test_batch_sizes.empty()) {
    for (std::size_t b : o.test_batch_sizes) {
      // >= 2 as validate() requires: batch statistics of one image are no statistics.
      count(b, CountRange{2, kTestBatchSize.hi}, "--test-batch-sizes");
    }
    c.test_batch_sizes = o.test_batch_sizes;
  }
  if (o.small_batch) {
    c.small_batch = count(*o.small_batch, kSmallBatch, "--small-batch");
    if (c.small_batch == 1) throw Error("--small-batch: must be 0 (skip) or >= 2, got 1");
  }
  if (o.test_images || !o.test_batch_sizes.empty()) {
    for (std::size_t b : c.test_batch_sizes) {
      if (c.test_images % b != 0) {
        const std::string images = std::to_string(c.test_images), batch = std::to_string(b);
        if (o.test_images) {
          throw Error("--test-images: " + images + " is not a multiple of the test batch size " + batch +
                      " (--test-batch-sizes sets them, e.g. --test-batch-sizes 100,2)");
        }
        throw Error("--test-batch-sizes: " + batch + " does not divide the " + images + " test images (--test-images sets them)");
      }
    }
  }
  validate(c);
  config = std::move(c);
}

std::size_t precise_bn_images_used(const TrainConfig& c, std::size_t k) {
  const std::size_t most = c.train_images / c.batch_size;
  return c.batch_size * std::clamp<std::size_t>(k / c.batch_size, 1, std::max<std::size_t>(1, most));
}

void validate(const TrainConfig& c) {
  if (c.small_batch == 1) throw Error("/small_batch: must be 0 (skip) or >= 2 (got 1)");
  if (c.canvas != 0 && c.canvas < 28) throw Error("/canvas: must be 0 (skip) or >= 28 (got " + std::to_string(c.canvas) + ")");
  if (c.batch_size > c.train_images) {
    throw Error("/batch_size: " + std::to_string(c.batch_size) + " is more than /train_images (" +
                std::to_string(c.train_images) + ")");
  }
  if (c.small_batch > c.small_batch_images) {
    throw Error("/small_batch: " + std::to_string(c.small_batch) + " is more than /small_batch_images (" +
                std::to_string(c.small_batch_images) + ")");
  }
  if (!c.lr_sweep.empty() && c.lr_sweep_images < c.batch_size) {
    throw Error("/lr_sweep_images: " + std::to_string(c.lr_sweep_images) + " is less than /batch_size (" +
                std::to_string(c.batch_size) + ")");
  }
  for (std::size_t b : c.test_batch_sizes) {
    if (b < 2 || c.test_images % b != 0) {
      throw Error("/test_batch_sizes: " + std::to_string(b) + " must be >= 2 and divide /test_images (" +
                  std::to_string(c.test_images) + ") so every batch has the same size");
    }
  }
}

nlohmann::ordered_json to_json(const TrainConfig& c) {
  Json j;
  j["data"] = c.data;
  j["methods"] = c.methods;
  j["seeds"] = c.seeds;
  j["train_images"] = c.train_images;
  j["epochs"] = c.epochs;
  j["batch_size"] = c.batch_size;
  j["lr"] = c.lr;
  j["lr_schedule"] = to_string(c.lr_schedule);
  j["warmup_steps"] = c.warmup_steps;
  j["momentum"] = c.momentum;
  j["eps"] = c.eps;
  j["norm_momentum"] = c.norm_momentum;
  j["precise_bn_images"] = c.precise_bn_images;
  j["lr_sweep"] = c.lr_sweep;
  j["lr_sweep_images"] = c.lr_sweep_images;
  j["test_images"] = c.test_images;
  j["test_batch_sizes"] = c.test_batch_sizes;
  j["shifts"] = c.shifts;
  j["canvas"] = c.canvas;
  j["small_batch"] = c.small_batch;
  j["small_batch_images"] = c.small_batch_images;
  j["loss_every"] = c.loss_every;
  return j;
}

}  // namespace bnlab::train
