#include "bnlab/core/tensor.hpp"

#include <new>

#include "bnlab/core/error.hpp"
#include "bnlab/core/size.hpp"

namespace bnlab {

Array<float> allocate_floats(const Shape& shape, const std::string& what, const std::string& purpose) {
  const std::size_t bytes = checked_byte_size(checked_element_count(shape, what), sizeof(float), what);
  require_memory(bytes, what, purpose);
  try {
    return Array<float>::from_shape(shape);
  } catch (const std::bad_alloc&) {
    throw Error(what + ": cannot allocate " + std::to_string(bytes) + " bytes (" + human_bytes(double(bytes)) +
                ") for " + purpose + " (out of memory)");
  }
}

}  // namespace bnlab
