// libFuzzer target: the .npy reader on arbitrary bytes. Any outcome but a
// value or a bnlab::Error (a crash, an ASan/UBSan report, another exception)
// is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bnlab/core/error.hpp"
#include "bnlab/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    bnlab::Array<float> a = bnlab::parse_npy(std::string(reinterpret_cast<const char*>(data), size), "fuzz.npy");
    if (a.dimension() == 4) (void)bnlab::npy_bytes(a);  // and the writer on what was read
  } catch (const bnlab::Error&) {
  }
  return 0;
}
