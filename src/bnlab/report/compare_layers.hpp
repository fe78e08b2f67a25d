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

#include "bnlab/report/compare_config.hpp"

namespace bnlab {

inline constexpr const char* kCompareLayersSchema = "bnlab.compare-layers/1";

// True when config.input is a zip archive (an .npz; a torch.save file is
// refused when opened). Decided by the file's first bytes, not its name.
bool compare_input_is_archive(const CompareConfig& config);

// The report above. Before measuring anything it checks that every chosen
// layer exists, is 4-d and suits every method; errors name the culprit:
//   "--layers: acts.npz holds no array named \"conv9\" (it holds: conv1 (8, 64, 32, 32) <f4, ...)"
//   "acts.npz: no 4-d array (N,C,H,W) to compare; it holds: labels (8,) <i8"
nlohmann::ordered_json build_layers_report(const CompareConfig& config);

// The across_layers block from the report's layers (each holding a verdict)
// and the method ids in report order.
nlohmann::ordered_json summarize_layers(const nlohmann::ordered_json& layers, const std::vector<std::string>& ids);

// Throws when layers were chosen for an input that is not an archive.
void check_layers_need_archive(const CompareConfig& config);

// What `bnlab compare` runs: build_layers_report for an archive input,
// run_compare otherwise (where --layers is an error).
nlohmann::ordered_json run_compare_any(const CompareConfig& config);

}  // namespace bnlab
