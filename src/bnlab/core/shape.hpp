#pragma once
// Shapes of feature maps: parsing "N,C,H,W" and printing "(N, C, H, W)".
#include <cstddef>
#include <string>
#include <vector>

namespace bnlab {

// A feature map's extents. H and W are always reduced (or kept) together by
// every method, so kernels see the spatial plane as one axis of S = H*W.
struct Dims {
  std::size_t n = 0, c = 0, h = 0, w = 0;
  std::size_t s() const { return h * w; }
  std::size_t count() const { return n * c * h * w; }
  std::vector<std::size_t> to_vector() const { return {n, c, h, w}; }
  bool operator==(const Dims&) const = default;
};

// Every Dims made by these two functions has checked_element_count's
// guarantee (size.hpp: at most 2^40 elements), so count() cannot overflow.
// After "expected a 4-d array, got 3-d": a single sample saved without its
// batch axis is the usual reason.
inline constexpr const char* kOneSampleHint =
    "; one sample without its batch axis? add it: x[None] in NumPy, x.unsqueeze(0) in PyTorch";

// Dims from a rank-4 NCHW shape vector; `what` names the culprit in errors.
Dims dims_from_shape(const std::vector<std::size_t>& shape, const std::string& what);

// Parses "N,C,H,W" (four positive integers). `what` names the option or key.
Dims parse_dims(const std::string& text, const std::string& what);

// "(2, 3, 4, 5)"
std::string shape_to_string(const std::vector<std::size_t>& shape);

}  // namespace bnlab
