#pragma once
// IDX files, the format of MNIST and Fashion-MNIST, read through zlib (a
// gzip'ed file and a plain one both work: gzread passes plain data through).
//
// Format (big-endian): two zero bytes | type code (0x08 = unsigned byte) |
// rank r | r extents as uint32 | the data, row-major. Images are rank 3
// (count, rows, cols), labels rank 1 (count).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bnlab {

struct IdxArray {
  std::vector<std::size_t> shape;  // e.g. (60000, 28, 28) or (60000)
  std::vector<std::uint8_t> data;  // row-major, element_count(shape) bytes
};

// Reads an unsigned-byte IDX file of the given rank. Throws Error
// "<path>: <problem>" for a missing or unreadable file, a corrupt gzip
// stream, a bad magic number, another type or rank, or truncated data;
// `hint` (e.g. "install Debian's dataset-fashion-mnist") is appended to the
// message of a missing file.
IdxArray read_idx(const std::string& path, std::size_t expected_rank, const std::string& hint = "");

// The bytes of an unsigned-byte IDX file (uncompressed) holding `array`: for
// tests and stand-in data sets.
std::string idx_bytes(const IdxArray& array);

// Writes `array` gzip-compressed to `path` (through a temporary file).
void write_idx_gz(const std::string& path, const IdxArray& array);

}  // namespace bnlab
