// .npy reading and writing: round trips, numpy-written fixtures
// (tests/fixtures, made by scripts/make_npy_fixtures.py), byte-identity with
// numpy.save, and one test per kind of bad input.
// Fixture tensor x: (N, C, H, W) = (2, 3, 4, 5), x.flat[i] = (i - 60) / 4.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "bnlab/io/atomic_file.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/core/shape.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using bnlab::Array;
using bnlab::DataLayout;
using Catch::Contains;

namespace {

std::string fixture(const std::string& name) { return std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/" + name; }

// A fresh directory under the system temp dir, removed with its contents.
using testing::TempDir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out);
}

// A hand-made .npy: preamble for `major`.0, then `dict` + '\n', then `data`.
std::string raw_npy(const std::string& dict, const std::string& data, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t length = dict.size() + 1;
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) out += static_cast<char>((length >> (8 * i)) & 0xff);
  return out + dict + '\n' + data;
}

template <class T>
std::string data_bytes(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

using bnlab::shape_of;

// Same shape and the same bits in every element (NaN-free; -0 differs from 0).
bool same_bits(const Array<float>& a, const Array<float>& b) {
  // An empty array's data() may be null: memcmp must not see it (UBSan).
  return shape_of(a) == shape_of(b) && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("parse_data_layout accepts NCHW and NHWC in either case and lists the valid ones") {
  CHECK(bnlab::parse_data_layout("NCHW", "--layout") == DataLayout::nchw);
  CHECK(bnlab::parse_data_layout("nhwc", "--layout") == DataLayout::nhwc);
  CHECK(bnlab::to_string(DataLayout::nchw) == "NCHW");
  CHECK(bnlab::to_string(DataLayout::nhwc) == "NHWC");
  REQUIRE_THROWS_WITH(bnlab::parse_data_layout("NWHC", "--layout"),
                      "--layout: unknown data layout \"NWHC\" (valid: NCHW, NHWC)");
}

TEST_CASE("write_npy then read_npy round-trips float32 arrays of every rank bit for bit") {
  TempDir dir;
  const std::vector<bnlab::Shape> shapes = {{}, {7}, {3, 5}, {1, 3, 7}, {2, 3, 5, 7}, {3, 1, 2, 1, 5}, {0, 3}};
  for (const auto& shape : shapes) {
    INFO("shape " << bnlab::shape_to_string(shape));
    auto x = testing::to_array<float>(testing::normals(bnlab::element_count(shape), 7, 3.0, 1e3), shape);
    if (x.size() >= 3) {  // the extremes of float32 survive too
      x.data()[0] = -0.0f;
      x.data()[1] = std::numeric_limits<float>::denorm_min();
      x.data()[2] = -std::numeric_limits<float>::max();
    }
    const std::string path = (dir / "x.npy");
    bnlab::write_npy(path, x);
    CHECK(same_bits(bnlab::read_npy(path), x));
  }
}

TEST_CASE("npy_bytes writes the magic, version 1.0, and a newline-ended header padded to 64 bytes") {
  for (const bnlab::Shape& shape : {bnlab::Shape{}, bnlab::Shape{1}, bnlab::Shape{2, 3, 4, 5}, bnlab::Shape{123456789, 0}}) {
    INFO("shape " << bnlab::shape_to_string(shape));
    const std::string bytes = bnlab::npy_bytes(Array<float>::from_shape(shape));
    REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t header_length =
        static_cast<unsigned char>(bytes[8]) | static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    const std::size_t data_offset = 10 + header_length;
    CHECK(data_offset % 64 == 0);
    CHECK(bytes[data_offset - 1] == '\n');
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + bnlab::shape_to_string(shape) + ", }";
    CHECK(bytes.substr(10, dict.size()) == dict);
    CHECK(bytes.find_first_not_of(' ', 10 + dict.size()) == data_offset - 1);  // then spaces up to the '\n'
    CHECK(bytes.size() - data_offset == 4 * bnlab::element_count(shape));
  }
}

TEST_CASE("write_npy is byte-identical to numpy.save for the same values") {
  TempDir dir;
  for (const char* name : {"nchw_f4.npy", "nhwc_f4.npy", "rank3_f4.npy", "vector_f4.npy", "scalar_f4.npy",
                           "zero_dim_f4.npy", "rank16_f4.npy", "aligned_header_f4.npy"}) {
    INFO(name);
    const std::string numpy_bytes = read_bytes(fixture(name));
    CHECK(bnlab::npy_bytes(bnlab::read_npy(fixture(name))) == numpy_bytes);
    bnlab::write_npy((dir / name), bnlab::read_npy(fixture(name)));
    CHECK(read_bytes((dir / name)) == numpy_bytes);
  }
}

TEST_CASE("read_npy reads numpy's float32 C-order 4-d fixture") {
  const Array<float> x = bnlab::read_npy(fixture("nchw_f4.npy"));
  REQUIRE(shape_of(x) == bnlab::Shape{2, 3, 4, 5});
  for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(x.data()[i] == (float(i) - 60.0f) / 4.0f);
  CHECK(x(1, 2, 3, 4) == (119.0f - 60.0f) / 4.0f);
}

TEST_CASE("read_npy converts numpy's float64 fixture to float32") {
  CHECK(same_bits(bnlab::read_npy(fixture("nchw_f8.npy")), bnlab::read_npy(fixture("nchw_f4.npy"))));
}

TEST_CASE("read_npy transposes a Fortran-order fixture into C order") {
  const Array<float> fortran = bnlab::read_npy(fixture("nchw_f4_fortran.npy"));
  const Array<float> c_order = bnlab::read_npy(fixture("nchw_f4.npy"));
  REQUIRE(shape_of(fortran) == bnlab::Shape{2, 3, 4, 5});
  CHECK(fortran(0, 1, 2, 3) == c_order(0, 1, 2, 3));
  CHECK(same_bits(fortran, c_order));
}

TEST_CASE("read_feature_map with NHWC transposes the file to (N, C, H, W)") {
  const Array<float> from_nhwc = bnlab::read_feature_map(fixture("nhwc_f4.npy"), DataLayout::nhwc);
  const Array<float> from_nchw = bnlab::read_feature_map(fixture("nchw_f4.npy"), DataLayout::nchw);
  REQUIRE(shape_of(from_nhwc) == bnlab::Shape{2, 3, 4, 5});
  CHECK(same_bits(from_nhwc, from_nchw));
}

TEST_CASE("write_feature_map with NHWC writes what numpy wrote for the (N, H, W, C) tensor") {
  TempDir dir;
  const Array<float> x = bnlab::read_npy(fixture("nchw_f4.npy"));
  bnlab::write_feature_map((dir / "nhwc.npy"), x, DataLayout::nhwc);
  bnlab::write_feature_map((dir / "nchw.npy"), x, DataLayout::nchw);
  CHECK(read_bytes((dir / "nhwc.npy")) == read_bytes(fixture("nhwc_f4.npy")));
  CHECK(read_bytes((dir / "nchw.npy")) == read_bytes(fixture("nchw_f4.npy")));
}

TEST_CASE("read_npy reads numpy's 1-d fixture") {
  const Array<float> v = bnlab::read_npy(fixture("vector_f4.npy"));
  REQUIRE(shape_of(v) == bnlab::Shape{7});
  CHECK(v(0) == 1.5f);
  CHECK(v(3) == 3.25f);
  CHECK(v(4) == 1e-3f);
  CHECK(v(6) == 42.0f);
}

TEST_CASE("read_npy parses a header with keys in any order, either quote, odd spacing, version 2.0") {
  TempDir dir;
  const std::string dict = "{ \"shape\" :( 2 ,3 ),'fortran_order':True ,  'descr':\"<f4\"   }   ";
  write_bytes((dir / "odd.npy"), raw_npy(dict, data_bytes<float>({0, 3, 1, 4, 2, 5}), 2));
  const Array<float> a = bnlab::read_npy((dir / "odd.npy"));
  REQUIRE(shape_of(a) == bnlab::Shape{2, 3});
  CHECK(a(0, 1) == 1.0f);  // Fortran order: (0,1) is the third value stored
  CHECK(a(1, 0) == 3.0f);
  CHECK(a(1, 2) == 5.0f);
}

TEST_CASE("read_npy rejects a missing file naming it") {
  REQUIRE_THROWS_WITH(bnlab::read_npy("no/such/file.npy"), "no/such/file.npy: cannot open: No such file or directory");
}

TEST_CASE("read_npy rejects a file with the wrong magic") {
  TempDir dir;
  const std::string path = (dir / "zip.npy");
  write_bytes(path, "PK\x03\x04 this is a zip file, not an array");
  REQUIRE_THROWS_WITH(bnlab::read_npy(path), path + ": not a .npy file (bad magic)");
}

TEST_CASE("read_npy rejects a truncated header") {
  TempDir dir;
  const std::string bytes = read_bytes(fixture("nchw_f4.npy"));
  for (std::size_t cut : {std::size_t{0}, std::size_t{8}, std::size_t{50}}) {
    INFO("cut at " << cut);
    write_bytes((dir / "cut.npy"), bytes.substr(0, cut));
    REQUIRE_THROWS_WITH(bnlab::read_npy((dir / "cut.npy")), Contains("truncated header"));
  }
}

TEST_CASE("read_npy rejects a malformed header dict") {
  TempDir dir;
  const std::string path = (dir / "bad.npy");
  const std::string data = data_bytes<float>({1, 2});
  write_bytes(path, raw_npy("{'descr': '<f4', 'shape': (2,), }", data));
  REQUIRE_THROWS_WITH(bnlab::read_npy(path), Contains("malformed .npy header: missing key 'fortran_order'"));
  write_bytes(path, raw_npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", data));
  REQUIRE_THROWS_WITH(bnlab::read_npy(path), Contains("malformed .npy header: expected True or False"));
  write_bytes(path, raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data));
  REQUIRE_THROWS_WITH(bnlab::read_npy(path), Contains("malformed .npy header: expected a non-negative integer"));
  write_bytes(path, raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", data));
  REQUIRE_THROWS_WITH(bnlab::read_npy(path), Contains("malformed .npy header: unexpected or repeated key 'extra'"));
}

TEST_CASE("read_npy rejects truncated data and trailing bytes, counting both") {
  TempDir dir;
  const std::string bytes = read_bytes(fixture("nchw_f4.npy"));  // 128-byte header + 480 bytes of data
  write_bytes((dir / "short.npy"), bytes.substr(0, bytes.size() - 4));
  REQUIRE_THROWS_WITH(bnlab::read_npy((dir / "short.npy")),
                      Catch::StartsWith((dir / "short.npy") + ": expected 480 bytes of data, got 476"));
  write_bytes((dir / "long.npy"), bytes + "x");
  REQUIRE_THROWS_WITH(bnlab::read_npy((dir / "long.npy")), Contains("expected 480 bytes of data, got 481"));
}

TEST_CASE("read_npy rejects an int64 file naming the dtype") {
  REQUIRE_THROWS_WITH(bnlab::read_npy(fixture("int64.npy")),
                      fixture("int64.npy") + ": unsupported dtype '<i8' (expected float32 '<f4', float64 '<f8' or float16 '<f2')");
}

TEST_CASE("read_npy rejects a big-endian float32 file") {
  REQUIRE_THROWS_WITH(bnlab::read_npy(fixture("big_endian_f4.npy")), Contains("big-endian dtype '>f4' is not supported"));
}

TEST_CASE("read_feature_map rejects a 3-d array, naming the expected layout") {
  const std::string path = fixture("rank3_f4.npy");
  REQUIRE_THROWS_WITH(bnlab::read_feature_map(path, DataLayout::nchw),
                      path + ": expected a 4-d array (N,C,H,W), got 3-d (2, 3, 4); one sample without its batch axis? "
                             "add it: x[None] in NumPy, x.unsqueeze(0) in PyTorch");
  REQUIRE_THROWS_WITH(bnlab::read_feature_map(path, DataLayout::nhwc),
                      path + ": expected a 4-d array (N,H,W,C), got 3-d (2, 3, 4); one sample without its batch axis? "
                             "add it: x[None] in NumPy, x.unsqueeze(0) in PyTorch");
}

TEST_CASE("read_feature_map rejects a zero-sized dimension") {
  REQUIRE_THROWS_WITH(bnlab::read_feature_map(fixture("zero_dim_f4.npy"), DataLayout::nchw),
                      Contains("zero-sized dimension in shape (2, 0, 4, 5)"));
}

TEST_CASE("read_npy rejects NaN, naming the multi-index of the first one") {
  REQUIRE_THROWS_WITH(bnlab::read_npy(fixture("nan_f4.npy")), fixture("nan_f4.npy") + ": NaN at index (0, 2, 3, 1)");
}

TEST_CASE("read_npy rejects Inf, naming its multi-index") {
  REQUIRE_THROWS_WITH(bnlab::read_npy(fixture("inf_f4.npy")), Contains("-Inf at index (0, 1, 2, 0)"));
}

TEST_CASE("read_npy rejects a float64 value beyond float32's range") {
  TempDir dir;
  const std::string path = (dir / "huge.npy");
  write_bytes(path, raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data_bytes<double>({1.0, 1e300})));
  REQUIRE_THROWS_WITH(bnlab::read_npy(path), Contains("value 1e+300 at index (1,) is out of float32 range"));
}

TEST_CASE("write_file_atomically replaces the file and leaves no temporary behind") {
  TempDir dir;
  const std::string path = (dir / "out.txt");
  write_bytes(path, "old contents, longer than the new ones");
  bnlab::write_file_atomically(path, "new");
  CHECK(read_bytes(path) == "new");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("write_file_atomically fails cleanly, naming the path and leaving nothing behind") {
  TempDir dir;
  const std::string missing = (dir / "no-such-dir/out.npy");
  REQUIRE_THROWS_WITH(bnlab::write_file_atomically(missing, "x"),
                      missing + ": cannot write: No such file or directory");
  fs::create_directory(dir.path / "taken");  // a directory is refused before anything is written
  REQUIRE_THROWS_WITH(bnlab::write_npy((dir / "taken"), Array<float>::from_shape({2})),
                      Contains((dir / "taken") + ": is not a regular file"));
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
  CHECK(fs::is_directory(dir.path / "taken"));
}

// ---- reading straight into the array, converting in pieces, writing from the array ----

TEST_CASE("read_npy converts float16 and float64 data spanning several 1 MiB pieces exactly, in order") {
  // 300,000 values: 0.6 MB as float16, 2.4 MB as float64 (three pieces), so
  // values cross piece boundaries; each must land at its own index.
  TempDir dir;
  const std::size_t count = 300000;
  std::string f2, f8;
  for (std::size_t i = 0; i < count; ++i) {
    const double value = double(i % 2048) - 1024.0;  // integers: exact in float16, float32, float64
    const std::uint16_t half = value == 0 ? 0 : [&] {
      // binary16 of an integer |v| < 2048: exponent e = floor(log2 |v|) + 15, fraction (|v| / 2^(e-15) - 1) * 1024
      const double magnitude = std::fabs(value);
      const int e = int(std::floor(std::log2(magnitude)));
      const auto fraction = std::uint16_t((magnitude / std::ldexp(1.0, e) - 1.0) * 1024.0);
      return std::uint16_t((value < 0 ? 0x8000 : 0) | ((e + 15) << 10) | fraction);
    }();
    f2.append(reinterpret_cast<const char*>(&half), 2);
    f8.append(reinterpret_cast<const char*>(&value), 8);
  }
  const std::string shape = "'shape': (" + std::to_string(count) + ",), }";
  write_bytes((dir / "f2.npy"), raw_npy("{'descr': '<f2', 'fortran_order': False, " + shape, f2));
  write_bytes((dir / "f8.npy"), raw_npy("{'descr': '<f8', 'fortran_order': False, " + shape, f8));
  for (const char* name : {"f2.npy", "f8.npy"}) {
    INFO(name);
    const Array<float> a = bnlab::read_npy((dir / name));
    REQUIRE(a.size() == count);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) wrong += a.data()[i] != float(double(i % 2048) - 1024.0);
    CHECK(wrong == 0);
  }
  // A NaN in the third float64 piece is named by its own index.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::memcpy(f8.data() + 8 * 290001, &nan, 8);
  write_bytes((dir / "nan.npy"), raw_npy("{'descr': '<f8', 'fortran_order': False, " + shape, f8));
  REQUIRE_THROWS_WITH(bnlab::read_npy((dir / "nan.npy")), (dir / "nan.npy") + ": NaN at index (290001,)");
}

TEST_CASE("read_npy finds a NaN far into a float32 file at its index") {
  TempDir dir;
  const bnlab::Shape shape = {4, 8, 64, 64};  // 131,072 values: the NaN is in a later block of the check
  Array<float> x = testing::to_array<float>(testing::normals(bnlab::element_count(shape), 3, 0.0, 1.0), shape);
  x(3, 7, 63, 62) = std::numeric_limits<float>::quiet_NaN();
  x(3, 7, 63, 63) = std::numeric_limits<float>::infinity();
  write_bytes((dir / "x.npy"), bnlab::npy_bytes(x));
  REQUIRE_THROWS_WITH(bnlab::read_npy((dir / "x.npy")), (dir / "x.npy") + ": NaN at index (3, 7, 63, 62)");
}

TEST_CASE("read_npy reads a header longer than its first read (4 KiB)") {
  TempDir dir;
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + std::string(5000, ' ');
  write_bytes((dir / "long.npy"), raw_npy(dict, data_bytes<float>({1.5f, -2.0f, 3.25f})));
  const Array<float> a = bnlab::read_npy((dir / "long.npy"));
  REQUIRE(shape_of(a) == bnlab::Shape{3});
  CHECK(a(2) == 3.25f);
  // ... and says how long it should be when the file ends inside it.
  write_bytes((dir / "cut.npy"), raw_npy(dict, "").substr(0, 4500));
  REQUIRE_THROWS_WITH(bnlab::read_npy((dir / "cut.npy")),
                      (dir / "cut.npy") + ": truncated header (it should be 5058 bytes, the file holds 4490)");
}

TEST_CASE("read_npy refuses a FIFO without waiting for a writer") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo.npy").c_str(), 0644) == 0);
  REQUIRE_THROWS_WITH(bnlab::read_npy((dir / "fifo.npy")), Contains("fifo.npy: not a regular file"));
}

TEST_CASE("write_npy writes the same bytes as npy_bytes, header then the array's data, with or without fsync") {
  TempDir dir;
  const bnlab::Shape shape = {3, 5, 17, 19};
  const Array<float> x = testing::to_array<float>(testing::normals(bnlab::element_count(shape), 5, 1.0, 2.0), shape);
  bnlab::write_npy((dir / "a.npy"), x);
  CHECK(read_bytes((dir / "a.npy")) == bnlab::npy_bytes(x));
  CHECK(bnlab::npy_bytes(x).substr(0, bnlab::npy_header(shape).size()) == bnlab::npy_header(shape));
  bnlab::OutputGroup group(bnlab::FileSync::none);
  bnlab::add_npy(group, (dir / "b.npy"), x);
  bnlab::add_feature_map(group, (dir / "c.npy"), x, DataLayout::nhwc);
  CHECK(!fs::exists((dir / "b.npy")));
  group.commit();
  CHECK(read_bytes((dir / "b.npy")) == bnlab::npy_bytes(x));
  CHECK(same_bits(bnlab::read_feature_map((dir / "c.npy"), DataLayout::nhwc), x));
}
