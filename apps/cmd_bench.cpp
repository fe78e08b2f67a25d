// bnlab bench: parse options, call bnlab::run_bench, print JSON or a table.

#include <iostream>
#include <memory>

#include "bnlab/bench/bench.hpp"
#include "bnlab/core/progress.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/engine/method.hpp"
#include "commands.hpp"
#include "output_options.hpp"
#include "bnlab/core/output_format.hpp"

namespace bnlab::app {

namespace {
struct BenchOptions {
  std::string shape = "64,64,112,112";
  std::string methods = "1,2,3";
  int threads = 0;
  int repeat = 5;
  std::optional<std::string> format;  // unset: a table on a terminal, JSON otherwise (stdout_format.hpp)
};
}  // namespace

void setup_bench(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time every method's kernels against the machine's copy bandwidth (choose a shape, check a build)\n"
      "Measures a copy of a tensor-sized array first, then per method the median time of a train-mode\n"
      "forward, a forward + backward (dx, dgamma, dbeta) and an eval-mode forward on a synthetic float32\n"
      "tensor. JSON (schema bnlab.bench/1) or a table on stdout; progress on stderr when it is a terminal.");
  cmd->add_option("--shape", options->shape, "Tensor shape N,C,H,W (float32)")->capture_default_str();
  cmd->add_option("--methods", options->methods, "Comma-separated, case-insensitive: " + valid_method_names())
      ->capture_default_str();
  cmd->add_option("--threads", options->threads, "OpenMP threads (0: every hardware thread)")->capture_default_str();
  cmd->add_option("--repeat", options->repeat, "Timed runs per measurement (the median is reported), after one warm-up")
      ->capture_default_str();
  cmd->add_option("--format", options->format, kFormatHelp);
  cmd->footer(
      "\nTraffic counted per float32 element: forward and eval_forward 8 bytes (read x, write y),\n"
      "forward_backward 20 bytes (+ read x, read dy, write dx). fraction = GB/s / copy GB/s.\n"
      "Example:\n"
      "  bnlab bench --shape 32,64,56,56 --methods 1,2,3,ln,in,gn:32 --format table\n");
  add_quiet_flag(cmd);
  cmd->callback([options] {
    if (options->format) options->format = parse_output_format(*options->format, "--format");
    const bool table = table_on_stdout(options->format);
    BenchRequest request;
    request.dims = parse_dims(options->shape, "--shape");
    request.methods = parse_method_list(options->methods, "--methods");
    request.threads = options->threads;
    request.repeat = options->repeat;
    request.shape_name = "--shape";
    request.threads_name = "--threads";
    request.repeat_name = "--repeat";
    BenchResult result;
    {
      Progress progress("bench", bench_steps(request));  // on stderr, when it is a terminal and the run is slow
      if (!quiet()) request.progress = [&progress](const std::string& what) { progress.step(what); };
      result = run_bench(request);
    }
    if (table) {
      std::cout << bench_to_table(result);
    } else {
      std::cout << bench_to_json(result).dump(2) << "\n";
    }
  });
}

}  // namespace bnlab::app
