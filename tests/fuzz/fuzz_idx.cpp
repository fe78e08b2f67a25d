// libFuzzer target: the IDX reader (plain or gzip'ed, through zlib) on
// arbitrary bytes written to a file, as images (rank 3) and as labels (rank 1).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bnlab/core/error.hpp"
#include "fuzz_input_file.hpp"
#include "bnlab/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_fuzz_input(data, size, "idx", ".gz");
  if (path.empty()) return 0;
  for (std::size_t rank : {3u, 1u}) {
    try {
      (void)bnlab::read_idx(path, rank);
    } catch (const bnlab::Error&) {
    }
  }
  return 0;
}
