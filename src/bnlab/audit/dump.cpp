#include "bnlab/audit/dump.hpp"

#include <cmath>

#include "bnlab/core/error.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/io/npz.hpp"

namespace bnlab::audit {

namespace {
constexpr const char* kInputSuffix = ".input";

// A 0-d (or one-element) array's value.
double read_scalar(const NpzArchive& archive, const NpzEntry& entry) {
  const Array<float> value = archive.read(entry);
  if (value.size() != 1) {
    throw Error(archive.member_path(entry) + ": expected a 0-d array (one value), got shape " +
                shape_to_string(entry.shape));
  }
  return static_cast<double>(*value.begin());
}

LayerKind read_kind(const NpzArchive& archive, const std::string& layer) {
  const NpzEntry* entry = archive.find(layer + ".kind");
  if (entry == nullptr) return LayerKind::batch_norm;
  const double code = read_scalar(archive, *entry);
  if (code == 0) return LayerKind::batch_norm;
  if (code == 1) return LayerKind::group_norm;
  if (code == 2) return LayerKind::layer_norm;
  if (code == 3) return LayerKind::instance_norm;
  throw Error(archive.member_path(*entry) +
              ": expected 0, 1, 2 or 3 (BatchNorm2d, GroupNorm, LayerNorm, InstanceNorm2d), got " +
              std::to_string(code));
}

// L.<key> as C doubles, or nullopt when absent; a wrong shape names the layer, the array, expected vs got.
std::optional<std::vector<double>> read_per_channel(const NpzArchive& archive, const std::string& layer,
                                                    const std::string& key, std::size_t channels) {
  const NpzEntry* entry = archive.find(layer + "." + key);
  if (entry == nullptr) return std::nullopt;
  if (entry->shape != Shape{channels}) {
    throw Error(archive.member_path(*entry) + ": expected shape " + shape_to_string(Shape{channels}) +
                " (one value per channel of " + printable_name(layer) + kInputSuffix + "), got " +
                shape_to_string(entry->shape));
  }
  const Array<float> values = archive.read(*entry);
  return std::vector<double>(values.begin(), values.end());
}
}  // namespace

std::string to_string(LayerKind kind) {
  switch (kind) {
    case LayerKind::batch_norm: return "BatchNorm2d";
    case LayerKind::group_norm: return "GroupNorm";
    case LayerKind::layer_norm: return "LayerNorm";
    case LayerKind::instance_norm: return "InstanceNorm2d";
  }
  return "?";
}

std::vector<DumpLayer> read_dump(const std::string& path) {
  const NpzArchive archive(path);
  std::vector<DumpLayer> layers;
  for (const NpzEntry& entry : archive.entries()) {
    const std::string& key = entry.name;
    const std::size_t suffix = std::string(kInputSuffix).size();
    if (key.size() <= suffix || key.compare(key.size() - suffix, suffix, kInputSuffix) != 0) continue;
    DumpLayer layer;
    layer.name = key.substr(0, key.size() - suffix);
    layer.kind = read_kind(archive, layer.name);
    if (const NpzEntry* eps = archive.find(layer.name + ".eps")) layer.eps = read_scalar(archive, *eps);
    if (const NpzEntry* momentum = archive.find(layer.name + ".momentum")) {
      layer.momentum = read_scalar(archive, *momentum);
    }
    if (layer.kind != LayerKind::batch_norm) {  // reported, not judged: its input as stored
      layer.input = archive.read(entry);
      layers.push_back(std::move(layer));
      continue;
    }
    // (N, C, H, W), no zero-sized extent; a channels-last look draws the note of io/notes.hpp.
    layer.input = as_feature_map(archive.read(entry), DataLayout::nchw, archive.member_path(entry));
    if (const std::string hint = channels_last_note(entry.shape, archive.member_path(entry), layer.input.data());
        !hint.empty()) {
      layer.notes.push_back(hint);
    }
    const std::size_t channels = entry.shape[1];
    layer.running_mean = read_per_channel(archive, layer.name, "running_mean", channels);
    layer.running_var = read_per_channel(archive, layer.name, "running_var", channels);
    layer.weight = read_per_channel(archive, layer.name, "weight", channels);
    layer.bias = read_per_channel(archive, layer.name, "bias", channels);
    if (layer.running_mean.has_value() != layer.running_var.has_value()) {
      const std::string missing = layer.running_mean ? "running_var" : "running_mean";
      const std::string given = layer.running_mean ? "running_mean" : "running_var";
      throw Error(path + ":" + printable_name(layer.name) + "." + missing + ": missing while " +
                  printable_name(layer.name) + "." + given + " is given (both or neither)");
    }
    if (!layer.running_mean) {
      layer.notes.push_back(printable_name(layer.name) +
                            ": no running statistics (track_running_stats=False?): audited on its batch statistics only");
    }
    layers.push_back(std::move(layer));
  }
  if (layers.empty()) {
    throw Error(path + ": no array named L.input: not a bnlab audit dump (write one with scripts/bnlab_dump.py; it holds: " +
                archive.contents() + ")");
  }
  return layers;
}

}  // namespace bnlab::audit
