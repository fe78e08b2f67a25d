#include "bnlab/report/compare_layers.hpp"

#include <algorithm>
#include <map>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/io/npz.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/verdict.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;

// "Method 3", "ln", "gn:4": the method table's name for sentences.
std::string method_display_name(const std::string& id) { return parse_method(id, "method").name; }

// The property's table label ("per-sample shift") for the summary sentence.
std::string short_name(const std::string& property) {
  for (const Property& p : properties()) {
    if (p.key == property) return p.label;
  }
  return property;
}

// The arrays to compare: config.layers in that order, or every 4-d array in archive order.
std::vector<const NpzEntry*> select_layers(const NpzArchive& archive, const CompareConfig& config) {
  std::vector<const NpzEntry*> chosen;
  if (config.layers.empty()) {
    for (const NpzEntry& entry : archive.entries()) {
      if (entry.shape.size() == 4) chosen.push_back(&entry);
    }
    if (chosen.empty()) {
      throw Error(archive.path() + ": no 4-d array (N,C,H,W) to compare; it holds: " + archive.contents());
    }
    return chosen;
  }
  for (const std::string& name : config.layers) {
    const NpzEntry* entry = archive.find(name);
    if (!entry) {
      throw Error("--layers: " + archive.path() + " holds no array named \"" + printable_name(name) + "\" (it holds: " +
                  archive.contents() + ")");
    }
    if (entry->shape.size() != 4) {
      throw Error("--layers: " + archive.member_path(*entry) + " is " + std::to_string(entry->shape.size()) + "-d " +
                  shape_to_string(entry->shape) + ", not a 4-d feature map (N,C,H,W)");
    }
    chosen.push_back(entry);
  }
  return chosen;
}

// (N, C, H, W) of a layer from its header: the file's shape, or (N, H, W, C) reordered.
Dims layer_dims(const NpzArchive& archive, const NpzEntry& entry, DataLayout layout) {
  const Shape& s = entry.shape;
  const Shape nchw = layout == DataLayout::nchw ? s : Shape{s[0], s[3], s[1], s[2]};
  return dims_from_shape(nchw, archive.member_path(entry));
}

}  // namespace

bool compare_input_is_archive(const CompareConfig& config) {
  return config.input && file_starts_like_zip(*config.input);
}

Json build_layers_report(const CompareConfig& config) {
  const NpzArchive archive(config.input.value());
  const DataLayout layout = parse_data_layout(config.layout, "layout");
  const std::vector<const NpzEntry*> chosen = select_layers(archive, config);

  // Every method must suit every layer's shape before anything is measured.
  for (const NpzEntry* entry : chosen) {
    const Dims dims = layer_dims(archive, *entry, layout);
    for (const std::string& id : config.methods) {
      try {
        make_plan(parse_method(id, "methods"), AffineMode::natural, dims);
      } catch (const Error& e) {
        throw Error(archive.member_path(*entry) + ": " + e.what());
      }
    }
  }

  Json report;
  report["schema"] = kCompareLayersSchema;
  report["question"] =
      "Over which axes should batch normalization of an (N, C, H, W) feature map take its mean and variance, "
      "judged on every layer of a network?";
  Json arrays = Json::array();
  for (const NpzEntry& entry : archive.entries()) {
    const bool compared = std::find(chosen.begin(), chosen.end(), &entry) != chosen.end();
    arrays.push_back({{"name", entry.name}, {"dtype", entry.descr}, {"shape", entry.shape}, {"compared", compared}});
  }
  report["input"] = {{"source", "npz"}, {"path", *config.input}, {"layout", config.layout}, {"arrays", arrays}};
  report["config"] = to_json(config);

  Json layers = Json::object();
  for (const NpzEntry* entry : chosen) {
    CompareConfig layer_config = config;
    layer_config.input = archive.member_path(*entry);  // how the block's input.path names it
    const Array<float> x = as_feature_map(archive.read(*entry), layout, archive.member_path(*entry));  // (N, C, H, W)
    const Json single = build_compare_report(layer_config, x);
    Json block;
    block["name"] = entry->name;
    block["dtype"] = entry->descr;
    for (const auto& [key, value] : single.items()) {
      if (key != "schema" && key != "question" && key != "config") block[key] = value;
    }
    layers[entry->name] = std::move(block);
  }
  Json across = summarize_layers(layers, config.methods);
  report["layers"] = std::move(layers);
  report["across_layers"] = std::move(across);
  return report;
}

Json summarize_layers(const Json& layers, const std::vector<std::string>& ids) {
  const std::size_t total = layers.size();
  std::vector<std::string> property_keys;
  if (total > 0) {
    // The question's properties only: the trade-offs (what ln/in/gn gain) do not
    // count towards "every property", as in the single-tensor verdict.
    for (const auto& [key, value] : layers.begin().value()["verdict"]["properties"].items()) {
      if (value.value("group", "question") == "question") property_keys.push_back(key);
    }
  }

  // Per method: layers with every property, and per property the layers where it fails.
  Json methods = Json::object();
  std::map<std::string, std::size_t> complete;
  for (const std::string& id : ids) {
    Json lacking = Json::object();
    std::size_t count = 0;
    for (const std::string& key : property_keys) lacking[key] = Json::array();
    for (const auto& [name, layer] : layers.items()) {
      const Json& verdict = layer["verdict"];
      const Json& all = verdict["methods_with_every_property"];
      count += std::find(all.begin(), all.end(), Json(id)) != all.end();
      for (const std::string& key : property_keys) {
        if (!verdict["properties"][key]["holds"][id].get<bool>()) lacking[key].push_back(name);
      }
    }
    for (const std::string& key : property_keys) {
      if (lacking[key].empty()) lacking.erase(key);
    }
    complete[id] = count;
    methods[id] = {{"layers_with_every_property", count}, {"layers_lacking", lacking}};
  }
  Json properties = Json::object();
  for (const std::string& key : property_keys) {
    Json holds_in = Json::object();
    for (const std::string& id : ids) {
      const Json& lacking = methods[id]["layers_lacking"];
      holds_in[id] = total - (lacking.contains(key) ? lacking[key].size() : 0);
    }
    properties[key] = {{"holds_in", holds_in}};
  }

  // "Method 3 has every property in 17 of 17 layers; Method 1 in 0; Method 2 in 0."
  // Methods by that count, most first; ties by the (layer, property) pairs
  // that hold, then in report order.
  std::map<std::string, std::size_t> held;
  for (const std::string& id : ids) {
    for (const std::string& key : property_keys) held[id] += properties[key]["holds_in"][id].get<std::size_t>();
  }
  std::vector<std::string> order = ids;
  std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
    return complete[a] != complete[b] ? complete[a] > complete[b] : held[a] > held[b];
  });
  std::string summary;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::string count = std::to_string(complete[order[i]]);
    summary += i == 0 ? method_display_name(order[i]) + " has every property in " + count + " of " +
                            std::to_string(total) + (total == 1 ? " layer" : " layers")
                      : "; " + method_display_name(order[i]) + " in " + count;
  }
  if (!order.empty()) summary += ".";
  // Where the leading method falls short, name the properties and layers.
  if (!order.empty() && complete[order[0]] < total) {
    std::vector<std::string> parts;
    for (const auto& [key, names] : methods[order[0]]["layers_lacking"].items()) {
      std::string part = short_name(key) + " in " + std::to_string(names.size()) + (names.size() == 1 ? " layer (" : " layers (");
      for (std::size_t i = 0; i < names.size() && i < 3; ++i) part += (i ? ", " : "") + names[i].get<std::string>();
      part += names.size() > 3 ? ", ...)" : ")";
      parts.push_back(part);
    }
    std::string lacks;
    for (std::size_t i = 0; i < parts.size(); ++i) lacks += (i ? "; " : "") + parts[i];
    summary += " " + method_display_name(order[0]) + " lacks " + lacks + ".";
  }
  return {{"layers", total}, {"methods", methods}, {"properties", properties}, {"summary", summary}};
}

void check_layers_need_archive(const CompareConfig& config) {
  if (!config.layers.empty()) {
    throw Error("--layers: " + config.input.value_or("the input") +
                " is not an .npz archive (--layers chooses arrays of an .npz)");
  }
}

Json run_compare_any(const CompareConfig& config) {
  if (compare_input_is_archive(config)) return build_layers_report(config);
  check_layers_need_archive(config);
  return run_compare(config);
}

}  // namespace bnlab
