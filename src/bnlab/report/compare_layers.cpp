#include "bnlab/report/compare_layers.hpp"

#include <algorithm>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/io/npz.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/verdict.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;

// "Method 3", "ln", "gn:4": the method table's name for sentences.
std::string method_display_name(const std::string& id) { return parse_method(id, "method").name; }

// One run compares at most this many layers: each one's results stay in
// memory until the report is written (about 70 KB a layer), and a network has
// a few hundred normalized layers at most (ResNet-152: 155).
constexpr std::size_t kMaxLayers = 1000;

// The notes of the layers' reads (a channels-last shape, ...) shown before
// the rest are summarized in one line.
constexpr std::size_t kLayerNotesShown = 10;

// The arrays to compare: config.layers in that order, or every 4-d array in archive order.
std::vector<const NpzEntry*> select_layers(const NpzArchive& archive, const CompareConfig& config) {
  std::vector<const NpzEntry*> chosen;
  if (config.layers.size() > kMaxLayers) {
    throw Error("--layers: " + std::to_string(config.layers.size()) + " layers chosen; bnlab compares at most " +
                std::to_string(kMaxLayers) + " in one run");
  }
  if (config.layers.empty()) {
    for (const NpzEntry& entry : archive.entries()) {
      if (entry.shape.size() == 4) chosen.push_back(&entry);
    }
    if (chosen.empty()) {
      throw Error(archive.path() + ": no 4-d array (N,C,H,W) to compare; it holds: " + archive.contents());
    }
    if (chosen.size() > kMaxLayers) {
      throw Error(archive.path() + ": holds " + std::to_string(chosen.size()) + " 4-d arrays; bnlab compares at most " +
                  std::to_string(kMaxLayers) + " in one run: choose some with --layers NAME,NAME,...");
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

LayersResult compare_layers(const CompareConfig& config) {
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

  // Notes wait for the whole archive: when a later layer is an error, the
  // error is the only line (HeldNotes drops what it holds on the way out).
  HeldNotes held;
  LayersResult result;
  {
    const NoteLimit note_limit(kLayerNotesShown);  // its "... and N more" line is held too
    result.config = config;
    result.arrays = Json::array();
    for (const NpzEntry& entry : archive.entries()) {
      const bool compared = std::find(chosen.begin(), chosen.end(), &entry) != chosen.end();
      result.arrays.push_back({{"name", entry.name}, {"dtype", entry.descr}, {"shape", entry.shape}, {"compared", compared}});
    }
    for (const NpzEntry* entry : chosen) {
      CompareConfig layer_config = config;
      layer_config.input = archive.member_path(*entry);  // how the block's input.path names it
      const Array<float> x = as_feature_map(archive.read(*entry), layout, archive.member_path(*entry));  // (N, C, H, W)
      result.layers.push_back(LayerResult{entry->name, entry->descr, compare(layer_config, x)});
    }
  }
  held.release();
  return result;
}

Json to_json(const LayersResult& result) {
  const CompareConfig& config = result.config;
  Json report = compare_report_opening(
      kCompareLayersSchema, std::string(kCompareQuestion) + ", judged on every layer of a network?",
      {{"source", "npz"}, {"path", *config.input}, {"layout", config.layout}, {"arrays", result.arrays}}, config);
  Json layers = Json::object();
  for (const LayerResult& layer : result.layers) {
    Json block;
    block["name"] = layer.name;
    block["dtype"] = layer.dtype;
    const Json single = to_json(layer.result);  // held: items() refers into it
    for (const auto& [key, value] : single.items()) {
      if (key != "schema" && key != "question" && key != "config") block[key] = value;
    }
    layers[layer.name] = std::move(block);
  }
  report["layers"] = std::move(layers);
  report["across_layers"] = summarize_layers(result.layers, config.methods).to_json();
  return report;
}

Json build_layers_report(const CompareConfig& config) { return to_json(compare_layers(config)); }

namespace {

// Whether judgement `property` holds for the method with id `id` in one layer's verdict.
bool holds_in_layer(const LayerResult& layer, const Property* property, const std::string& id) {
  const std::vector<CompareMethod>& methods = layer.result.methods;
  const auto method = std::find_if(methods.begin(), methods.end(), [&](const CompareMethod& m) { return m.method.id == id; });
  if (method == methods.end()) throw Error("layer " + layer.name + ": no result for method " + id);
  for (const PropertyJudgement& j : layer.result.verdict.judgements) {
    if (j.property == property) return j.holds[std::size_t(method - methods.begin())];
  }
  throw Error("layer " + layer.name + ": no judgement of " + property->key);
}

}  // namespace

std::size_t properties_held(const LayersSummary& summary, const LayerResult& layer, std::size_t method) {
  std::size_t held = 0;
  for (const Property* p : summary.properties) held += holds_in_layer(layer, p, summary.ids[method]);
  return held;
}

namespace {
// A method as the summary names it: "Method 3"; a reference by its norm's
// name, "InstanceNorm", "GroupNorm with 8 groups" (its id, "in", read as the
// word: "...; in in 0").
std::string summary_name(const std::string& id) {
  const Method method = parse_method(id, "method");
  if (method.role == MethodRole::candidate) return method_display_name(id);
  return method.title.substr(0, method.title.find(" ("));
}
}  // namespace

LayersSummary summarize_layers(const std::vector<LayerResult>& layers, const std::vector<std::string>& ids) {
  LayersSummary out;
  out.layers = layers.size();
  out.ids = ids;
  // The question's properties only: the trade-offs (what ln/in/gn gain) do not
  // count towards "every property", as in the single-tensor verdict.
  if (!layers.empty()) {
    for (const PropertyJudgement& j : layers.front().result.verdict.judgements) {
      if (j.property->group == PropertyGroup::question) out.properties.push_back(j.property);
    }
  }
  for (const std::string& id : ids) {
    std::size_t count = 0;
    std::vector<std::vector<std::string>> lacking(out.properties.size());
    for (const LayerResult& layer : layers) {
      const std::vector<std::string>& all = layer.result.verdict.with_every_property;
      count += std::find(all.begin(), all.end(), id) != all.end();
      for (std::size_t k = 0; k < out.properties.size(); ++k) {
        if (!holds_in_layer(layer, out.properties[k], id)) lacking[k].push_back(layer.name);
      }
    }
    out.with_every_property.push_back(count);
    out.lacking.push_back(std::move(lacking));
  }

  // "Method 3 has every property in 17 of 17 layers; Method 1 in 0; Method 2 in 0."
  // Methods by that count, most first; ties by the (layer, property) pairs
  // that hold, then in report order.
  std::vector<std::size_t> held(ids.size(), 0), order(ids.size());
  for (std::size_t m = 0; m < ids.size(); ++m) {
    order[m] = m;
    for (std::size_t k = 0; k < out.properties.size(); ++k) held[m] += out.holds_in(m, k);
  }
  const std::vector<std::size_t>& complete = out.with_every_property;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return complete[a] != complete[b] ? complete[a] > complete[b] : held[a] > held[b];
  });
  std::string summary;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::string count = std::to_string(complete[order[i]]);
    summary += i == 0 ? summary_name(ids[order[i]]) + " has every property in " + count + " of " +
                            std::to_string(out.layers) + (out.layers == 1 ? " layer" : " layers")
                      : "; " + summary_name(ids[order[i]]) + " in " + count;
  }
  if (!order.empty()) summary += ".";
  // Where the leading method falls short, name the properties and layers.
  if (!order.empty() && complete[order[0]] < out.layers) {
    std::vector<std::string> parts;
    for (std::size_t k = 0; k < out.properties.size(); ++k) {
      const std::vector<std::string>& names = out.lacking[order[0]][k];
      if (names.empty()) continue;
      std::string part =
          std::string(out.properties[k]->label) + " in " + std::to_string(names.size()) + (names.size() == 1 ? " layer (" : " layers (");
      for (std::size_t i = 0; i < names.size() && i < 3; ++i) {
        if (i) part += ", ";
        part += names[i];
      }
      part += names.size() > 3 ? ", ...)" : ")";
      parts.push_back(part);
    }
    std::string lacks;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i) lacks += "; ";
      lacks += parts[i];
    }
    // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on " " + std::string here.
    summary.append(" ").append(summary_name(ids[order[0]])).append(" lacks ").append(lacks).append(".");
  }
  out.summary = summary;
  return out;
}

Json LayersSummary::to_json() const {
  Json methods = Json::object();
  for (std::size_t m = 0; m < ids.size(); ++m) {
    Json lacks = Json::object();
    for (std::size_t k = 0; k < properties.size(); ++k) {
      if (!lacking[m][k].empty()) lacks[properties[k]->key] = lacking[m][k];
    }
    methods[ids[m]] = {{"layers_with_every_property", with_every_property[m]}, {"layers_lacking", lacks}};
  }
  Json by_property = Json::object();
  for (std::size_t k = 0; k < properties.size(); ++k) {
    Json holds = Json::object();
    for (std::size_t m = 0; m < ids.size(); ++m) holds[ids[m]] = holds_in(m, k);
    by_property[properties[k]->key] = {{"holds_in", holds}};
  }
  return {{"layers", layers}, {"methods", methods}, {"properties", by_property}, {"summary", summary}};
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
