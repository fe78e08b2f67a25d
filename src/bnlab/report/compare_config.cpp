#include "bnlab/report/compare_config.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <utility>

#include <unistd.h>

#include "bnlab/core/error.hpp"
#include "bnlab/core/output_format.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/size.hpp"
#include "bnlab/core/split.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/experiment/config_keys.hpp"
#include "bnlab/io/json_text.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/synth/synth.hpp"

namespace bnlab {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string json_quoted(const std::string& text) { return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace); }

// ---- values shared by the file parser and the command-line overrides ------------

std::vector<std::string> method_ids(const std::vector<Method>& methods) {
  std::vector<std::string> ids;
  for (const Method& m : methods) ids.push_back(m.id);
  return ids;
}

void check_synth_size(const Dims& dims, const std::string& what, const std::string& got) {
  const std::size_t count = checked_element_count(dims.to_vector(), what);  // the general limit first
  if (count > kMaxSynthElements) {
    throw Error(what + ": " + got + " has " + std::to_string(count) + " elements, more than the limit of " +
                std::to_string(kMaxSynthElements) + " (2^28) for a synthesized tensor");
  }
}

// Layer names ("a,b" or a JSON array): at least one, none empty, none repeated.
std::vector<std::string> check_layer_names(std::vector<std::string> names, const std::string& what) {
  if (names.empty()) throw Error(what + ": expected at least one layer name");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) throw Error(what + ": layer name " + std::to_string(i + 1) + " is empty");
    for (std::size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) throw Error(what + ": layer " + json_quoted(names[i]) + " is listed twice");
    }
  }
  return names;
}

std::string parse_format(const std::string& text, const std::string& what) { return parse_output_format(text, what); }

// ---- the rows: one per key --------------------------------------------------------

using Key = experiment::ConfigKey<CompareConfig, CompareOverrides>;
using experiment::KeyValue;

std::string nonempty_path(const KeyValue& v) {
  std::string text = v.string();
  if (text.empty()) v.fail("expected a path, got \"\"");
  return text;
}

// Relative to the config file's directory, lexically normalized.
std::string input_path(const KeyValue& v) {
  fs::path file(nonempty_path(v));
  if (file.is_relative()) file = fs::path(v.path).parent_path() / file;
  return file.lexically_normal().string();
}


std::vector<std::string> layers_of(const KeyValue& v) {
  if (v.value.is_string()) return check_layer_names(split_commas(v.value.get<std::string>()), v.at());
  if (!v.value.is_array()) {
    v.fail("expected an array of layer names or a string such as \"conv1,conv2\", got " + v.shown());
  }
  std::vector<std::string> names;
  for (std::size_t i = 0; i < v.value.size(); ++i) names.push_back(v.item(i).string());
  return check_layer_names(names, v.at());
}

std::vector<std::string> methods_of(const KeyValue& v) {
  if (v.value.is_string()) return method_ids(parse_method_list(v.value.get<std::string>(), v.at()));
  if (!v.value.is_array()) v.fail("expected an array of method names or a string such as \"1,2,3\", got " + v.shown());
  if (v.value.empty()) v.fail("expected at least one method, got []");
  std::vector<std::string> ids, names;
  for (std::size_t i = 0; i < v.value.size(); ++i) {
    const KeyValue item = v.item(i);
    if (!item.value.is_string()) item.fail("expected a method name string such as \"3\", got " + item.shown());
    const std::string name = item.value.get<std::string>();
    const Method method = parse_method(name, item.at());
    for (std::size_t j = 0; j < ids.size(); ++j) {
      if (ids[j] == method.id) {
        item.fail("method " + json_quoted(name) + " is listed twice (same as " + json_quoted(names[j]) + " at " +
                  v.where + "/" + std::to_string(j) + ")");
      }
    }
    ids.push_back(method.id);
    names.push_back(name);
  }
  return ids;
}

Dims shape_of_value(const KeyValue& v) {
  if (!v.value.is_array() || v.value.size() != 4) {
    v.fail("expected an array of 4 positive integers [N, C, H, W], got " + v.shown());
  }
  std::size_t extents[4];
  for (std::size_t i = 0; i < 4; ++i) {
    const KeyValue item = v.item(i);
    if (item.value.is_number_integer() && !item.value.is_number_unsigned()) {
      item.fail("must be >= 1 (got " + item.shown() + ")");  // negative
    }
    if (!item.value.is_number_unsigned()) item.fail("expected a positive integer, got " + item.shown());
    const std::uint64_t extent = item.value.get<std::uint64_t>();
    if (extent == 0) item.fail("must be >= 1 (got 0)");
    extents[i] = extent;
  }
  Dims dims{extents[0], extents[1], extents[2], extents[3]};
  check_synth_size(dims, v.at(), v.shown());
  return dims;
}

std::uint64_t seed_of(const KeyValue& v) {
  // nlohmann stores every non-negative integer literal as unsigned.
  if (!v.value.is_number_unsigned()) v.fail("expected a non-negative integer, got " + v.shown());
  return v.value.get<std::uint64_t>();
}

double number_of(const KeyValue& v, const NumberRange& range) {
  if (!v.value.is_number()) v.fail(std::string("expected a number in ") + range.text + ", got " + v.shown());
  const double number = v.value.get<double>();
  require_in_range(number, range, v.at(), v.shown());
  return number;
}

std::string lower(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

// Which tensor: a file (input, layout, layers) or a synthesized one (shape,
// dist); "source", when given, must agree. Checked once the whole file is read.
void check_tensor_keys(const nlohmann::ordered_json& root, const CompareConfig& config, const std::string& path) {
  auto given = [&](const char* key) { return root.is_object() && root.contains(key); };
  auto fail = [&](const char* where, const std::string& what) { throw Error(path + ": " + where + ": " + what); };
  if (given("input") && (given("shape") || given("dist"))) {
    fail("/input", "cannot be combined with /shape or /dist (the tensor comes from the file)");
  }
  if (given("layout") && !given("input")) fail("/layout", "only applies to /input (a synthesized tensor is NCHW)");
  if (given("layers") && !given("input")) fail("/layers", "only applies to /input (the arrays of an .npz archive)");
  if (!given("source")) return;
  const std::string source = lower(root["source"].get<std::string>());
  if (source != "synth" && source != "npy" && source != "npz") {
    fail("/source", "unknown source " + json_quoted(source) + " (valid: synth, npy, npz)");
  }
  if (source == "npy" && !config.input) fail("/source", "\"npy\" needs /input (the .npy file to read)");
  if (source == "npz" && !config.input) fail("/source", "\"npz\" needs /input (the .npz archive to read)");
  if (source == "synth" && config.input) fail("/source", "\"synth\" cannot be combined with /input");
}

std::vector<Key> make_compare_keys() {
  std::vector<Key> keys;
  keys.push_back({{"description", "", "string", "free text: what the experiment shows", ""},
                  [](CompareConfig& c, const KeyValue& v) { c.description = v.string(); }});
  keys.push_back({{"methods", "--methods", "comma-separated names; in a config file also a JSON array",
                   "the methods, case-insensitive: " + valid_method_names() + "; no duplicates", "1,2,3"},
                  [](CompareConfig& c, const KeyValue& v) { c.methods = methods_of(v); },
                  [](CompareOverrides& o, const std::string& text) { o.methods = text; }});
  keys.push_back({{"source", "", "synth, npy or npz",
                   "redundant with input, checked when given (so that a report's config is itself a config)", ""},
                  [](CompareConfig&, const KeyValue& v) { v.string(); }});  // checked with input: check_tensor_keys
  keys.push_back({{"input", "--input", "a .npy or .npz path",
                   "your own (N, C, H, W) tensor as .npy (float32, float64, float16), or an .npz of many layers "
                   "(each 4-d array is compared); in a config file relative to its directory; excludes shape and dist",
                   ""},
                  [](CompareConfig& c, const KeyValue& v) {
                    c.input = input_path(v);
                    c.input_as_written = v.string();
                  },
                  [](CompareOverrides& o, const std::string& text) { o.input = text; }});
  keys.push_back({{"layout", "--layout", "NCHW or NHWC", "the layout of input", "NCHW"},
                  [](CompareConfig& c, const KeyValue& v) {
                    c.layout = to_string(parse_data_layout(v.string(), v.at()));
                  },
                  [](CompareOverrides& o, const std::string& text) { o.layout = text; }});
  keys.push_back({{"layers", "--layers", "comma-separated names; in a config file also a JSON array",
                   "with an .npz input: compare only these arrays, e.g. conv1,layer1.0.conv1", "every 4-d array"},
                  [](CompareConfig& c, const KeyValue& v) { c.layers = layers_of(v); },
                  [](CompareOverrides& o, const std::string& text) { o.layers = text; }});
  keys.push_back({{"shape", "--shape", "N,C,H,W, integers >= 1; in a config file [N, C, H, W]",
                   "synthesize a tensor of this shape instead of reading one", "16,16,16,16"},
                  [](CompareConfig& c, const KeyValue& v) { c.shape = shape_of_value(v); },
                  [](CompareOverrides& o, const std::string& text) { o.shape = text; }});
  keys.push_back({{"dist", "--dist", "normal, conv-like or offset", "the synthetic distribution", "conv-like"},
                  [](CompareConfig& c, const KeyValue& v) {
                    c.dist = to_string(parse_distribution(v.string(), v.at()));
                  },
                  [](CompareOverrides& o, const std::string& text) { o.dist = text; }});
  keys.push_back({{"seed", "--seed", "an integer in [0, 2^64)", "seed for the synthetic tensor and every seeded probe",
                   "0"},
                  [](CompareConfig& c, const KeyValue& v) { c.seed = seed_of(v); },
                  [](CompareOverrides& o, const std::string& text) { o.seed = parse_seed(text, "--seed"); }});
  keys.push_back({{"eps", "--eps", std::string("a number in ") + kEpsRange.text, "added to the variance", "1e-5"},
                  [](CompareConfig& c, const KeyValue& v) { c.eps = number_of(v, kEpsRange); },
                  [](CompareOverrides& o, const std::string& text) { o.eps = parse_number_in(text, kEpsRange, "--eps"); }});
  keys.push_back({{"momentum", "--momentum", std::string("a number in ") + kMomentumRange.text,
                   "running-statistics momentum: running = (1 - momentum) * running + momentum * batch", "0.1"},
                  [](CompareConfig& c, const KeyValue& v) { c.momentum = number_of(v, kMomentumRange); },
                  [](CompareOverrides& o, const std::string& text) {
                    o.momentum = parse_number_in(text, kMomentumRange, "--momentum");
                  }});
  keys.push_back({{"format", "--format", "json or table", "what stdout shows: the JSON report or the table",
                   "table on a terminal, json otherwise"},
                  [](CompareConfig& c, const KeyValue& v) { c.format = parse_format(v.string(), v.at()); },
                  [](CompareOverrides& o, const std::string& text) { o.format = text; }});
  keys.push_back({{"output", "--output", "a path",
                   "also write the JSON report to this file (atomically); in a config file too, relative to the "
                   "working directory",
                   ""},
                  [](CompareConfig& c, const KeyValue& v) { c.output = nonempty_path(v); },
                  [](CompareOverrides& o, const std::string& text) { o.output = text; }});
  return keys;
}

}  // namespace

CompareConfig load_compare_config(const std::string& path) { return parse_compare_config(read_text_file(path), path); }

CompareConfig parse_compare_config(const std::string& text, const std::string& path) {
  const Json root = parse_json_text<Json>(text, path);  // strict at every depth (io/json_text.hpp)
  CompareConfig config;
  experiment::read_config_object(config, root, path, compare_keys());
  check_tensor_keys(root, config, path);
  return config;
}

const std::vector<experiment::ConfigKey<CompareConfig, CompareOverrides>>& compare_keys() {
  static const std::vector<Key> keys = make_compare_keys();
  return keys;
}

void apply_overrides(CompareConfig& config, const CompareOverrides& overrides) {
  const CompareOverrides& o = overrides;
  if (o.input && (o.shape || o.dist)) {
    const std::string synth_options = o.shape && o.dist ? "--shape and --dist" : o.shape ? "--shape" : "--dist";
    throw Error("--input: cannot be combined with " + synth_options +
                " (the tensor comes from the file; --shape and --dist describe a synthesized one)");
  }
  CompareConfig c = config;  // all or nothing: `config` changes only if every option is valid
  if (o.methods) c.methods = method_ids(parse_method_list(*o.methods, "--methods"));
  if (o.input) {
    if (o.input->empty()) throw Error("--input: expected a path, got \"\"");
    c.input = *o.input;  // relative to the working directory, as given
    c.input_as_written.reset();
  }
  if (o.shape) {
    c.shape = parse_dims(*o.shape, "--shape");
    check_synth_size(c.shape, "--shape", json_quoted(*o.shape));
  }
  if (o.dist) c.dist = to_string(parse_distribution(*o.dist, "--dist"));
  if (o.shape || o.dist) {  // the source becomes synth
    c.input.reset();
    c.input_as_written.reset();
    c.layout = "NCHW";
    c.layers.clear();
  }
  if (o.layout) {
    c.layout = to_string(parse_data_layout(*o.layout, "--layout"));
    if (!c.input) throw Error("--layout: only applies to --input (a synthesized tensor is NCHW)");
  }
  if (o.layers) {
    c.layers = check_layer_names(split_commas(*o.layers), "--layers");
    if (!c.input) throw Error("--layers: only applies to --input (the arrays of an .npz archive)");
  }
  if (o.seed) c.seed = *o.seed;
  if (o.eps) {
    require_in_range(*o.eps, kEpsRange, "--eps", number_text(*o.eps));
    c.eps = *o.eps;
  }
  if (o.momentum) {
    require_in_range(*o.momentum, kMomentumRange, "--momentum", number_text(*o.momentum));
    c.momentum = *o.momentum;
  }
  if (o.format) c.format = parse_format(*o.format, "--format");
  if (o.output) {
    if (o.output->empty()) throw Error("--output: expected a path, got \"\"");
    c.output = *o.output;
  }
  config = std::move(c);
}

std::string CompareConfig::source() const {
  if (!input) return "synth";
  const std::string& path = *input;
  return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npz") == 0 ? "npz" : "npy";
}

nlohmann::ordered_json to_json(const CompareConfig& config) {
  Json j;
  j["methods"] = config.methods;
  j["source"] = config.source();
  if (config.input) {
    j["input"] = config.input_as_written.value_or(*config.input);
    j["layout"] = config.layout;
    if (!config.layers.empty()) j["layers"] = config.layers;
  } else {
    j["shape"] = config.shape.to_vector();
    j["dist"] = config.dist;
  }
  j["seed"] = config.seed;
  j["eps"] = config.eps;
  j["momentum"] = config.momentum;
  return j;
}

}  // namespace bnlab
