#pragma once
// A dump of a network's normalization layers, as scripts/bnlab_dump.py (or
// np.savez with the same names) writes it. For a layer L (its module path):
//   L.input (N, C, H, W)    its input activations, float32 or float16
//   L.running_mean, L.running_var, L.weight, L.bias   (C,), each optional
//   L.eps, L.momentum       0-d (eps defaults to PyTorch's 1e-5)
//   L.kind                  0-d code: 0 BatchNorm2d (also when absent), 1 GroupNorm,
//                           2 LayerNorm, 3 InstanceNorm2d
// Other arrays (L.num_batches_tracked, L.num_groups, anything else) are not read.
// Layers are in the order of their L.input in the archive.
#include <optional>
#include <string>
#include <vector>

#include "bnlab/core/tensor.hpp"

namespace bnlab::audit {

enum class LayerKind { batch_norm, group_norm, layer_norm, instance_norm };
std::string to_string(LayerKind kind);  // "BatchNorm2d", "GroupNorm", ...

struct DumpLayer {
  std::string name;
  LayerKind kind = LayerKind::batch_norm;
  Array<float> input;  // (N, C, H, W) for a BatchNorm2d; as stored otherwise
  std::optional<std::vector<double>> running_mean, running_var, weight, bias;  // (C,) each, BatchNorm2d only
  double eps = 1e-5;
  std::optional<double> momentum;
  std::vector<std::string> notes;  // what the reader noticed (batch-only layer, channels-last look)
};

// Reads every layer of the dump at `path`. Errors (bnlab::Error, one line, naming the layer and the array):
//   "d.npz: no array named L.input: not a bnlab audit dump (scripts/bnlab_dump.py; it holds: ...)"
//   "d.npz:layer2.bn.running_mean: expected shape (4,) (one value per channel of layer2.bn.input), got (3,)"
//   "d.npz:bn.running_var: missing while bn.running_mean is given (both or neither)"
//   "d.npz:bn.kind: expected 0, 1, 2 or 3 (BatchNorm2d, GroupNorm, LayerNorm, InstanceNorm2d), got 7"
std::vector<DumpLayer> read_dump(const std::string& path);

}  // namespace bnlab::audit
