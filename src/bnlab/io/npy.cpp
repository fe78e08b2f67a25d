#include "bnlab/io/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

#include <xtensor/xmanipulation.hpp>

#include "bnlab/io/atomic_file.hpp"
#include "bnlab/io/file_kind.hpp"
#include "bnlab/io/float16.hpp"
#include "bnlab/io/mapped_file.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/regular_file.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/finite.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/core/size.hpp"

namespace bnlab {

// The data is copied between the file and memory as is: both little-endian.
static_assert(std::endian::native == std::endian::little, "bnlab's .npy I/O assumes a little-endian host");

namespace {

constexpr std::string_view kMagic{"\x93NUMPY", 6};
constexpr std::size_t kAlign = 64;              // the data starts at a multiple of this
constexpr std::size_t kGrowthAxisMaxDigits = 21;  // numpy's spare room in the header

const char* const kExpectedDtypes = "expected float32 '<f4', float64 '<f8' or float16 '<f2'";

using Header = NpyHeader;

// ---- reading ---------------------------------------------------------------

constexpr std::size_t kHeadBytes = 4096;         // read first: numpy's headers are 128 bytes
constexpr std::size_t kReadPieceBytes = 8 << 20;  // a large read is split into pieces of 8 MiB
// After a float16 Inf: float16 holds at most 65504, so activations saved as
// float16 overflow where float32 would not.
const char* const kFloat16OverflowHint =
    " (float16 overflow? float16 holds at most 65504: save float32, numpy.save(path, x.astype(numpy.float32)))";
constexpr std::size_t kConvertBytes = 1 << 20;   // float16/float64 data is converted in pieces of this size

// An open regular file, read with pread(2) at given offsets. Only regular
// files (io/regular_file.hpp): a device or a pipe (/dev/zero, a FIFO) could
// be read forever.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path), file_(path) { size_ = file_.size(); fd_ = file_.fd(); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::size_t size() const { return size_; }
  int fd() const { return fd_; }

  // Exactly `count` bytes from `offset` into `out`. A large read is split
  // into pieces read by the OpenMP threads at once: most of its time is the
  // kernel copying from the page cache and faulting in the destination's
  // fresh pages, work the cores share. Pieces go to whichever thread is free
  // (dynamic), so a thread that another process delays holds up only the
  // piece it is reading.
  void read_at(std::size_t offset, char* out, std::size_t count) const {
    const std::size_t pieces = (count + kReadPieceBytes - 1) / kReadPieceBytes;
    int error_number = 0;  // the first failure: an errno, or -1 for a file that became shorter
#pragma omp parallel for schedule(dynamic, 1) if (pieces > 1)
    for (std::size_t piece = 0; piece < pieces; ++piece) {
      const std::size_t begin = piece * kReadPieceBytes, size = std::min(kReadPieceBytes, count - begin);
      const int failure = read_piece(offset + begin, out + begin, size);
      if (failure != 0) {
#pragma omp critical(bnlab_npy_read_error)
        if (error_number == 0) error_number = failure;
      }
    }
    if (error_number > 0) throw Error(path_ + ": cannot read: " + std::strerror(error_number));
    if (error_number < 0) throw Error(path_ + ": " + std::string(kFileShrank));
  }

  std::string read_string(std::size_t offset, std::size_t count) const {
    std::string bytes(count, '\0');
    read_at(offset, bytes.data(), count);
    return bytes;
  }

 private:
  // pread(2) until `count` bytes are in: 0, an errno, or -1 at an early end of file.
  int read_piece(std::size_t offset, char* out, std::size_t count) const {
    while (count > 0) {
      const ssize_t got = ::pread(fd_, out, count, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return errno;
      if (got == 0) return -1;
      out += got;
      offset += static_cast<std::size_t>(got);
      count -= static_cast<std::size_t>(got);
    }
    return 0;
  }

  const std::string& path_;
  RegularFile file_;
  int fd_ = -1;
  std::size_t size_ = 0;
};

// Whether `head` (the file's first bytes) agrees with the magic as far as it goes.
bool could_be_npy(std::string_view head) {
  return head.substr(0, kMagic.size()) == kMagic.substr(0, std::min(head.size(), kMagic.size()));
}

// The preamble and header's length in bytes, from the first bytes of a file;
// 0 when they do not say (too short, or a version parse_npy_header refuses).
std::size_t header_end(std::string_view head) {
  if (head.size() < kMagic.size() + 2 || !could_be_npy(head)) return 0;
  const int major = static_cast<unsigned char>(head[6]);
  if (major < 1 || major > 3) return 0;
  const std::size_t length_bytes = major == 1 ? 2 : 4, preamble = kMagic.size() + 2 + length_bytes;
  if (head.size() < preamble) return 0;
  std::size_t header_length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i) {
    header_length |= std::size_t{static_cast<unsigned char>(head[8 + i])} << (8 * i);
  }
  return preamble + header_length;
}

// A parser for the header's Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 5), }
// Keys in any order, either quote, any spacing, trailing commas (in the dict
// and in the shape tuple: (7,) is a 1-tuple, () a scalar).
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  Header parse() {
    Header header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (skip_space(), peek() != '}') {
      const std::string key = parse_string();
      expect(':');
      if (key == "descr" && !seen_descr) {
        seen_descr = true;
        skip_space();
        if (peek() == '[') throw Error(path_ + ": unsupported structured dtype (" + kExpectedDtypes + ")");
        header.descr = parse_string();
      } else if (key == "fortran_order" && !seen_order) {
        seen_order = true;
        header.fortran_order = parse_bool();
      } else if (key == "shape" && !seen_shape) {
        seen_shape = true;
        header.shape = parse_shape();
      } else {
        fail("unexpected or repeated key " + quoted(key, 40, '\''));
      }
      skip_space();
      if (peek() != '}') expect(',');
    }
    ++pos_;  // the '}'
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the dict");
    if (!seen_descr) fail("missing key 'descr'");
    if (!seen_order) fail("missing key 'fortran_order'");
    if (!seen_shape) fail("missing key 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_ + ": malformed .npy header: " + what + " (at byte " + std::to_string(pos_) + " of the header)");
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }
  bool parse_bool() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") return pos_ += 4, true;
    if (text_.substr(pos_, 5) == "False") return pos_ += 5, false;
    fail("expected True or False");
  }
  Shape parse_shape() {
    Shape shape;
    expect('(');
    while (skip_space(), peek() != ')') {
      std::size_t extent = 0;
      const char* first = text_.data() + pos_;
      auto [last, ec] = std::from_chars(first, text_.data() + text_.size(), extent);
      if (ec != std::errc() || last == first) fail("expected a non-negative integer in the shape");
      pos_ += static_cast<std::size_t>(last - first);
      if (peek() == 'L') ++pos_;  // Python 2's long suffix, as old numpy wrote it
      shape.push_back(extent);
      skip_space();
      if (peek() != ')') expect(',');
    }
    ++pos_;  // the ')'
    return shape;
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

// The C-order multi-index of flat position `flat` in `shape`.
Shape unravel_index(std::size_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = flat % shape[axis];
    flat /= shape[axis];
  }
  return index;
}

// The error for a value that is not a finite float32: NaN, Inf, or (from
// float64) beyond float32's range. `value` as stored, `flat` its C-order index.
// `inf_hint` follows an Inf: a float16 one is usually an overflow of the dump.
template <class T>
[[noreturn]] void throw_not_finite(T value, std::size_t flat, const Shape& shape, const std::string& path,
                                   const std::string& inf_hint = "") {
  const std::string where = " at index " + shape_to_string(unravel_index(flat, shape));
  if (std::isnan(value)) throw Error(path + ": NaN" + where);
  if (std::isinf(value)) throw Error(path + ": " + (value < 0 ? "-Inf" : "Inf") + where + inf_hint);
  throw Error(path + ": value " + significant(static_cast<double>(value), 6) + where + " is out of float32 range");
}

// Fortran order: converts the file's data (element type T, column-major) to a
// float32 C-order array, rejecting NaN, Inf and values beyond float32's range.
template <class T>
Array<float> decode_fortran(const char* data, const Header& header, const std::string& path) {
  Shape storage_shape = header.shape;  // Fortran order = C order of the reversed shape
  std::reverse(storage_shape.begin(), storage_shape.end());
  // The count was checked (checked_element_count) before any of this; an
  // empty array has no data to copy (and data() may be null).
  Array<T> stored = Array<T>::from_shape(storage_shape);
  if (stored.size() > 0) std::memcpy(stored.data(), data, stored.size() * sizeof(T));
  const Array<T> values = Array<T>(xt::transpose(stored));

  Array<float> out = Array<float>::from_shape(header.shape);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const T value = values.data()[i];
    const float converted = static_cast<float>(value);
    if (!std::isfinite(converted)) throw_not_finite(value, i, header.shape, path);
    out.data()[i] = converted;
  }
  return out;
}

// The item size of a supported dtype (2, 4 or 8 bytes), or the error naming it.
// Byte order: '<' little, '=' native (little: see the static_assert), '>' big.
std::size_t item_size_of(const std::string& descr, const std::string& path) {
  const std::string type = descr.size() == 3 ? descr.substr(1) : "";
  if (type == "f4" || type == "f8" || type == "f2") {
    if (descr[0] == '>') {
      throw Error(path + ": big-endian dtype " + quoted(descr, 40, '\'') + " is not supported (" + kExpectedDtypes + ")");
    }
    if (descr[0] == '<' || descr[0] == '=') return type == "f4" ? 4 : type == "f8" ? 8 : 2;
  }
  // NumPy has no bfloat16: such dumps arrive as their raw 2-byte patterns.
  if (type == "i2" || type == "u2" || type == "V2") {
    throw Error(path + ": unsupported dtype '" + descr + "' (" + kExpectedDtypes + "); if it holds bfloat16 bits, " +
                kBfloat16HowTo);
  }
  throw Error(path + ": unsupported dtype " + quoted(descr, 40, '\'') + " (" + kExpectedDtypes + ")");
}

// read_data(offset, out, count): copies `count` bytes of the data, starting
// `offset` bytes after the header, to `out`.
using ReadData = std::function<void(std::size_t offset, char* out, std::size_t count)>;

// The array of a .npy with this header and `available` bytes after it.
// float32 in C order (what numpy.save writes) is read straight into the
// array's buffer and then checked; float16 and float64 are converted into it
// piece by piece; Fortran order goes through a transposed copy.
// The element count of a .npy with this header, after checking that the
// `available` bytes after it are exactly count * item_size (trailing bytes
// are an error too). The count is checked before xtensor sees the shape (it
// multiplies the extents into strides, even beside a zero extent).
std::size_t checked_data_count(const Header& header, std::size_t item_size, std::size_t available,
                               const std::string& path) {
  const std::size_t count = checked_element_count(header.shape, path);
  const std::size_t expected = checked_byte_size(count, item_size, path);
  if (available != expected) {
    throw Error(path + ": expected " + std::to_string(expected) + " bytes of data, got " + std::to_string(available) +
                " (shape " + shape_to_string(header.shape) + ", dtype " + quoted(header.descr, 40, '\'') + ")");
  }
  return count;
}

Array<float> decode(const Header& header, std::size_t available, const ReadData& read_data, const std::string& path) {
  const std::size_t item_size = item_size_of(header.descr, path);
  const std::size_t count = checked_data_count(header, item_size, available, path);
  const std::size_t expected = count * item_size;

  if (header.fortran_order) {
    // The raw bytes, the stored array, its transpose and the result at once.
    require_memory(checked_byte_size(count, 3 * std::max(item_size, sizeof(float)) + sizeof(float), path), path,
                   "decoding its data");
    std::vector<char> raw(expected);
    if (expected > 0) read_data(0, raw.data(), expected);
    if (item_size == 2) {  // float16: widened exactly to float32, then checked like '<f4'
      std::vector<float> widened(count);
      float16_to_float32(raw.data(), count, widened.data());
      return decode_fortran<float>(reinterpret_cast<const char*>(widened.data()), header, path);
    }
    return item_size == 4 ? decode_fortran<float>(raw.data(), header, path)
                          : decode_fortran<double>(raw.data(), header, path);
  }

  require_memory(checked_byte_size(count, sizeof(float), path), path, "decoding its data");
  Array<float> out = Array<float>::from_shape(header.shape);
  float* values = out.data();
  if (item_size == sizeof(float)) {
    if (count > 0) read_data(0, reinterpret_cast<char*>(values), expected);
    if (const std::size_t bad = first_non_finite(values, count); bad < count) {
      throw_not_finite(values[bad], bad, header.shape, path);
    }
    return out;
  }
  std::vector<char> piece(kConvertBytes);
  const std::size_t per_piece = kConvertBytes / item_size;
  for (std::size_t first = 0; first < count; first += per_piece) {
    const std::size_t n = std::min(per_piece, count - first);
    read_data(first * item_size, piece.data(), n * item_size);
    float* converted = values + first;
    if (item_size == 2) {
      float16_to_float32(piece.data(), n, converted);  // exact
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        double value;
        std::memcpy(&value, piece.data() + i * sizeof value, sizeof value);
        converted[i] = static_cast<float>(value);
      }
    }
    if (const std::size_t bad = first_non_finite(converted, n); bad < n) {
      if (item_size == 2) throw_not_finite(converted[bad], first + bad, header.shape, path, kFloat16OverflowHint);
      double value;
      std::memcpy(&value, piece.data() + bad * sizeof value, sizeof value);
      throw_not_finite(value, first + bad, header.shape, path);
    }
  }
  return out;
}

// ---- writing -----------------------------------------------------------------

void append_little_endian(std::string& out, std::uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

DataLayout parse_data_layout(const std::string& text, const std::string& what) {
  std::string upper = text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "NCHW") return DataLayout::nchw;
  if (upper == "NHWC") return DataLayout::nhwc;
  throw Error(what + ": unknown data layout \"" + text + "\" (valid: NCHW, NHWC)");
}

std::string to_string(DataLayout layout) { return layout == DataLayout::nchw ? "NCHW" : "NHWC"; }

std::size_t npy_header_end(std::string_view head) { return header_end(head); }

NpyHeader parse_npy_header(std::string_view bytes, const std::string& path) {
  // Preamble: magic, version, header length (2 bytes in 1.0, 4 in 2.0/3.0).
  if (bytes.compare(0, kMagic.size(), kMagic.substr(0, std::min(bytes.size(), kMagic.size()))) != 0) {
    throw Error(path + ": " + describe_non_npy(std::string(bytes)));  // "not a .npy file (bad magic)", or what it is
  }
  if (bytes.size() < kMagic.size() + 2) {
    throw Error(path + ": truncated header (the file is only " + std::to_string(bytes.size()) + " bytes)");
  }
  const int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if ((major < 1 || major > 3) || minor != 0) {
    throw Error(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  }
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t preamble = kMagic.size() + 2 + length_bytes;
  if (bytes.size() < preamble) {
    throw Error(path + ": truncated header (the file is only " + std::to_string(bytes.size()) + " bytes)");
  }
  std::size_t header_length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i) {
    header_length |= std::size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
  }
  if (bytes.size() - preamble < header_length) {
    throw Error(path + ": truncated header (it should be " + std::to_string(header_length) +
                " bytes, the file holds " + std::to_string(bytes.size() - preamble) + ")");
  }
  Header header = HeaderParser(bytes.substr(preamble, header_length), path).parse();
  header.data_offset = preamble + header_length;
  return header;
}

Array<float> parse_npy(std::string_view bytes, const std::string& path) {
  const Header header = parse_npy_header(bytes, path);
  const std::string_view data = bytes.substr(header.data_offset);
  return decode(header, data.size(),
                [&](std::size_t offset, char* out, std::size_t count) { std::memcpy(out, data.data() + offset, count); },
                path);
}

namespace {

// The header of the open .npy `file` (errors as parse_npy_header's).
Header read_header(const InputFile& file, const std::string& path) {
  // The header: the first bytes say how long it is (numpy's is 128 bytes).
  std::string head = file.read_string(0, std::min(file.size(), kHeadBytes));
  if (head.size() < file.size()) {
    if (!could_be_npy(head)) {  // describe_non_npy names an archive's members: it needs every byte
      require_memory(file.size(), path, "reading the file");
      head = file.read_string(0, file.size());
    } else if (const std::size_t end = std::min(header_end(head), file.size()); end > head.size()) {
      require_memory(end, path, "reading its header");
      head = file.read_string(0, end);
    }
  }
  return parse_npy_header(head, path);
}

}  // namespace

Array<float> read_npy(const std::string& path) {
  const InputFile file(path);
  const Header header = read_header(file, path);
  // The data, read straight into the array (see decode).
  return decode(header, file.size() - header.data_offset,
                [&](std::size_t offset, char* out, std::size_t count) {
                  file.read_at(header.data_offset + offset, out, count);
                },
                path);
}

Array<float> read_feature_map(const std::string& path, DataLayout layout) {
  return as_feature_map(read_npy(path), layout, path);
}

std::optional<MappedFeatureMap> map_feature_map(const std::string& path) {
  const InputFile file(path);
  const Header header = read_header(file, path);
  const std::size_t item_size = item_size_of(header.descr, path);
  if (item_size != sizeof(float) || header.fortran_order || header.data_offset % alignof(float) != 0) {
    return std::nullopt;  // converted or transposed, or misaligned: read_npy's work
  }
  const std::size_t count = checked_data_count(header, item_size, file.size() - header.data_offset, path);
  MappedFeatureMap map;
  map.mapping = ReadOnlyMapping(file.fd(), file.size(), path);
  if (!map.mapping.mapped()) return std::nullopt;
  map.shape = header.shape;
  map.data = reinterpret_cast<const float*>(map.mapping.bytes().data() + header.data_offset);
  if (const std::size_t bad = first_non_finite(map.data, count); bad < count) {
    throw_not_finite(map.data[bad], bad, header.shape, path);
  }
  // Then the feature map's checks, in read_feature_map's order.
  dims_from_shape(header.shape, path);  // rank 4, no zero-sized extent
  note_if_channels_last(header.shape, path, map.data);
  return map;
}

Array<float> as_feature_map(Array<float> x, DataLayout layout, const std::string& path) {
  const Shape shape = shape_of(x);
  if (layout == DataLayout::nchw) {
    dims_from_shape(shape, path);  // rank 4, no zero-sized extent
    note_if_channels_last(shape, path, x.data());
    return x;
  }
  if (shape.size() != 4) {
    throw Error(path + ": expected a 4-d array (N,H,W,C), got " + std::to_string(shape.size()) + "-d " +
                shape_to_string(shape) + (shape.size() == 3 ? kOneSampleHint : ""));
  }
  dims_from_shape(shape, path);  // no zero-sized extent
  // (N, H, W, C) -> (N, C, H, W): output axis k is input axis {0, 3, 1, 2}[k].
  return Array<float>(xt::transpose(x, {0, 3, 1, 2}));
}

std::string npy_header(const Shape& shape) {
  // numpy 1.24's header: the dict with sorted keys, then spare spaces so the
  // leading extent can grow in place to 21 digits, then spaces to align the
  // data on 64 bytes (a full 64 when already aligned), then '\n'.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_to_string(shape) + ", }";
  if (!shape.empty()) dict.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');
  const std::size_t text_length = dict.size() + 1;  // + '\n'
  int major = 1;                                      // 1.0: a uint16 header length
  std::size_t preamble = kMagic.size() + 2 + 2;
  std::size_t padding = kAlign - (preamble + text_length) % kAlign;
  if (text_length + padding > 0xffff) {  // 2.0: a uint32 header length
    major = 2;
    preamble = kMagic.size() + 2 + 4;
    padding = kAlign - (preamble + text_length) % kAlign;
  }

  std::string out(kMagic);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  append_little_endian(out, static_cast<std::uint32_t>(text_length + padding), major == 1 ? 2 : 4);
  out += dict;
  out.append(padding, ' ');
  out.push_back('\n');
  return out;
}

std::string npy_bytes(const Array<float>& array) {
  std::string out = npy_header(shape_of(array));
  out.append(reinterpret_cast<const char*>(array.data()), array.size() * sizeof(float));
  return out;
}

void add_npy(OutputGroup& group, const std::string& path, const Array<float>& array) {
  const std::string header = npy_header(shape_of(array));
  // The data straight from the array: no serialized copy.
  group.add(path, {header, std::string_view(reinterpret_cast<const char*>(array.data()), array.size() * sizeof(float))});
}

void add_npy_filled(OutputGroup& group, const std::string& path, const Shape& shape,
                    const std::function<void(float* data)>& fill) {
  const std::size_t count = checked_element_count(shape, path);
  // The header is a multiple of 64 bytes long: the data is aligned for floats.
  group.add_filled(path, npy_header(shape), count * sizeof(float),
                   [&](char* data) { fill(reinterpret_cast<float*>(data)); });
}

void write_npy(const std::string& path, const Array<float>& array) {
  OutputGroup group;
  add_npy(group, path, array);
  group.commit();
}

void add_feature_map(OutputGroup& group, const std::string& path, const Array<float>& x_nchw, DataLayout layout) {
  dims_from_shape(shape_of(x_nchw), path);
  if (layout == DataLayout::nchw) return add_npy(group, path, x_nchw);
  // (N, C, H, W) -> (N, H, W, C): output axis k is input axis {0, 2, 3, 1}[k].
  add_npy(group, path, Array<float>(xt::transpose(x_nchw, {0, 2, 3, 1})));
}

void write_feature_map(const std::string& path, const Array<float>& x_nchw, DataLayout layout) {
  OutputGroup group;
  add_feature_map(group, path, x_nchw, layout);
  group.commit();
}

}  // namespace bnlab
