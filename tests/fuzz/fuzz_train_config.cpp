// libFuzzer target: the train config loader (the strict JSON reader and the
// per-key parser) on arbitrary bytes written to a file, then the effective
// configuration it would write into a result.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bnlab/core/error.hpp"
#include "bnlab/train/train_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/bnlab-fuzz-train-" + std::to_string(::getpid()) + ".json";
  if (std::FILE* file = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, file);
    std::fclose(file);
  } else {
    return 0;
  }
  try {
    const bnlab::train::TrainConfig config = bnlab::train::load_train_config(path);
    (void)bnlab::train::to_json(config).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } catch (const bnlab::Error&) {
  }
  return 0;
}
