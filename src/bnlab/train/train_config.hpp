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
//   methods             ["none","1","2","3"] or "none,1,2,3"   none, 1, 2, 3, bn, ln, in, gn:G
//   seeds               [0, 1, 2]   one training run per method and seed
//   train_images        integer     the first n training images (at most 60000)
//   epochs              integer     passes over them
//   batch_size          integer     >= 2
//   lr, momentum        numbers     SGD: lr > 0, momentum in [0, 1)
//   lr_schedule         "cosine" | "constant"   after the warm-up (schedule.hpp)
//   warmup_steps        integer     steps of linear warm-up from lr/warmup_steps to lr
//   precise_bn_images   [256, 1024, 4096]   population statistics over the first K of a
//                                   shuffle of the training images, for each K, in
//                                   whole batches: precise_bn_images_used(K) images; [] to skip
//   lr_sweep            [0.02, 0.1, 0.5, 1.0]   short trainings at each lr ([] to skip)
//   lr_sweep_images     integer     training images of each sweep run (one epoch)
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

#include "bnlab/experiment/config_keys.hpp"
#include "bnlab/train/schedule.hpp"

namespace bnlab::train {

struct TrainConfig {
  std::string description;
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::vector<std::string> methods{"none", "1", "2", "3"};
  std::vector<std::uint64_t> seeds{0, 1, 2};
  std::size_t train_images = 60000;
  std::size_t epochs = 3;
  std::size_t batch_size = 64;
  double lr = 0.1;
  LrSchedule lr_schedule = LrSchedule::cosine;
  std::size_t warmup_steps = 100;
  double momentum = 0.9;
  double eps = 1e-5;
  double norm_momentum = 0.1;
  std::vector<std::size_t> precise_bn_images{256, 1024, 4096};
  std::vector<double> lr_sweep;  // empty: no sweep
  std::size_t lr_sweep_images = 12000;
  std::size_t test_images = 10000;
  std::vector<std::size_t> test_batch_sizes{500, 2};
  std::vector<std::size_t> shifts{1, 2, 4};
  std::size_t canvas = 36;
  std::size_t small_batch = 4;
  std::size_t small_batch_images = 2000;
  std::size_t loss_every = 50;
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
  std::optional<std::string> lr_schedule;        // "cosine" | "constant"
  std::optional<std::size_t> warmup_steps;
  std::optional<std::string> precise_bn_images;  // "256,1024,4096"; "" = none
  std::vector<std::size_t> test_batch_sizes;  // --test-batch-sizes 500,2; empty = not given
  std::optional<std::size_t> small_batch;     // --small-batch 4 (0: skip the small-batch run)
};

// Every key: its row (experiment/config_keys.hpp) of what the docs and the
// option's help say, and how the config file and the option are read.
const std::vector<experiment::ConfigKey<TrainConfig, TrainOverrides>>& train_keys();

// Parses a config file strictly, starting from TrainConfig{}.
TrainConfig load_train_config(const std::string& path);

// Applies command-line overrides over `config` (a config file's or the
// default). Each value is checked against the same range as its config key;
// errors name the option: "--lr: expected a number in (0, 10], got 0". Then
// validate(). On error `config` is unchanged.
void apply_overrides(TrainConfig& config, const TrainOverrides& overrides);

// The images population statistics over K images really use: whole batches
// of batch_size, at least one, at most the training images:
//   batch_size * clamp(K / batch_size, 1, train_images / batch_size).
std::size_t precise_bn_images_used(const TrainConfig& config, std::size_t k);

// Checks the relations between keys; errors name them as JSON paths ("/batch_size: ...").
void validate(const TrainConfig& config);

// The experiment part (no format, output, description): itself a valid config file.
nlohmann::ordered_json to_json(const TrainConfig& config);

}  // namespace bnlab::train
