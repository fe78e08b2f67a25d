#pragma once
// `bnlab compare` on an .npz archive of activations, one 4-d array per layer
// (numpy.savez of a network's feature maps): the single-tensor compare once
// per layer, one block per layer, and a summary across the layers.
//
// Report (schema bnlab.compare-layers/1), keys in this order:
//   schema, question,
//   input:   {source "npz", path, layout, arrays: [{name, dtype, shape, compared}]}
//   config:  the effective configuration (to_json), "layers" included if chosen
//   layers:  {NAME: {name, dtype, input, methods, verdict}}, one per compared array:
//            the single-tensor report's blocks (bnlab.compare/1) for that array
//   across_layers: {layers, methods: {ID: {layers_with_every_property,
//            layers_lacking: {PROPERTY: [NAME...]}}}, properties: {PROPERTY:
//            {holds_in: {ID: count}}}, summary: "Method 3 has every property in
//            17 of 17 layers; Method 1 in 0; Method 2 in 0."}
// Layers are read and measured one at a time (memory: one layer's probes).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_config.hpp"

namespace bnlab {

inline constexpr const char* kCompareLayersSchema = "bnlab.compare-layers/1";

// One compared array of the archive and what compare measured on it.
struct LayerResult {
  std::string name, dtype;
  CompareResult result;  // the single-tensor compare of this array (its config names the member)
};

// Every compared layer, in order, with the archive's inventory.
struct LayersResult {
  CompareConfig config;
  nlohmann::ordered_json arrays;  // [{name, dtype, shape, compared}] for every array of the archive
  std::vector<LayerResult> layers;
};

// Per method (in `ids` order), across the layers: the layers with every
// property of the question, and per property the layers where it fails.
struct LayersSummary {
  std::size_t layers = 0;
  std::vector<std::string> ids;
  std::vector<const Property*> properties;       // the question's, in properties() order
  std::vector<std::size_t> with_every_property;  // per method
  std::vector<std::vector<std::vector<std::string>>> lacking;  // [method][property]: layer names
  std::string summary;                           // "Method 3 has every property in 17 of 17 layers; ..."
  std::size_t holds_in(std::size_t method, std::size_t property) const {
    return layers - lacking[method][property].size();
  }
  nlohmann::ordered_json to_json() const;  // the report's across_layers block
};

// True when config.input is a zip archive (an .npz; a torch.save file is
// refused when opened). Decided by the file's first bytes, not its name.
bool compare_input_is_archive(const CompareConfig& config);

// The measurements behind the report above. Before measuring anything it checks that every chosen
// layer exists, is 4-d and suits every method; errors name the culprit:
//   "--layers: acts.npz holds no array named \"conv9\" (it holds: conv1 (8, 64, 32, 32) <f4, ...)"
//   "acts.npz: no 4-d array (N,C,H,W) to compare; it holds: labels (8,) <i8"
LayersResult compare_layers(const CompareConfig& config);
nlohmann::ordered_json to_json(const LayersResult& result);
nlohmann::ordered_json build_layers_report(const CompareConfig& config);  // to_json(compare_layers(config))

// The summary across layers from their typed verdicts; `ids` are the method
// ids in report order (each layer's methods are in that order).
LayersSummary summarize_layers(const std::vector<LayerResult>& layers, const std::vector<std::string>& ids);

// How many of `summary`'s properties hold for method `method` in one layer.
std::size_t properties_held(const LayersSummary& summary, const LayerResult& layer, std::size_t method);

// Throws when layers were chosen for an input that is not an archive.
void check_layers_need_archive(const CompareConfig& config);

// What `bnlab compare` runs: build_layers_report for an archive input,
// run_compare otherwise (where --layers is an error).
nlohmann::ordered_json run_compare_any(const CompareConfig& config);

}  // namespace bnlab
