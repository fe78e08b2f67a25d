// bnlab train: parse options, call bnlab::train::run_experiment, print the table or JSON.
#include <charconv>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/progress.hpp"
#include "bnlab/core/split.hpp"
#include "bnlab/experiment/emit.hpp"
#include "bnlab/train/experiment.hpp"
#include "bnlab/train/train_report.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "commands.hpp"
#include "number_options.hpp"
#include "output_options.hpp"
#include "bnlab/core/output_format.hpp"

namespace bnlab::app {

namespace {
// A count typed on the command line: decimal digits only (no sign, no
// fraction), up to 2^64 - 1; its range is checked by the library.
std::size_t parse_count(const std::string& text, const std::string& what) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || text.front() == '-') {
    throw Error(what + ": expected an integer, got " + bnlab::quoted(text));
  }
  return value;
}

struct TrainOptions {
  std::string config;
  std::optional<std::string> html;
  train::TrainOverrides overrides;
};

// Per-run lines and step counters on stderr (core/progress.hpp), unless --quiet.
void show_progress(const std::string& line, bool transient) {
  if (!quiet()) progress_line("train", line, transient);
}
}  // namespace

void setup_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a small CNN on Fashion-MNIST with each method as its norm layer and measure the consequences\n"
      "Trains conv3x3(1->16) norm ReLU, conv3x3/2(16->32) norm ReLU, conv3x3/2(32->32) norm ReLU,\n"
      "global average pool, linear(32->10) with SGD + momentum (a warm-up, then a cosine decay of the\n"
      "learning rate), once per method and seed, with bnlab's own normalization engine (forward,\n"
      "backward, running statistics); `none` is the same network with a per-channel scale and bias in\n"
      "place of the norm (the baseline). Then measures test accuracy in eval mode (running statistics),\n"
      "with population statistics recomputed over K training images (PreciseBN), with batch statistics\n"
      "(batch 500 and 2: the train/eval gap), after translating the images by 1, 2, 4 pixels, on a 36x36\n"
      "canvas (where the method's parameters allow another H x W), and after training with batch 4.\n"
      "Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist; scripts/bnlab installs it).");
  train::TrainOverrides& v = o->overrides;
  cmd->add_option("--config", o->config, "JSON config (configs/train/default.json is the default; configs/train/full.json the full experiment)");
  cmd->add_option("--data", v.data, "Directory with the four Fashion-MNIST .gz files, or stand-in (generated images)");
  cmd->add_option("--methods", v.methods, "Methods, e.g. none,1,2,3 or 3,ln,in,gn:4 (none: no normalization)");
  // Parsed by the library, not by CLI11, which turned -1 into 2^64 - 1 and
  // 2^64 into 2^64 - 1; a comma list or separate words, as --methods.
  cmd->add_option_function<std::vector<std::string>>(
         "--seeds",
         [&v](const std::vector<std::string>& words) {
           v.seeds.clear();
           for (const std::string& word : words) {
             for (const std::string& seed : split_commas_trimmed(word)) v.seeds.push_back(parse_seed(seed, "--seeds"));
           }
         },
         "Seeds, e.g. --seeds 0,1,2 or --seeds 0 1 2 (one training run per method and seed), integers in [0, 2^64)")
      ->type_name("UINT64 ...");
  cmd->add_option("--train-images", v.train_images, "Use the first n training images (<= 60000)");
  cmd->add_option("--test-images", v.test_images, "Use the first n test images (<= 10000; a multiple of the test batch sizes)");
  cmd->add_option_function<std::vector<std::string>>(
         "--test-batch-sizes",
         [&v](const std::vector<std::string>& words) {
           v.test_batch_sizes.clear();
           for (const std::string& word : words) {
             for (const std::string& size : split_commas_trimmed(word)) {
               v.test_batch_sizes.push_back(parse_count(size, "--test-batch-sizes"));
             }
           }
         },
         "Batch sizes of the evaluation with batch statistics, e.g. 500,2 (each >= 2, dividing --test-images)")
      ->type_name("UINT ...");
  cmd->add_option_function<std::string>(
         "--small-batch", [&v](const std::string& text) { v.small_batch = parse_count(text, "--small-batch"); },
         "Batch size of the extra run trained with small batches (0: skip it)")
      ->type_name("UINT");
  cmd->add_option("--epochs", v.epochs, "Passes over the training images");
  cmd->add_option("--batch-size", v.batch_size, "Training batch size");
  cmd->add_option("--lr", v.lr, "SGD learning rate (its peak, after the warm-up)");
  cmd->add_option("--lr-schedule", v.lr_schedule, "After the warm-up: cosine (decay to 0 at the last step) or constant");
  cmd->add_option("--warmup-steps", v.warmup_steps, "Steps of linear warm-up to --lr (0: none)");
  cmd->add_option("--precise-bn-images", v.precise_bn_images,
                  "Population statistics (PreciseBN) over K training images, for each K of a comma list\n"
                  "(in whole batches, at most the training images), evaluated beside the running statistics;\n"
                  "\"\" skips it");
  cmd->add_option("--format", v.format, kFormatHelp);
  cmd->add_option("--output", v.output, "Also write the JSON result (schema bnlab.train/1) to this file");
  cmd->add_option("--html", o->html,
                  "Also draw the result as one self-contained HTML page: loss curves, accuracy bars, summary\n"
                  "(bnlab render TRAIN.json --html PAGE draws a saved result)");
  const train::TrainConfig defaults;
  std::string methods, seeds;
  for (const std::string& id : defaults.methods) methods += (methods.empty() ? "" : ",") + id;
  for (std::uint64_t seed : defaults.seeds) seeds += " " + std::to_string(seed);
  std::string precise;
  for (std::size_t k : defaults.precise_bn_images) precise += (precise.empty() ? "" : ", ") + std::to_string(k);
  cmd->footer(
      "\nDefaults (configs/train/default.json): methods " + methods + ", seeds" + seeds + ", " +
      std::to_string(defaults.train_images) + " training images, " + std::to_string(defaults.epochs) +
      " epoch(s),\nbatch " + std::to_string(defaults.batch_size) + ", lr " + nlohmann::json(defaults.lr).dump() + " (" +
      train::to_string(defaults.lr_schedule) + " after " + std::to_string(defaults.warmup_steps) +
      " warm-up steps), momentum " + nlohmann::json(defaults.momentum).dump() + ",\n" +
      std::to_string(defaults.test_images) + " test images, population statistics over " + precise +
      " images.\nProgress goes to stderr. With 2 or more threads (OMP_NUM_THREADS) the runs (method, seed) "
      "train side by side.\nEverything but the \"timing\" object is the same bits for any thread count.\n"
      "Examples:\n"
      "  bnlab train\n"
      "  bnlab train --config configs/train/full.json --output train.json\n"
      "  bnlab train --methods 3,gn:4 --seeds 0 --format json\n"
      "  bnlab train --html train.html          # open train.html in a browser\n");
  add_quiet_flag(cmd);
  cmd->callback([o] {
    train::TrainConfig config = o->config.empty() ? train::TrainConfig{} : train::load_train_config(o->config);
    train::TrainOverrides overrides = o->overrides;
    if (overrides.format) overrides.format = parse_output_format(*overrides.format, "--format");  // case-insensitive
    train::apply_overrides(config, overrides);  // ranges and relations checked in the library
    check_outputs(given({{"--output", config.output}, {"--html", o->html}}),  // before minutes of training
                  given({{"--config", nonempty(o->config)}}));
    const bool table = table_on_stdout(config.format);

    const train::TrainResult result = train::run_experiment(config, show_progress);
    experiment::emit({.report = train::to_json(result),
                      .table = table,
                      .table_text = [&] { return train::format_table(result); },
                      .output = config.output,
                      .html = o->html,
                      .page = [](const nlohmann::ordered_json& r) { return html::render_report_html(r); },
                      .own_files = {},
                      .quiet = quiet()});
  });
}

}  // namespace bnlab::app
