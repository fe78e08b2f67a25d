// libFuzzer target: the IDX reader (plain or gzip'ed, through zlib) on
// arbitrary bytes written to a file, as images (rank 3) and as labels (rank 1).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bnlab/core/error.hpp"
#include "bnlab/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/bnlab-fuzz-idx-" + std::to_string(::getpid()) + ".gz";
  if (std::FILE* file = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, file);
    std::fclose(file);
  } else {
    return 0;
  }
  for (std::size_t rank : {3u, 1u}) {
    try {
      (void)bnlab::read_idx(path, rank);
    } catch (const bnlab::Error&) {
    }
  }
  return 0;
}
