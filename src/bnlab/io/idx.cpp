#include "bnlab/io/idx.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <zlib.h>

#include "bnlab/core/error.hpp"

namespace bnlab {
namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;
constexpr std::size_t kMaxElements = std::size_t{1} << 32;  // far above any IDX data set

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

// The zlib error of a failed gzread, or "truncated" when the stream just ended.
std::string read_problem(gzFile file, const std::string& what) {
  int code = 0;
  const char* message = gzerror(file, &code);
  if (code != Z_OK && code != Z_STREAM_END) return "corrupt file (" + std::string(message) + ") while reading " + what;
  return "truncated file: ends inside the " + what;
}

void read_exact(gzFile file, void* out, std::size_t bytes, const std::string& path, const std::string& what) {
  auto* cursor = static_cast<unsigned char*>(out);
  while (bytes > 0) {
    unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes, 1u << 30));
    int got = gzread(file, cursor, chunk);
    if (got <= 0) throw Error(path + ": " + read_problem(file, what));
    cursor += got;
    bytes -= static_cast<std::size_t>(got);
  }
}

std::uint32_t big_endian_u32(const unsigned char* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
         std::uint32_t{bytes[3]};
}

std::string hex_byte(unsigned value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", value & 0xffu);
  return text;
}

}  // namespace

IdxArray read_idx(const std::string& path, std::size_t expected_rank, const std::string& hint) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(path + ": no such file" + (hint.empty() ? std::string() : " (" + hint + ")"));
  }
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": cannot read (is a directory)");
  errno = 0;
  GzHandle file(gzopen(path.c_str(), "rb"));
  if (!file) throw Error(path + ": cannot open (" + std::string(errno ? std::strerror(errno) : "zlib error") + ")");

  unsigned char magic[4];
  read_exact(file.get(), magic, 4, path, "4-byte magic number");
  if (magic[0] != 0 || magic[1] != 0) {
    throw Error(path + ": not an IDX file (magic number starts with " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) +
                ", expected 0x00 0x00)");
  }
  if (magic[2] != kUnsignedByte) {
    throw Error(path + ": unsupported IDX element type " + hex_byte(magic[2]) + " (expected 0x08, unsigned byte)");
  }
  if (magic[3] != expected_rank) {
    throw Error(path + ": expected a rank-" + std::to_string(expected_rank) + " IDX array, got rank " +
                std::to_string(magic[3]));
  }
  IdxArray array;
  std::size_t count = 1;
  for (std::size_t axis = 0; axis < expected_rank; ++axis) {
    unsigned char extent_bytes[4];
    read_exact(file.get(), extent_bytes, 4, path, "header (extent " + std::to_string(axis) + ")");
    std::size_t extent = big_endian_u32(extent_bytes);
    if (extent == 0) throw Error(path + ": extent " + std::to_string(axis) + " is 0");
    array.shape.push_back(extent);
    count *= extent;
    if (count > kMaxElements) throw Error(path + ": implausible IDX header: more than 2^32 elements");
  }
  array.data.resize(count);
  read_exact(file.get(), array.data.data(), count, path,
             "data (" + std::to_string(count) + " bytes expected)");
  unsigned char extra = 0;
  if (gzread(file.get(), &extra, 1) != 0) {
    throw Error(path + ": trailing data after the " + std::to_string(count) + " bytes the header announces");
  }
  int code = 0;
  const char* message = gzerror(file.get(), &code);
  if (code != Z_OK && code != Z_STREAM_END) throw Error(path + ": corrupt file (" + std::string(message) + ")");
  return array;
}

std::string idx_bytes(const IdxArray& array) {
  std::string bytes = {0, 0, static_cast<char>(kUnsignedByte), static_cast<char>(array.shape.size())};
  for (std::size_t extent : array.shape) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((extent >> shift) & 0xffu);
  }
  bytes.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  return bytes;
}

void write_idx_gz(const std::string& path, const IdxArray& array) {
  const std::string temporary = path + ".tmp";
  std::string bytes = idx_bytes(array);
  gzFile file = gzopen(temporary.c_str(), "wb");
  if (!file) throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
  bool ok = gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size());
  ok = (gzclose(file) == Z_OK) && ok;
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(temporary, ec);
    throw Error(path + ": cannot write (zlib error)");
  }
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw Error(path + ": cannot write (" + ec.message() + ")");
  }
}

}  // namespace bnlab
