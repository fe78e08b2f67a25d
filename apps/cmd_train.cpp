// bnlab train: its options (the config keys' rows, --config, --html,
// --quiet) into a TrainCommand, then run_train_command with the page renderer.
#include <memory>

#include "bnlab/report/html/html_report.hpp"
#include "bnlab/train/train_command.hpp"
#include "commands.hpp"
#include "key_options.hpp"
#include "output_options.hpp"

namespace bnlab::app {


void setup_train(CLI::App& app) {
  auto o = std::make_shared<train::TrainCommand>();
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
  cmd->add_option("--config", o->config_path,
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
    o->quiet = quiet();
    train::run_train_command(*o, [](const nlohmann::ordered_json& r) { return html::render_report_html(r); });
  });
}

}  // namespace bnlab::app
