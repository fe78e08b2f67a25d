// The IDX reader: round trip through gzip, the real Fashion-MNIST header when
// Debian's package is installed, and one clear error per kind of bad file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <zlib.h>

#include "bnlab/core/error.hpp"
#include "bnlab/io/idx.hpp"
#include "bnlab/train/dataset.hpp"

namespace fs = std::filesystem;
using namespace bnlab;

namespace {

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / "bnlab-test-idx";
  fs::create_directories(dir);
  return dir / name;
}

void write_raw(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_gz(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.string().c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

IdxArray sample() {
  IdxArray a{{3, 2, 4}, {}};
  for (int i = 0; i < 24; ++i) a.data.push_back(std::uint8_t(i * 10));
  return a;
}

}  // namespace

TEST_CASE("IDX round trip through gzip and plain files") {
  const IdxArray a = sample();
  const fs::path gz = scratch("a.idx.gz");
  write_idx_gz(gz.string(), a);
  IdxArray back = read_idx(gz.string(), 3);
  CHECK(back.shape == a.shape);
  CHECK(back.data == a.data);
  CHECK(!fs::exists(gz.string() + ".tmp"));
  // The header: 0, 0, type 0x08, rank 3, then big-endian extents.
  const std::string bytes = idx_bytes(a);
  CHECK(bytes.substr(0, 8) == std::string("\0\0\x08\x03\0\0\0\x03", 8));
  const fs::path plain = scratch("a.idx");
  write_raw(plain, bytes);
  CHECK(read_idx(plain.string(), 3).data == a.data);
}

TEST_CASE("bad IDX files: one line naming the file and the problem") {
  const std::string good = idx_bytes(sample());
  auto error_of = [](const fs::path& path, std::size_t rank) {
    try {
      read_idx(path.string(), rank, "install the package");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const fs::path missing = scratch("missing.gz");
  fs::remove(missing);
  CHECK(error_of(missing, 3) == missing.string() + ": no such file (install the package)");

  const fs::path truncated = scratch("truncated.gz");
  write_gz(truncated, good.substr(0, good.size() - 5));
  CHECK(error_of(truncated, 3) == truncated.string() + ": truncated file: ends inside the data (24 bytes expected)");

  const fs::path header_cut = scratch("header.gz");
  write_gz(header_cut, good.substr(0, 9));
  CHECK(error_of(header_cut, 3) == header_cut.string() + ": truncated file: ends inside the header (extent 1)");

  const fs::path wrong_rank = scratch("rank.gz");
  write_gz(wrong_rank, good);
  CHECK(error_of(wrong_rank, 1) == wrong_rank.string() + ": expected a rank-1 IDX array, got rank 3");

  const fs::path float_type = scratch("type.gz");
  std::string f = good;
  f[2] = '\x0d';
  write_gz(float_type, f);
  CHECK(error_of(float_type, 3) == float_type.string() + ": unsupported IDX element type 0x0d (expected 0x08, unsigned byte)");

  const fs::path not_idx = scratch("text.gz");
  write_gz(not_idx, "hello world, this is not IDX");
  CHECK(error_of(not_idx, 3) == not_idx.string() + ": not an IDX file (magic number starts with 0x68 0x65, expected 0x00 0x00)");

  const fs::path trailing = scratch("trailing.gz");
  write_gz(trailing, good + "x");
  CHECK(error_of(trailing, 3) == trailing.string() + ": trailing data after the 24 bytes the header announces");

  // A gzip stream whose compressed bytes are damaged.
  const fs::path corrupt = scratch("corrupt.gz");
  write_gz(corrupt, std::string(5000, '\0') + good);
  std::string raw;
  {
    std::ifstream in(corrupt, std::ios::binary);
    raw.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (std::size_t i = 12; i < raw.size() - 8; ++i) raw[i] = char(raw[i] ^ 0x5a);
  write_raw(corrupt, raw);
  const std::string message = error_of(corrupt, 3);
  CHECK(message.rfind(corrupt.string() + ": ", 0) == 0);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message != "no error");
}

TEST_CASE("Fashion-MNIST: a missing directory names the package; the real files load when installed") {
  try {
    train::load_fashion_mnist("/nonexistent-bnlab-dir");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "/nonexistent-bnlab-dir/train-images-idx3-ubyte.gz: no such file (Debian's dataset-fashion-mnist package "
          "provides it: apt-get install dataset-fashion-mnist, or give --data DIR with the four Fashion-MNIST files)");
  }
  const fs::path labels = fs::path(train::kDefaultFashionMnistDir) / "t10k-labels-idx1-ubyte.gz";
  if (!fs::exists(labels)) {
    WARN("dataset-fashion-mnist not installed: skipping the check of the real files");
    return;
  }
  // The label file is small: read it whole and check the known class balance (1000 per class).
  IdxArray test_labels = read_idx(labels.string(), 1);
  REQUIRE(test_labels.shape == std::vector<std::size_t>{10000});
  std::vector<int> per_class(10, 0);
  for (std::uint8_t l : test_labels.data) ++per_class.at(l);
  CHECK(per_class == std::vector<int>(10, 1000));
}
