// bnlab train: parse options, call bnlab::train::run_experiment, print the table or JSON.
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
#include "key_options.hpp"
#include "output_options.hpp"
#include "bnlab/core/output_format.hpp"

namespace bnlab::app {

namespace {
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
  add_key_options(cmd, train::train_keys(), v);  // one option per config key with a flag (train_config.cpp)
  cmd->add_option("--config", o->config,
                  "JSON config holding any of the keys " + key_names(train::train_keys()) +
                      " (configs/train/default.json is the default; configs/train/full.json the full experiment); "
                      "command-line options override it");
  cmd->add_option("--html", o->html,
                  "Also draw the result as one self-contained HTML page: loss curves, accuracy bars, summary\n"
                  "(bnlab render TRAIN.json --html PAGE draws a saved result)");
  cmd->footer(
      "\nThe defaults are configs/train/default.json's (shown beside each option).\n"
      "Progress goes to stderr. With 2 or more threads (OMP_NUM_THREADS) the runs (method, seed) "
      "train side by side.\nEverything but the \"timing\" object is the same bits for any thread count.\n"
      "Examples:\n"
      "  bnlab train\n"
      "  bnlab train --config configs/train/full.json --output train.json\n"
      "  bnlab train --methods 3,gn:4 --seeds 0 --format json\n"
      "  bnlab train --html train.html          # open train.html in a browser\n");
  add_quiet_flag(cmd);
  cmd->callback([o] {
    train::TrainConfig config = o->config.empty() ? train::TrainConfig{} : train::load_train_config(o->config);
    train::apply_overrides(config, o->overrides);  // ranges and relations checked in the library
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
