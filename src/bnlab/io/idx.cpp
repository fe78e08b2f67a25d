#include "bnlab/io/idx.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <zlib.h>

#include "bnlab/core/error.hpp"
#include "bnlab/io/regular_file.hpp"

namespace bnlab {
namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;
constexpr std::size_t kMaxElements = std::size_t{1} << 32;  // far above any IDX data set

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

// zlib's message without the name it gives the stream ("<fd:3>: " for a
// gzdopen'ed descriptor): the caller names the file, once.
std::string zlib_message(gzFile file, int* code) {
  std::string message = gzerror(file, code);
  if (message.rfind("<fd:", 0) == 0) {
    const std::size_t colon = message.find(">: ");
    if (colon != std::string::npos) message = message.substr(colon + 3);
  }
  return message;
}

// The zlib error of a failed gzread, or "truncated" when the stream just ended.
std::string read_problem(gzFile file, const std::string& what) {
  int code = 0;
  const std::string message = zlib_message(file, &code);
  if (code != Z_OK && code != Z_STREAM_END) return "corrupt file (" + message + ") while reading " + what;
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

// `count` bytes into `data`, which grows as they arrive (by at most kReadChunk
// past what came): a header that announces 4 GiB over a few bytes of data
// allocates no more than those bytes before "truncated".
constexpr std::size_t kReadChunk = std::size_t{4} << 20;
void read_growing(gzFile file, std::vector<std::uint8_t>& data, std::size_t count, const std::string& path,
                  const std::string& what) {
  data.clear();
  while (data.size() < count) {
    const std::size_t have = data.size(), piece = std::min(kReadChunk, count - have);
    data.resize(have + piece);
    read_exact(file, data.data() + have, piece, path, what);
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
  // Only a regular file (io/regular_file.hpp): a FIFO would block, a device never end.
  RegularFile input(path, "cannot open (", ")");
  const std::size_t file_bytes = input.size();
  unsigned char gzip_magic[2] = {0, 0};
  const bool compressed = ::pread(input.fd(), gzip_magic, 2, 0) == 2 && gzip_magic[0] == 0x1f && gzip_magic[1] == 0x8b;
  errno = 0;
  GzHandle file(gzdopen(input.fd(), "rb"));
  if (!file) throw Error(path + ": cannot open (" + std::string(errno ? std::strerror(errno) : "zlib error") + ")");
  input.release();  // gzclose closes it now

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
  // The header's count against what the file can hold, before any allocation:
  // a plain file holds it as is, a gzip stream at most deflate's 1032:1.
  const std::size_t header_bytes = 4 + 4 * expected_rank;
  const std::size_t most = compressed ? file_bytes * 1032 : file_bytes - std::min(file_bytes, header_bytes);
  if (count > most) {
    throw Error(path + ": truncated file: the header announces " + std::to_string(count) + " bytes of data, " +
                (compressed ? "more than its " + std::to_string(file_bytes) + " compressed bytes can hold"
                            : "the file holds " + std::to_string(most)));
  }
  read_growing(file.get(), array.data, count, path, "data (" + std::to_string(count) + " bytes expected)");
  unsigned char extra = 0;
  if (gzread(file.get(), &extra, 1) != 0) {
    throw Error(path + ": trailing data after the " + std::to_string(count) + " bytes the header announces");
  }
  int code = 0;
  const std::string message = zlib_message(file.get(), &code);
  if (code != Z_OK && code != Z_STREAM_END) throw Error(path + ": corrupt file (" + message + ")");
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
