// bnlab normalize: parse options, call bnlab::run_normalize, print the summary.
#include <cctype>
#include <iostream>
#include <memory>

#include "bnlab/core/progress.hpp"
#include "bnlab/engine/engine_choice.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/normalize/normalize_job.hpp"
#include "commands.hpp"
#include "number_options.hpp"
#include "output_options.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/output_format.hpp"

namespace bnlab::app {

namespace {
// "Which engine computes: fast: ...\nreference: ...", one line per engine from the library.
std::string engine_help() {
  std::string text = "Which engine computes:";
  for (EngineKind kind : kEngineKinds) text += "\n" + describe(kind);
  return text;
}

struct NormalizeOptions {
  NormalizeRequest request;
  std::string gamma, beta, dy, running_mean, running_var, layer;
  std::optional<std::string> format;
  std::pair<CLI::Option*, CLI::Option*> sync_flags;  // --sync, --no-sync: at most one
};

// The summary in one line, for a terminal:
//   bnlab normalize: method 3, train mode, (N,C,H,W)=(8,16,12,12): wrote y.npy, mean.npy, ... in out
std::string summary_line(const nlohmann::ordered_json& summary, const std::string& out_dir) {
  std::string files, shape;
  for (const auto& file : summary["files"]) files += (files.empty() ? "" : ", ") + file.get<std::string>();
  for (const auto& extent : summary["input"]["shape_nchw"]) shape += (shape.empty() ? "" : ",") + extent.dump();
  return "bnlab normalize: method " + summary["method"].get<std::string>() + ", " + summary["mode"].get<std::string>() +
         " mode, (N,C,H,W)=(" + shape + "): wrote " + files + " in " + escape_control(out_dir) + "\n";
}
}  // namespace

void setup_normalize(CLI::App& app) {
  auto options = std::make_shared<NormalizeOptions>();
  NormalizeRequest& r = options->request;
  CLI::App* cmd = app.add_subcommand(
      "normalize",
      "Normalize one .npy tensor with one method: y, statistics, gradients as .npy files\n"
      "Writes y (and statistics, gradients, updated running statistics) as .npy files plus\n"
      "summary.json into --out-dir. Matches PyTorch's conventions:\n"
      "train mode uses the biased batch variance, running statistics the unbiased one.");
  cmd->add_option("--method", r.method,
                  "One of " + valid_method_names() + " (case-insensitive; bnlab --help describes them)")
      ->required();
  cmd->add_option("--input", r.input,
                  "Input tensor X.npy, float32, float64 or float16, (N,C,H,W) (or (N,H,W,C) with --layout NHWC);\n"
                  "or an .npz archive with --layer")
      ->required();
  cmd->add_option("--layer", options->layer, "With an .npz --input (numpy.savez): the array to normalize, e.g. layer1.0.conv1");
  cmd->add_option("--out-dir", r.out_dir, "Directory for y.npy, mean.npy, var.npy, dx.npy, ... and summary.json (created if missing)")
      ->required();
  cmd->add_option("--gamma", options->gamma, "gamma .npy in the method's parameter shape (default: ones)");
  cmd->add_option("--beta", options->beta, "beta .npy in the method's parameter shape (default: zeros)");
  cmd->add_option("--affine", r.affine,
                  "Parameter shape: natural (1: (H,W); 2, ln: (C,H,W); 3, in, gn: (C)), channel ((C) for every method), none")
      ->capture_default_str();
  cmd->add_option("--dy", options->dy, "Upstream gradient .npy, same shape as the input: also writes dx, dgamma, dbeta");
  cmd->add_option("--mode", r.mode, "train (batch statistics) or eval (running statistics; methods 1, 2, 3 only)")
      ->capture_default_str();
  cmd->add_option("--running-mean", options->running_mean, "Running mean .npy in the statistic shape (required in eval mode)");
  cmd->add_option("--running-var", options->running_var, "Running variance .npy in the statistic shape (with --running-mean)");
  add_number_option(cmd, "--eps", kEpsRange, [&r](double eps) { r.eps = eps; },
                    "Added to the variance before the square root", "1e-5");
  add_number_option(cmd, "--momentum", kMomentumRange, [&r](double momentum) { r.momentum = momentum; },
                    "Running statistics: running = (1 - momentum) * running + momentum * batch", "0.1");
  cmd->add_option("--layout", r.layout, "Layout of the .npy files: NCHW or NHWC (channels last)")->capture_default_str();
  cmd->add_option("--engine", r.engine, engine_help())->capture_default_str();
  // Two flags, each marked "[default]" when NormalizeRequest's default (the
  // one place it is decided) is theirs: a negated flag ("--sync,!--no-sync")
  // showed CLI11's "--no-sync{false}", which read as if sync were off.
  const bool sync_by_default = NormalizeRequest{}.sync;
  CLI::Option* sync = cmd->add_flag_callback(
      "--sync", [&r] { r.sync = true; },
      std::string("Durable outputs: fsync every output file, then the output directory, before the run ends.\n"
                  "Without it the outputs are still staged and renamed into place whole: a crash, an error or\n"
                  "kill -9 of bnlab never leaves a partial file; only a power loss or OS crash right after the\n"
                  "run can lose outputs the OS had not yet written to disk (numpy.save and torch.save do not\n"
                  "fsync either). It costs the time the disk takes to store them (64x256x56x56 with --dy:\n"
                  "1.30-1.48 s with fsync, 0.42 s without)") +
          (sync_by_default ? "  [default]" : ""));
  CLI::Option* no_sync = cmd->add_flag_callback(
      "--no-sync", [&r] { r.sync = false; },
      std::string("No fsync (outputs still written whole, atomically)") +
          (sync_by_default ? "" : "  [default]"));
  options->sync_flags = {sync, no_sync};
  cmd->add_option("--format", options->format,
                  "json (the summary) or table (one line)  [default: one line on a terminal, json otherwise]");
  add_quiet_flag(cmd);
  cmd->footer(
      "\nStatistic shapes: 1: (H,W)  2: (C,H,W)  3: (C)  ln: (N)  in: (N,C)  gn:G: (N,G)\n"
      "Example:\n"
      "  bnlab synth --shape 8,16,12,12 --output x.npy\n"
      "  bnlab normalize --method 3 --input x.npy --out-dir out\n"
      "  bnlab normalize --method 3 --input x.npy --out-dir out-ref --engine reference   # the same, plainly\n");
  cmd->callback([options] {
    if (options->sync_flags.first->count() && options->sync_flags.second->count()) {
      throw CLI::ExcludesError("--sync", "--no-sync");  // a usage error, as CLI11's excludes() gives (without its help text)
    }
    NormalizeRequest request = options->request;
    // Enumerations are case-insensitive everywhere (--method, --affine and --layout already are).
    for (char& ch : request.mode) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // Errors name the values as this command line does.
    request.names = NormalizeNames::as_options();
    request.layer = nonempty(options->layer);
    request.gamma = nonempty(options->gamma);
    request.beta = nonempty(options->beta);
    request.dy = nonempty(options->dy);
    request.running_mean = nonempty(options->running_mean);
    request.running_var = nonempty(options->running_var);
    if (options->format) options->format = parse_output_format(*options->format, "--format");
    check_output_directory({"--out-dir", request.out_dir}, normalize_output_files(),  // before any work
                           given({{"--input", request.input}, {"--gamma", request.gamma}, {"--beta", request.beta},
                                  {"--dy", request.dy}, {"--running-mean", request.running_mean},
                                  {"--running-var", request.running_var}}));
    nlohmann::ordered_json summary;
    {
      Progress progress("normalize", 0);  // on stderr, when it is a terminal and the run is slow
      summary = run_normalize(request, quiet() ? nullptr : &progress);
    }
    if (table_on_stdout(options->format)) std::cout << summary_line(summary, request.out_dir);
    else std::cout << summary.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  });
}

}  // namespace bnlab::app
