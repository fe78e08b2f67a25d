#pragma once
// NumPy .npy files: what numpy.save and torch.Tensor.numpy() produce.
//
// Format (numpy.lib.format, versions 1.0/2.0/3.0):
//   "\x93NUMPY" | major, minor (1 byte each) | header length HLEN
//   (uint16 little-endian in 1.0, uint32 in 2.0 and 3.0) | HLEN bytes of header
//   | the raw data.
// The header is a Python dict literal padded with spaces and ended by '\n', e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 5), }
// 'descr' is the dtype ('<f4' little-endian float32), 'fortran_order' says
// whether the data is column-major, 'shape' is the extents (() for a scalar).
//
// Feature maps are (N, C, H, W) in memory (legend: N batch, C channels, H, W
// spatial); a file may hold them as (N, H, W, C) (TensorFlow's layout).
#include <string>
#include <string_view>

#include "bnlab/core/tensor.hpp"

namespace bnlab {

enum class DataLayout { nchw, nhwc };

// "NCHW" or "NHWC" (either case); `what` names the option or key in errors.
DataLayout parse_data_layout(const std::string& text, const std::string& what);
std::string to_string(DataLayout layout);  // "NCHW" / "NHWC"

// Reads a .npy of any rank as float32 in C order. Accepts little-endian
// float32 ('<f4') and float64 ('<f8', converted), C or Fortran order.
// Throws bnlab::Error starting with the path for an unreadable or malformed
// file, another dtype, a data size that does not match the shape, or a NaN,
// Inf or out-of-float32-range value (naming its index).
Array<float> read_npy(const std::string& path);

// The same from the bytes of a file in memory; `path` names it in errors.
Array<float> read_npy_bytes(std::string_view bytes, const std::string& path);

// Reads a feature map: a 4-d array with no zero-sized extent, stored as
// (N, C, H, W), or (N, H, W, C) with DataLayout::nhwc. Returns (N, C, H, W).
Array<float> read_feature_map(const std::string& path, DataLayout layout);

// The .npy bytes of `array` (float32, C order), byte-identical to numpy 1.24's
// numpy.save: version 1.0, the data starting at a multiple of 64.
std::string npy_bytes(const Array<float>& array);

// Writes npy_bytes(array) to `path` atomically.
void write_npy(const std::string& path, const Array<float>& array);

// The .npy bytes of a feature map x_nchw: (N, C, H, W), as is or as
// (N, H, W, C) with DataLayout::nhwc; `path` names it in errors.
std::string feature_map_npy_bytes(const Array<float>& x_nchw, DataLayout layout, const std::string& path);

// x_nchw: (N, C, H, W). Written as is, or as (N, H, W, C) with DataLayout::nhwc.
void write_feature_map(const std::string& path, const Array<float>& x_nchw, DataLayout layout);

}  // namespace bnlab
