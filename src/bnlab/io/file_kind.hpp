#pragma once
// Naming the files users hand bnlab by mistake: instead of "bad magic", say
// what the file is and how to save a tensor bnlab reads.
#include <string>

namespace bnlab {

// A torch.save file often holds a dict of tensors (one per layer): numpy.savez
// keeps them together, and compare reads every 4-d array of the .npz.
inline constexpr const char* kTorchSaveHowTo =
    "save the tensor with numpy.save(path, t.detach().cpu().numpy()), or a dict of tensors with "
    "numpy.savez(path, **{k: v.detach().cpu().numpy() for k, v in d.items()})";

// PyTorch's t.numpy() refuses bfloat16 and NumPy has no bfloat16 type, so such
// dumps arrive as raw 2-byte patterns ('<u2', '<i2' or ml_dtypes' '<V2').
inline constexpr const char* kBfloat16HowTo =
    "convert to float32 before saving: numpy.save(path, t.float().cpu().numpy()) in PyTorch, "
    "numpy.asarray(x, dtype=numpy.float32) for an ml_dtypes/JAX array";

// What a file that does not start with .npy's magic is, from its bytes:
//   "this is a PyTorch archive (torch.save); save the tensor with numpy.save(...)"
//   "this is an .npz archive (numpy.savez) holding 3 arrays: ...; ..."
//   "not a .npy file (bad magic)"
std::string describe_non_npy(const std::string& bytes);

}  // namespace bnlab
