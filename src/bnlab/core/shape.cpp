#include "bnlab/core/shape.hpp"

#include <charconv>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/size.hpp"
#include "bnlab/core/split.hpp"

namespace bnlab {

Dims dims_from_shape(const std::vector<std::size_t>& shape, const std::string& what) {
  if (shape.size() != 4) {
    throw Error(what + ": expected a 4-d array (N,C,H,W), got " + std::to_string(shape.size()) +
                "-d " + shape_to_string(shape) + (shape.size() == 3 ? kOneSampleHint : ""));
  }
  for (std::size_t extent : shape) {
    if (extent == 0) throw Error(what + ": zero-sized dimension in shape " + shape_to_string(shape));
  }
  checked_element_count(shape, what);
  return Dims{shape[0], shape[1], shape[2], shape[3]};
}

Dims parse_dims(const std::string& text, const std::string& what) {
  std::vector<std::size_t> extents;
  for (const std::string& field : split_commas(text)) {
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || ec != std::errc() || end != field.data() + field.size()) {
      throw Error(what + ": expected N,C,H,W (four positive integers), got " + quoted(text));
    }
    extents.push_back(value);
  }
  if (extents.size() != 4) {
    throw Error(what + ": expected N,C,H,W (four positive integers), got " + quoted(text));
  }
  for (std::size_t extent : extents) {
    if (extent == 0) throw Error(what + ": every extent must be >= 1, got " + quoted(text));
  }
  checked_element_count(extents, what);
  return Dims{extents[0], extents[1], extents[2], extents[3]};
}

std::string shape_to_string(const std::vector<std::size_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace bnlab
