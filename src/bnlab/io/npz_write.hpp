#pragma once
// Writing an .npz (what numpy.load reads): a zip of NAME.npy members, stored
// (not deflated), built in memory with libzip and written atomically
// (io/atomic_file.hpp). For small archives: `bnlab audit --recalibrate`'s
// running statistics.
#include <string>
#include <utility>
#include <vector>

#include "bnlab/core/tensor.hpp"

namespace bnlab {

// The bytes of an .npz holding each (name, array) as a float32 .npy, in order.
std::string npz_bytes(const std::vector<std::pair<std::string, Array<float>>>& arrays);

// npz_bytes written to `path` atomically; errors as write_file_atomically's.
void write_npz(const std::string& path, const std::vector<std::pair<std::string, Array<float>>>& arrays);

}  // namespace bnlab
