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
#include "bnlab/io/json_text.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/synth/synth.hpp"

namespace bnlab {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const char* kValidKeys =
    "description, methods, source, input, layout, layers, shape, dist, seed, eps, momentum, format, output";

// A JSON value as it appears in an error message (json_text.hpp).
std::string shown(const Json& value) { return json_preview(value); }

std::string json_quoted(const std::string& text) { return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace); }

// "/key" with RFC 6901 escaping.
std::string pointer(const std::string& key) {
  std::string out("/");  // appended: GCC 12 misreads "/" + std::string as overlapping (-Wrestrict)
  out += pointer_token(key);
  return out;
}

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

// ---- the file parser ---------------------------------------------------------------

// Parses JSON text strictly (json_text.hpp: no NUL byte, no repeated key at
// any depth, no number that under- or overflows, at most kMaxJsonDepth deep).
Json parse_json(const std::string& text, const std::string& path) { return parse_json_text<Json>(text, path); }

class FileParser {
 public:
  explicit FileParser(std::string path) : path_(std::move(path)) {}

  CompareConfig parse(const Json& root) {
    if (!root.is_object()) fail("/", "expected an object, got " + shown(root));
    CompareConfig config;
    std::optional<std::string> source;
    std::set<std::string> given;
    for (const auto& [key, value] : root.items()) {
      const std::string where = pointer(key);
      given.insert(key);
      if (key == "description") config.description = str(value, where);
      else if (key == "methods") config.methods = methods(value, where);
      else if (key == "source") {
        source = str(value, where);
        for (char& ch : *source) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
      else if (key == "input") {
        config.input = input(value, where);
        config.input_as_written = str(value, where);
      }
      else if (key == "layout") config.layout = to_string(parse_data_layout(str(value, where), at(where)));
      else if (key == "layers") config.layers = layers(value, where);
      else if (key == "shape") config.shape = shape(value, where);
      else if (key == "dist") config.dist = to_string(parse_distribution(str(value, where), at(where)));
      else if (key == "seed") config.seed = seed(value, where);
      else if (key == "eps") config.eps = number_in(value, kEpsRange, where);
      else if (key == "momentum") config.momentum = number_in(value, kMomentumRange, where);
      else if (key == "format") config.format = parse_format(str(value, where), at(where));
      else if (key == "output") config.output = nonempty_string(value, where);
      else fail(where, std::string("unknown key (valid: ") + kValidKeys + ")");
    }

    // Which tensor: a file (input, layout) or a synthesized one (shape, dist).
    if (given.count("input") && (given.count("shape") || given.count("dist"))) {
      fail("/input", "cannot be combined with /shape or /dist (the tensor comes from the file)");
    }
    if (given.count("layout") && !given.count("input")) {
      fail("/layout", "only applies to /input (a synthesized tensor is NCHW)");
    }
    if (given.count("layers") && !given.count("input")) {
      fail("/layers", "only applies to /input (the arrays of an .npz archive)");
    }
    if (source) {
      if (*source != "synth" && *source != "npy" && *source != "npz") {
        fail("/source", "unknown source " + json_quoted(*source) + " (valid: synth, npy, npz)");
      }
      if (*source == "npy" && !config.input) fail("/source", "\"npy\" needs /input (the .npy file to read)");
      if (*source == "npz" && !config.input) fail("/source", "\"npz\" needs /input (the .npz archive to read)");
      if (*source == "synth" && config.input) fail("/source", "\"synth\" cannot be combined with /input");
    }
    return config;
  }

 private:
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(path_ + ": " + where + ": " + what);
  }
  std::string at(const std::string& where) const { return path_ + ": " + where; }

  std::string str(const Json& value, const std::string& where) const {
    if (!value.is_string()) fail(where, "expected a string, got " + shown(value));
    return value.get<std::string>();
  }

  std::string nonempty_string(const Json& value, const std::string& where) const {
    std::string text = str(value, where);
    if (text.empty()) fail(where, "expected a path, got \"\"");
    return text;
  }

  // Relative to the config file's directory, lexically normalized.
  std::string input(const Json& value, const std::string& where) const {
    fs::path file(nonempty_string(value, where));
    if (file.is_relative()) file = fs::path(path_).parent_path() / file;
    return file.lexically_normal().string();
  }

  std::vector<std::string> layers(const Json& value, const std::string& where) const {
    if (value.is_string()) return check_layer_names(split_commas(value.get<std::string>()), at(where));
    if (!value.is_array()) {
      fail(where, "expected an array of layer names or a string such as \"conv1,conv2\", got " + shown(value));
    }
    std::vector<std::string> names;
    for (std::size_t i = 0; i < value.size(); ++i) names.push_back(str(value[i], where + "/" + std::to_string(i)));
    return check_layer_names(names, at(where));
  }

  std::vector<std::string> methods(const Json& value, const std::string& where) const {
    if (value.is_string()) return method_ids(parse_method_list(value.get<std::string>(), at(where)));
    if (!value.is_array()) {
      fail(where, "expected an array of method names or a string such as \"1,2,3\", got " + shown(value));
    }
    if (value.empty()) fail(where, "expected at least one method, got []");
    std::vector<std::string> ids;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string item_where = where + "/" + std::to_string(i);
      if (!value[i].is_string()) {
        fail(item_where, "expected a method name string such as \"3\", got " + shown(value[i]));
      }
      const std::string name = value[i].get<std::string>();
      const Method method = parse_method(name, at(item_where));
      for (std::size_t j = 0; j < ids.size(); ++j) {
        if (ids[j] == method.id) {
          fail(item_where, "method " + json_quoted(name) + " is listed twice (same as " + json_quoted(names[j]) + " at " +
                               where + "/" + std::to_string(j) + ")");
        }
      }
      ids.push_back(method.id);
      names.push_back(name);
    }
    return ids;
  }

  Dims shape(const Json& value, const std::string& where) const {
    if (!value.is_array() || value.size() != 4) {
      fail(where, "expected an array of 4 positive integers [N, C, H, W], got " + shown(value));
    }
    std::size_t extents[4];
    for (std::size_t i = 0; i < 4; ++i) {
      const Json& item = value[i];
      const std::string item_where = where + "/" + std::to_string(i);
      if (item.is_number_integer() && !item.is_number_unsigned()) {
        fail(item_where, "must be >= 1 (got " + shown(item) + ")");  // negative
      }
      if (!item.is_number_unsigned()) fail(item_where, "expected a positive integer, got " + shown(item));
      const std::uint64_t extent = item.get<std::uint64_t>();
      if (extent == 0) fail(item_where, "must be >= 1 (got 0)");
      extents[i] = extent;
    }
    Dims dims{extents[0], extents[1], extents[2], extents[3]};
    check_synth_size(dims, at(where), shown(value));
    return dims;
  }

  std::uint64_t seed(const Json& value, const std::string& where) const {
    // nlohmann stores every non-negative integer literal as unsigned.
    if (!value.is_number_unsigned()) fail(where, "expected a non-negative integer, got " + shown(value));
    return value.get<std::uint64_t>();
  }

  double number_in(const Json& value, const NumberRange& range, const std::string& where) const {
    if (!value.is_number()) fail(where, std::string("expected a number in ") + range.text + ", got " + shown(value));
    const double number = value.get<double>();
    require_in_range(number, range, at(where), shown(value));
    return number;
  }

  std::string path_;
};

}  // namespace

CompareConfig load_compare_config(const std::string& path) { return parse_compare_config(read_text_file(path), path); }

CompareConfig parse_compare_config(const std::string& text, const std::string& path) {
  const Json root = parse_json(text, path);
  return FileParser(path).parse(root);
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
