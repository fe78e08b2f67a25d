#include "bnlab/core/size.hpp"

#include <unistd.h>


#include "bnlab/core/error.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/shape.hpp"

namespace bnlab {

std::size_t checked_element_count(const std::vector<std::size_t>& shape, const std::string& what) {
  if (shape.size() > kMaxRank) {
    throw Error(what + ": " + std::to_string(shape.size()) + " axes, more than the limit of " +
                std::to_string(kMaxRank));
  }
  // Zero extents are skipped in `spread` (the product of the non-zero
  // extents): xtensor's strides multiply them even when the array is empty.
  std::size_t count = 1, spread = 1;
  bool over = false;
  for (std::size_t extent : shape) {
    over |= __builtin_mul_overflow(count, extent, &count);
    over |= __builtin_mul_overflow(spread, extent == 0 ? 1 : extent, &spread);
  }
  if (over || spread > kMaxElements) {
    throw Error(what + ": shape " + shape_to_string(shape) + " has " +
                (over ? std::string("more than 2^64") : std::to_string(spread)) +
                " elements, more than bnlab's limit of 2^40 (" + std::to_string(kMaxElements) + ")");
  }
  return count;
}

std::size_t checked_byte_size(std::size_t count, std::size_t item_size, const std::string& what) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, item_size, &bytes)) {
    throw Error(what + ": " + std::to_string(count) + " elements of " + std::to_string(item_size) +
                " bytes overflow a 64-bit size");
  }
  return bytes;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 6) {
    bytes /= 1024.0;
    ++unit;
  }
  return fixed(bytes, unit == 0 ? 0 : 1) + " " + units[unit];
}

std::size_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<std::size_t>(pages), static_cast<std::size_t>(page_size), &bytes)) {
    return SIZE_MAX;
  }
  return bytes;
}

void require_memory(std::size_t bytes, const std::string& what, const std::string& purpose) {
  const std::size_t available = physical_memory_bytes();
  if (available != 0 && bytes > available) {
    throw Error(what + ": needs " + std::to_string(bytes) + " bytes (" + human_bytes(double(bytes)) + ") for " +
                purpose + ", more than this machine's memory (" + human_bytes(double(available)) + ")");
  }
}

}  // namespace bnlab
