#pragma once
// The experiment of `bnlab train`: which methods and seeds, how much data,
// how to train and what to measure. From the embedded default
// (TrainConfig{}, = configs/train/default.json), a JSON config file (--config), then
// command-line options, later ones winning.
//
// Config file keys (all optional; anything else is an error naming its path):
//   description         string      free text
//   data                string      directory with the four Fashion-MNIST .gz files
//                                   (relative to the config file), or "stand-in"
//   methods             ["1","2","3"] or "1,2,3"   1, 2, 3, bn, ln, in, gn:G
//   seeds               [0, 1, 2]   one training run per method and seed
//   train_images        integer     the first n training images (at most 60000)
//   epochs              integer     passes over them
//   batch_size          integer     >= 2
//   lr, momentum        numbers     SGD: lr > 0, momentum in [0, 1)
//   eps, norm_momentum  numbers     of the norm layers, in [0, 1]
//   test_images         integer     the first n test images (at most 10000)
//   test_batch_sizes    [500, 2]    batch sizes of the train-mode (batch statistics) evaluation
//   shifts              [1, 2, 4]   translations (down and right by k pixels) evaluated
//   canvas              integer     evaluate each test image centred on canvas x canvas (0: skip)
//   small_batch         integer     batch size of the small-batch run (0: skip), >= 2
//   small_batch_images  integer     training images of the small-batch run (one epoch)
//   loss_every          integer     steps averaged into one point of the loss curve
//   format              "table" | "json" (default: table on a terminal, json otherwise)
//   output              string      JSON result path
// Errors are one line: "<file>: <JSON path>: <what is wrong> (got <value>)".
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab::train {

struct TrainConfig {
  std::string description;
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::vector<std::string> methods{"1", "2", "3"};
  std::vector<std::uint64_t> seeds{0, 1, 2};
  std::size_t train_images = 12000;
  std::size_t epochs = 1;
  std::size_t batch_size = 64;
  double lr = 0.1;
  double momentum = 0.9;
  double eps = 1e-5;
  double norm_momentum = 0.1;
  std::size_t test_images = 2000;
  std::vector<std::size_t> test_batch_sizes{500, 2};
  std::vector<std::size_t> shifts{1, 2, 4};
  std::size_t canvas = 36;
  std::size_t small_batch = 4;
  std::size_t small_batch_images = 2000;
  std::size_t loss_every = 10;
  std::optional<std::string> format;  // "table" | "json"; unset: table on a terminal, json otherwise
  std::optional<std::string> output;
};

// Every command-line option of `bnlab train` (unset = not given).
struct TrainOverrides {
  std::optional<std::string> data, methods /* "1,2,3" */, output;
  std::optional<std::string> format;  // "table" or "json", as parse_output_format gives it
  std::vector<std::uint64_t> seeds;  // empty = not given
  std::optional<std::size_t> train_images, test_images, epochs, batch_size;
  std::optional<double> lr;
  std::vector<std::size_t> test_batch_sizes;  // --test-batch-sizes 500,2; empty = not given
  std::optional<std::size_t> small_batch;     // --small-batch 4 (0: skip the small-batch run)
};

// Parses a config file strictly, starting from TrainConfig{}.
TrainConfig load_train_config(const std::string& path);

// Applies command-line overrides over `config` (a config file's or the
// default). Each value is checked against the same range as its config key;
// errors name the option: "--lr: expected a number in (0, 10], got 0". Then
// validate(). On error `config` is unchanged.
void apply_overrides(TrainConfig& config, const TrainOverrides& overrides);

// Checks the relations between keys; errors name them as JSON paths ("/batch_size: ...").
void validate(const TrainConfig& config);

// The experiment part (no format, output, description): itself a valid config file.
nlohmann::ordered_json to_json(const TrainConfig& config);

}  // namespace bnlab::train
