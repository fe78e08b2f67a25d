#pragma once
// For targets whose reader takes a path (.npz, IDX, train configs): writes
// the fuzzer's bytes to one file per process, named by `stem` and `suffix`,
// and returns its path, or "" when it cannot be written (the input is then
// skipped).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

inline std::string write_fuzz_input(const std::uint8_t* data, std::size_t size, const char* stem, const char* suffix) {
  const std::string path = std::string("/tmp/bnlab-fuzz-") + stem + "-" + std::to_string(::getpid()) + suffix;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return "";
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  return path;
}
