#pragma once
// The experiment of `bnlab compare`: which methods, on which tensor (a .npy
// file or a synthesized one), with which seed, eps and momentum. It comes from
// three places, later ones winning:
//   1. the embedded default, CompareConfig{} (configs/default.json says the same);
//   2. a JSON config file (--config FILE.json), parsed strictly;
//   3. the command-line options (CompareOverrides).
//
// Config file keys (all optional; anything else is an error naming its path):
//   description  string                 free text: what the experiment shows
//   methods      ["1","2","3"] or "1,2,3" 1, 2, 3, bn (= 3), ln, in, gn:G; no duplicates
//   source       "synth" | "npy" | "npz" redundant with input; checked if given (so
//                                       that a report's "config" is itself a config)
//   input        string                 a .npy feature map, or an .npz archive of
//                                       them (one per layer); relative to the config
//                                       file's directory. Excludes shape and dist.
//   layout       "NCHW" | "NHWC"        the file's layout; only together with input
//   layers       ["conv1","fc"] or "conv1,fc"  the .npz arrays to compare (default:
//                                       every 4-d array); only together with input
//   shape        [N, C, H, W]           the synthesized tensor: integers >= 1,
//                                       at most kMaxSynthElements in all
//   dist         "normal" | "conv-like" | "offset"
//   seed         integer in [0, 2^64)   synthesis and every seeded probe
//   eps          number in kEpsRange ([0, 1], core/number.hpp): added to the variance
//   momentum     number in kMomentumRange ([0, 1]): running = (1-momentum)*running + momentum*batch
//   format       "json" | "table"       what stdout shows (default: table on a
//                                       terminal, json otherwise)
//   output       string                 report path (JSON), relative to the working
//                                       directory like the --output option
// Errors are one line: "<file>: <JSON path>: <what is wrong> (got <value>)".
// The text is read strictly (io/json_text.hpp): a NUL byte, a repeated key,
// a number that underflows (1e-400) and nesting deeper than 64 are errors.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/core/shape.hpp"
#include "bnlab/experiment/config_keys.hpp"

namespace bnlab {

// A synthesized tensor bigger than this (2^28 elements, 1 GiB as float32) is
// almost certainly a typo in the shape.
inline constexpr std::size_t kMaxSynthElements = std::size_t{1} << 28;

struct CompareConfig {
  std::vector<std::string> methods{"1", "2", "3"};  // canonical ids (parse_method(...).id), in order, no duplicates
  std::optional<std::string> input;                 // .npy path to read; when set the source is "npy"
  // The path as written in the config file (relative to the file's directory),
  // which the report records, so that a report does not depend on the working
  // directory or where the clone lives; unset for --input (recorded as given).
  std::optional<std::string> input_as_written;
  std::string layout = "NCHW";                      // NCHW | NHWC (only meaningful with input)
  std::vector<std::string> layers;                  // .npz input: arrays to compare; empty = every 4-d one
  Dims shape{16, 16, 16, 16};                       // synth source: (N, C, H, W)
  std::string dist = "conv-like";                   // normal | conv-like | offset
  std::uint64_t seed = 0;                           // synthesis and every seeded probe
  double eps = 1e-5;                                // in [0, 1]
  double momentum = 0.1;                            // in [0, 1]
  std::optional<std::string> format;                // json | table; unset: table on a terminal, else json
  std::optional<std::string> output;                // report path (JSON); stdout otherwise
  std::string description;                          // free text
  // "npz" for an input named *.npz (an archive of layers), "npy" for another input.
  std::string source() const;
};

// Every option given on the command line (unset = not given).
struct CompareOverrides {
  std::optional<std::string> methods;  // "1,2,3"
  std::optional<std::string> input, layout, shape /* "N,C,H,W" */, dist, format, output;
  std::optional<std::string> layers;  // "conv1,layer1.0.conv1"
  std::optional<std::uint64_t> seed;
  std::optional<double> eps, momentum;
};

// Every key: its row (experiment/config_keys.hpp) of what the docs and the
// option's help say, and how the config file and the option are read.
const std::vector<experiment::ConfigKey<CompareConfig, CompareOverrides>>& compare_keys();

// Parses a config file strictly, starting from CompareConfig{}. Relative
// "input" paths are resolved against the file's directory and stored
// lexically normalized (relative if `path` was); input_as_written keeps the
// file's own spelling. Throws Error
// "<path>: cannot read", "<path>: invalid JSON: ...", "<path>: /: expected an object",
// "<path>: /foo: unknown key (valid: ...)", "<path>: /seed: duplicate key",
// "<path>: /methods/2: unknown method \"4\" (valid: ...)", ...
CompareConfig load_compare_config(const std::string& path);

// The same for the text of a config file; `path` names it in errors and
// anchors a relative "input" (the text is not read from it).
CompareConfig parse_compare_config(const std::string& text, const std::string& path);

// Applies command-line overrides; errors name the option ("--eps: ...").
// --input switches the source to npy; --shape or --dist switch it to synth
// (clearing input and layout); --input with --shape or --dist is an error, and
// so is --layout when the resulting source is synth. On error `config` is
// unchanged.
void apply_overrides(CompareConfig& config, const CompareOverrides& overrides);

// The effective configuration, everything needed to reproduce the run, keys in
// this order:
//   {"methods": [...], "source": "synth", "shape": [N,C,H,W], "dist": ..., "seed", "eps", "momentum"}
//   {"methods": [...], "source": "npy", "input": ..., "layout": ..., "seed", "eps", "momentum"}
//   (with "layers": [...] after "layout" when layers were chosen)
// "input" is the path as written in the config file (input_as_written) when
// there is one: relative to that file's directory, so the report is the same
// from any working directory and any clone location. format, output and
// description are presentation, not experiment: left out, so a report is the
// same whatever the output format. The result is also a valid config file (the
// parser accepts every key), the same experiment when saved beside the config
// it came from (or anywhere, when "input" is absolute).
nlohmann::ordered_json to_json(const CompareConfig& config);

}  // namespace bnlab
