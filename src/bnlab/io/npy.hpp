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
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "bnlab/core/tensor.hpp"
#include "bnlab/io/atomic_file.hpp"
#include "bnlab/io/mapped_file.hpp"

namespace bnlab {

enum class DataLayout { nchw, nhwc };

// "NCHW" or "NHWC" (either case); `what` names the option or key in errors.
DataLayout parse_data_layout(const std::string& text, const std::string& what);
std::string to_string(DataLayout layout);  // "NCHW" / "NHWC"

// Reads a .npy of any rank as float32 in C order. Accepts little-endian
// float32 ('<f4'), float64 ('<f8', converted) and float16 ('<f2', widened
// exactly), C or Fortran order.
// Throws bnlab::Error starting with the path for an unreadable or malformed
// file, another dtype, a data size that does not match the shape, or a NaN,
// Inf or out-of-float32-range value (naming its index). A file that is not a
// .npy at all (an .npz, a torch.save archive, a pickle) is named as such.
// The data is read with one pread(2) straight into the array (float32, C
// order), or converted into it from pieces of 1 MiB (float16, float64).
Array<float> read_npy(const std::string& path);

// The header of a .npy held in memory: dtype, order, shape and where the data
// starts. `bytes` may end right after the header (the data is not looked at).
// `path` names the file (or "archive.npz:member") in errors.
struct NpyHeader {
  std::string descr;  // '<f4'
  bool fortran_order = false;
  Shape shape;
  std::size_t data_offset = 0;  // bytes before the data
};
NpyHeader parse_npy_header(std::string_view bytes, const std::string& path);

// The preamble and header's length in bytes from the first bytes of a .npy
// (12 are enough); 0 when they do not say (too short, not a .npy, a version
// parse_npy_header refuses). How much of an .npz member to inflate for its header.
std::size_t npy_header_end(std::string_view head);

// read_npy on the bytes of a .npy held in memory.
Array<float> parse_npy(std::string_view bytes, const std::string& path);

// Reads a feature map: a 4-d array with no zero-sized extent, stored as
// (N, C, H, W), or (N, H, W, C) with DataLayout::nhwc. Returns (N, C, H, W).
// An NCHW read whose last axis looks like channels draws a note (io/notes.hpp).
Array<float> read_feature_map(const std::string& path, DataLayout layout);

// An NCHW feature map read in place: the .npy's data mapped (io/mapped_file.hpp).
struct MappedFeatureMap {
  ReadOnlyMapping mapping;      // the whole file
  Shape shape;                  // (N, C, H, W)
  const float* data = nullptr;  // (N, C, H, W) inside the mapping
};
// read_feature_map(path, DataLayout::nchw) with the same checks and errors,
// the data mapped instead of read: no copy, no fresh memory (the pages are
// the page cache's). For a little-endian float32 .npy in C order, what
// numpy.save writes; nullopt for one that read_npy converts or transposes
// (float16, float64, Fortran order) or where the kernel cannot map it: read
// that one instead.
std::optional<MappedFeatureMap> map_feature_map(const std::string& path);

// The checks and transposition of read_feature_map on an array already read.
Array<float> as_feature_map(Array<float> x, DataLayout layout, const std::string& path);

// The bytes before the data of a float32 C-order .npy of `shape`,
// byte-identical to numpy 1.24's numpy.save: version 1.0 (2.0 for a header
// over 64 KiB), the data starting at a multiple of 64.
std::string npy_header(const Shape& shape);

// The .npy bytes of `array` (float32, C order): npy_header, then the data.
std::string npy_bytes(const Array<float>& array);

// Stages `array` as a .npy at `path` in `group` (io/atomic_file.hpp): the
// header, then the data written straight from the array (no copy).
void add_npy(OutputGroup& group, const std::string& path, const Array<float>& array);

// Stages a float32 .npy of `shape` whose data fill(data) writes in place
// (OutputGroup::add_filled: into the file's mapped pages, no copy), in
// row-major order: data holds the shape's element count.
void add_npy_filled(OutputGroup& group, const std::string& path, const Shape& shape,
                    const std::function<void(float* data)>& fill);

// Writes `array` as a .npy to `path` atomically (and fsynced).
void write_npy(const std::string& path, const Array<float>& array);

// Stages a feature map x_nchw: (N, C, H, W), as is or as (N, H, W, C) with
// DataLayout::nhwc; `path` names it in errors.
void add_feature_map(OutputGroup& group, const std::string& path, const Array<float>& x_nchw, DataLayout layout);

// x_nchw: (N, C, H, W). Written atomically as is, or as (N, H, W, C) with DataLayout::nhwc.
void write_feature_map(const std::string& path, const Array<float>& x_nchw, DataLayout layout);

}  // namespace bnlab
