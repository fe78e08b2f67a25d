#pragma once
// The containers bnlab passes around. Storage is row-major (C order), so a
// kernel can walk data() as plain contiguous memory.
//   x, y, dy, dx: (N, C, H, W)
//   gamma, beta, dgamma, dbeta: the parameter shape of the method
//   mean, var, rstd: the statistic shape of the method (flattened)
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace bnlab {

template <class T>
using Array = xt::xarray<T, xt::layout_type::row_major>;

using Shape = std::vector<std::size_t>;

// An array's extents as a Shape, e.g. for shape checks and messages.
template <class T>
Shape shape_of(const Array<T>& a) {
  return Shape(a.shape().begin(), a.shape().end());
}

inline std::size_t element_count(const Shape& shape) {
  std::size_t count = 1;
  for (std::size_t extent : shape) count *= extent;
  return count;
}

// A zero-filled-or-uninitialized float32 array of `shape` (C order), for a
// tensor whose size the user chose: the count goes through
// checked_element_count, more than the machine's memory is refused up front,
// and a std::bad_alloc becomes Error "<what>: cannot allocate <bytes> bytes
// (<human>) for <purpose>". `what` names the option or file responsible.
Array<float> allocate_floats(const Shape& shape, const std::string& what, const std::string& purpose);

}  // namespace bnlab
