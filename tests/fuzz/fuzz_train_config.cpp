// libFuzzer target: the train config loader (the strict JSON reader and the
// per-key parser) on arbitrary bytes written to a file, then the effective
// configuration it would write into a result.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bnlab/core/error.hpp"
#include "fuzz_input_file.hpp"
#include "bnlab/train/train_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_fuzz_input(data, size, "train", ".json");
  if (path.empty()) return 0;
  try {
    const bnlab::train::TrainConfig config = bnlab::train::load_train_config(path);
    (void)bnlab::train::to_json(config).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } catch (const bnlab::Error&) {
  }
  return 0;
}
