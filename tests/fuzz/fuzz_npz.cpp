// libFuzzer target: the .npz reader (through libzip) on arbitrary bytes,
// written to a file as bnlab reads them: the archive's checks, every
// member's header, and the first members' data. Any outcome but a value or a
// bnlab::Error (a crash, an ASan/UBSan report, another exception, a run
// past libFuzzer's -rss_limit_mb) is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bnlab/core/error.hpp"
#include "fuzz_input_file.hpp"
#include "bnlab/io/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_fuzz_input(data, size, "npz", ".npz");
  if (path.empty()) return 0;
  try {
    const bnlab::NpzArchive archive(path);
    (void)archive.contents();
    std::size_t read = 0;
    for (const bnlab::NpzEntry& entry : archive.entries()) {
      if (read++ == 4) break;
      try {
        (void)archive.read(entry);
      } catch (const bnlab::Error&) {
      }
    }
  } catch (const bnlab::Error&) {
  }
  return 0;
}
