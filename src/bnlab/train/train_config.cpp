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
#include <utility>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/nearest_name.hpp"
#include "bnlab/core/split.hpp"
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

std::string count_range_text(const CountRange& r) {
  return "expected an integer in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
}

// "0.1", "10", "1e-05": a number as a person would type it.
std::string short_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

std::string real_range_text(const RealRange& r) {
  const auto text = short_number;
  return "expected a number in " + std::string(r.lo_closed ? "[" : "(") + text(r.lo) + ", " + text(r.hi) +
         (r.hi_open ? ")" : "]");
}

bool in_range(double x, const RealRange& r) {
  return (r.lo_closed ? x >= r.lo : x > r.lo) && (r.hi_open ? x < r.hi : x <= r.hi);
}

std::string shown(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 60) + "...";
  return text;
}

class Parser {
 public:
  explicit Parser(std::string path) : path_(std::move(path)) {}

  TrainConfig parse(const Json& root) {
    if (!root.is_object()) fail("/", "expected an object, got " + shown(root));
    TrainConfig c;
    // One row per key: its name and how its value is read into c. The rows
    // are the one list of keys: the unknown-key error names them in this order.
    using Read = std::function<void(const Json&, const std::string&)>;
    const std::vector<std::pair<const char*, Read>> keys = {
        {"description", [&](const Json& v, const std::string& at) { c.description = str(v, at); }},
        {"data", [&](const Json& v, const std::string& at) { c.data = data(v, at); }},
        {"methods", [&](const Json& v, const std::string& at) { c.methods = methods(v, at); }},
        {"seeds", [&](const Json& v, const std::string& at) { c.seeds = seeds(v, at); }},
        {"train_images", [&](const Json& v, const std::string& at) { c.train_images = count(v, at, kTrainImages); }},
        {"epochs", [&](const Json& v, const std::string& at) { c.epochs = count(v, at, kEpochs); }},
        {"batch_size", [&](const Json& v, const std::string& at) { c.batch_size = count(v, at, kBatchSize); }},
        {"lr", [&](const Json& v, const std::string& at) { c.lr = number(v, at, kLr); }},
        {"lr_schedule",
         [&](const Json& v, const std::string& at) { c.lr_schedule = parse_lr_schedule(str(v, at), path_ + ": " + at); }},
        {"warmup_steps", [&](const Json& v, const std::string& at) { c.warmup_steps = count(v, at, kWarmupSteps); }},
        {"momentum", [&](const Json& v, const std::string& at) { c.momentum = number(v, at, kMomentum); }},
        {"eps", [&](const Json& v, const std::string& at) { c.eps = number(v, at, kEps); }},
        {"norm_momentum", [&](const Json& v, const std::string& at) { c.norm_momentum = number(v, at, kNormMomentum); }},
        {"precise_bn_images",
         [&](const Json& v, const std::string& at) { c.precise_bn_images = counts(v, at, kPreciseBnImages); }},
        {"lr_sweep", [&](const Json& v, const std::string& at) { c.lr_sweep = numbers(v, at, kLr); }},
        {"lr_sweep_images", [&](const Json& v, const std::string& at) { c.lr_sweep_images = count(v, at, kLrSweepImages); }},
        {"test_images", [&](const Json& v, const std::string& at) { c.test_images = count(v, at, kTestImages); }},
        {"test_batch_sizes",
         [&](const Json& v, const std::string& at) { c.test_batch_sizes = counts(v, at, kTestBatchSize); }},
        {"shifts", [&](const Json& v, const std::string& at) { c.shifts = counts(v, at, kShift); }},
        {"canvas", [&](const Json& v, const std::string& at) { c.canvas = count(v, at, kCanvas); }},
        {"small_batch", [&](const Json& v, const std::string& at) { c.small_batch = count(v, at, kSmallBatch); }},
        {"small_batch_images",
         [&](const Json& v, const std::string& at) { c.small_batch_images = count(v, at, kSmallBatchImages); }},
        {"loss_every", [&](const Json& v, const std::string& at) { c.loss_every = count(v, at, kLossEvery); }},
        {"format", [&](const Json& v, const std::string& at) { c.format = format(v, at); }},
        {"output", [&](const Json& v, const std::string& at) { c.output = str(v, at); }},
    };
    for (const auto& item : root.items()) {
      // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
      const std::string& key = item.key();
      const Json& value = item.value();
      const std::string where = "/" + key;
      const auto row = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return key == k.first; });
      if (row == keys.end()) {
        std::vector<std::string> names;
        std::string valid;
        for (const auto& k : keys) {
          names.emplace_back(k.first);
          valid += (valid.empty() ? "" : ", ") + names.back();
        }
        const std::string nearest = nearest_name(key, names);
        fail(where, "unknown key" + (nearest.empty() ? "" : "; did you mean \"" + nearest + "\"?") + " (valid: " + valid + ")");
      }
      row->second(value, where);
    }
    try {
      validate(c);
    } catch (const Error& e) {
      throw Error(path_ + ": " + e.what());
    }
    return c;
  }

 private:
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(path_ + ": " + where + ": " + what);
  }

  std::string str(const Json& value, const std::string& where) const {
    if (!value.is_string()) fail(where, "expected a string, got " + shown(value));
    return value.get<std::string>();
  }

  std::string data(const Json& value, const std::string& where) const {
    std::string text = str(value, where);
    if (text.empty()) fail(where, "expected a directory or \"stand-in\", got \"\"");
    if (text == "stand-in") return text;
    fs::path dir(text);
    if (dir.is_relative()) dir = fs::path(path_).parent_path() / dir;
    return dir.lexically_normal().string();
  }

  std::string format(const Json& value, const std::string& where) const {
    std::string text = str(value, where);
    if (text != "table" && text != "json") fail(where, "unknown format " + shown(value) + " (valid: table, json)");
    return text;
  }

  std::vector<std::string> methods(const Json& value, const std::string& where) const {
    std::string list;
    if (value.is_string()) {
      list = value.get<std::string>();
    } else if (value.is_array() && !value.empty()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i) list += ',';
        list += str(value[i], where + "/" + std::to_string(i));
      }
    } else {
      fail(where, "expected a non-empty array of method names or a string such as \"1,2,3\", got " + shown(value));
    }
    std::vector<std::string> ids;
    for (const TrainMethod& m : parse_train_method_list(list, path_ + ": " + where)) ids.push_back(m.id);
    return ids;
  }

  std::size_t count(const Json& value, const std::string& where, const CountRange& range) const {
    if (!value.is_number_integer() || (value.is_number_integer() && !value.is_number_unsigned() && value.get<long long>() < 0)) {
      fail(where, count_range_text(range) + ", got " + shown(value));
    }
    std::uint64_t n = value.get<std::uint64_t>();
    if (n < range.lo || n > range.hi) fail(where, count_range_text(range) + ", got " + shown(value));
    return std::size_t(n);
  }

  std::vector<std::size_t> counts(const Json& value, const std::string& where, const CountRange& range) const {
    if (!value.is_array()) fail(where, "expected an array of integers, got " + shown(value));
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < value.size(); ++i) out.push_back(count(value[i], where + "/" + std::to_string(i), range));
    return out;
  }

  std::vector<std::uint64_t> seeds(const Json& value, const std::string& where) const {
    if (!value.is_array() || value.empty()) fail(where, "expected a non-empty array of integers >= 0, got " + shown(value));
    std::vector<std::uint64_t> out;
    std::set<std::uint64_t> seen;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const Json& v = value[i];
      if (!v.is_number_unsigned()) fail(where + "/" + std::to_string(i), "expected an integer >= 0, got " + shown(v));
      if (!seen.insert(v.get<std::uint64_t>()).second) fail(where + "/" + std::to_string(i), "duplicate seed " + shown(v));
      out.push_back(v.get<std::uint64_t>());
    }
    return out;
  }

  std::vector<double> numbers(const Json& value, const std::string& where, const RealRange& range) const {
    if (!value.is_array()) fail(where, "expected an array of numbers, got " + shown(value));
    std::vector<double> out;
    for (std::size_t i = 0; i < value.size(); ++i) out.push_back(number(value[i], where + "/" + std::to_string(i), range));
    return out;
  }

  double number(const Json& value, const std::string& where, const RealRange& range) const {
    if (!value.is_number() || !in_range(value.get<double>(), range)) {
      fail(where, real_range_text(range) + ", got " + shown(value));
    }
    return value.get<double>();
  }

  std::string path_;
};

}  // namespace

TrainConfig load_train_config(const std::string& path) {
  // The strict reader (io/json_text.hpp): a regular file of at most 64 MiB,
  // no repeated key at any depth, at most 64 levels deep (echoing a value
  // recurses), no number that under- or overflows.
  return Parser(path).parse(parse_json_file<Json>(path));
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
