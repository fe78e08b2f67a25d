// The checked mechanisms behind bnlab's reliability, one behaviour per case:
// element counts and byte sizes (core/size), the escape of echoed values
// (core/escape, bnlab::Error), strict numbers (core/number), strict JSON text
// (io/json_text), atomic outputs (io/atomic_file) and mapped inputs
// (io/mapped_file, io/npy map_feature_map). The same classes end to
// end, through the real binary, are in test_bad_input.cpp.
#include <cstring>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/check/report_check.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/core/size.hpp"
#include "bnlab/core/split.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/io/atomic_file.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/output_check.hpp"
#include "bnlab/io/json_text.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/report/compare_config.hpp"
#include "support/test_support.hpp"

using testing::padded_npy;

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

using testing::TempDir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const bnlab::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("element counts: exact below the limit, refused above it or on overflow") {
  CHECK(bnlab::checked_element_count({2, 3, 4, 5}, "x") == 120);
  CHECK(bnlab::checked_element_count({}, "x") == 1);
  CHECK(bnlab::checked_element_count({std::size_t{1} << 20, std::size_t{1} << 20}, "x") == bnlab::kMaxElements);
  CHECK(error_of([] { bnlab::checked_element_count({(std::size_t{1} << 40) + 1}, "--shape"); }) ==
        "--shape: shape (1099511627777,) has 1099511627777 elements, more than bnlab's limit of 2^40 (1099511627776)");
  // 2^62 * 4 wraps to 0 in 64 bits: caught as an overflow, not passed as 0.
  CHECK_THAT(error_of([] { bnlab::checked_element_count({std::size_t{1} << 62, 4}, "x.npy"); }),
             Contains("more than 2^64 elements"));
  // A zero extent makes the count 0, but xtensor's strides still multiply the others.
  CHECK_THAT(error_of([] { bnlab::checked_element_count({0, std::size_t{1} << 62, std::size_t{1} << 62}, "x.npy"); }),
             Contains("x.npy: shape (0, 4611686018427387904, 4611686018427387904)"));
  CHECK(bnlab::checked_element_count({0, 7}, "x") == 0);
  CHECK_THAT(error_of([] { bnlab::checked_element_count(bnlab::Shape(33, 1), "x.npy"); }),
             Contains("x.npy: 33 axes, more than the limit of 32"));
  CHECK_THAT(error_of([] { bnlab::checked_byte_size(SIZE_MAX / 2, 4, "x"); }), Contains("overflow a 64-bit size"));
}

TEST_CASE("parse_dims goes through the checked count") {
  CHECK_THAT(error_of([] { bnlab::parse_dims("4294967296,4294967296,1,1", "--shape"); }), Contains("limit of 2^40"));
  CHECK_THAT(error_of([] { bnlab::parse_dims("4611686018427387905,4,1,1", "--shape"); }), Contains("more than 2^64"));
  CHECK(bnlab::parse_dims("1048576,1048576,1,1", "--shape").count() == bnlab::kMaxElements);
}

TEST_CASE("memory: a request beyond the machine's memory names the bytes and the culprit") {
  const std::size_t memory = bnlab::physical_memory_bytes();
  REQUIRE(memory > 0);
  CHECK_NOTHROW(bnlab::require_memory(1024, "--shape", "a tensor"));
  CHECK_THAT(error_of([&] { bnlab::require_memory(memory + 1, "--shape", "a tensor"); }),
             Contains("--shape: needs " + std::to_string(memory + 1) + " bytes (") &&
                 Contains("for a tensor, more than this machine's memory"));
  CHECK(bnlab::human_bytes(912) == "912 bytes");
  CHECK(bnlab::human_bytes(1.5 * 1024 * 1024 * 1024) == "1.5 GiB");
}

TEST_CASE("escaping: every error is one line whatever it echoes") {
  const char controls[] = "a\nb\rc\td\0e\x1b\x7f";
  CHECK(bnlab::escape_control(std::string(controls, sizeof controls - 1)) == "a\\nb\\rc\\td\\0e\\x1b\\x7f");
  CHECK(bnlab::escape_control("é ü 3") == "é ü 3");  // UTF-8 is kept
  CHECK(bnlab::quoted("3\nX") == "\"3\\nX\"");
  CHECK(bnlab::quoted(std::string(100, 'a'), 5) == "\"aaaaa\"...");
  const char message[] = "x.npy: dtype '<f4\n\0zz'";
  const bnlab::Error error(std::string(message, sizeof message - 1));
  CHECK(std::string(error.what()) == "x.npy: dtype '<f4\\n\\0zz'");
}

TEST_CASE("escaping: C1 controls and bytes of no valid UTF-8 sequence are escaped too, valid UTF-8 kept") {
  // C1 (U+0080..U+009F as C2 80..C2 9F): C2 9B is CSI, a terminal escape.
  CHECK(bnlab::escape_control("a\xc2\x9b" "31mb\xc2\x85" "c") == "a\\xc2\\x9b31mb\\xc2\\x85c");
  CHECK(bnlab::escape_control("\xc2\xa0\xc3\xa9\xe2\x80\x94\xf0\x9f\x98\x80") == "\xc2\xa0\xc3\xa9\xe2\x80\x94\xf0\x9f\x98\x80");
  // A stray continuation byte, a raw C1 byte, a truncated sequence, an
  // overlong '/', a surrogate, above U+10FFFF, 0xff.
  CHECK(bnlab::escape_control("\x80") == "\\x80");
  CHECK(bnlab::escape_control("x\x9b" "y") == "x\\x9by");
  CHECK(bnlab::escape_control("\xe2\x80") == "\\xe2\\x80");
  CHECK(bnlab::escape_control("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(bnlab::escape_control("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(bnlab::escape_control("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(bnlab::escape_control("a\xff" "b") == "a\\xffb");
  // Escaped text is printable ASCII plus valid UTF-8: escaping again keeps it.
  const std::string once = bnlab::escape_control("\x1b[2J\n\xc2\x9b\xff\x7f");
  CHECK(bnlab::escape_control(once) == once);
  // An error, whatever it quotes, is one line of valid UTF-8.
  CHECK(std::string(bnlab::Error("x.npz: member 'a\xc2\x85" "b\xfe'").what()) == "x.npz: member 'a\\xc2\\x85b\\xfe'");
  // quoted() cuts at a character boundary: never half of "é".
  CHECK(bnlab::quoted("ab\xc3\xa9" "cd", 3) == "\"ab\"...");
  CHECK(bnlab::quoted("ab\xc3\xa9" "cd", 4) == "\"ab\xc3\xa9\"...");
}

TEST_CASE("notes are escaped, and held notes are sent on release or dropped") {
  std::vector<std::string> seen;
  const bnlab::NoteSink previous = bnlab::set_note_sink([&](const std::string& text) { seen.push_back(text); });
  bnlab::note("a\nb\xc2\x9b");
  CHECK(seen == std::vector<std::string>{"a\\nb\\xc2\\x9b"});
  {
    bnlab::HeldNotes held;
    bnlab::note("first");
    CHECK(seen.size() == 1);
    held.release();
  }
  CHECK(seen.back() == "first");
  {
    bnlab::HeldNotes held;
    bnlab::note("dropped");
  }  // an error ended the run: the note never appears
  bnlab::note("after");
  CHECK(seen == std::vector<std::string>{"a\\nb\\xc2\\x9b", "first", "after"});
  bnlab::set_note_sink(previous);
}

TEST_CASE("comma lists: fields trimmed of spaces") {
  CHECK(bnlab::split_commas_trimmed("0, 1 ,2") == std::vector<std::string>{"0", "1", "2"});
  CHECK(bnlab::split_commas_trimmed("5") == std::vector<std::string>{"5"});
  CHECK(bnlab::split_commas_trimmed("1,,2") == std::vector<std::string>{"1", "", "2"});
}

TEST_CASE("methods: PyTorch's names are accepted, a typo gets the nearest name, gn asks for G") {
  for (const auto& [text, id] : std::vector<std::pair<std::string, std::string>>{
           {"bn", "3"}, {"batchnorm", "3"}, {"BatchNorm2d", "3"}, {"layernorm", "ln"}, {"LayerNorm", "ln"},
           {"instancenorm", "in"}, {"InstanceNorm2d", "in"}, {"groupnorm:8", "gn:8"}, {"GroupNorm:8", "gn:8"},
           {" gn:4 ", "gn:4"}}) {
    INFO(text);
    CHECK(bnlab::parse_method(text, "--methods").id == id);
  }
  CHECK(bnlab::parse_method_list("BatchNorm2d,LayerNorm,gn:2", "--methods").size() == 3);
  CHECK(error_of([] { bnlab::parse_method("gn", "--methods"); }) ==
        "--methods: method \"gn\" needs its group count G, e.g. gn:4 (gn:G, G dividing the channel count C)");
  CHECK(error_of([] { bnlab::parse_method("GroupNorm", "--methods"); }) ==
        "--methods: method \"GroupNorm\" needs its group count G, e.g. gn:4 (gn:G, G dividing the channel count C)");
  CHECK(error_of([] { bnlab::parse_method("batchnrom", "--methods"); }) ==
        "--methods: unknown method \"batchnrom\"; did you mean \"batchnorm\"? (valid: " + bnlab::valid_method_names() + ")");
  CHECK(error_of([] { bnlab::parse_method("layrnorm", "--methods"); }) ==
        "--methods: unknown method \"layrnorm\"; did you mean \"layernorm\"? (valid: " + bnlab::valid_method_names() + ")");
  CHECK(error_of([] { bnlab::parse_method("4", "--methods"); }) ==
        "--methods: unknown method \"4\" (valid: " + bnlab::valid_method_names() + ")");
  CHECK(error_of([] { bnlab::parse_method("gn8", "--methods"); }) ==
        "--methods: unknown method \"gn8\"; did you mean \"gn:8\"? (valid: " + bnlab::valid_method_names() + ")");
  CHECK(error_of([] { bnlab::parse_method("grupnorm:4", "--methods"); }) ==
        "--methods: unknown method \"grupnorm:4\"; did you mean \"groupnorm:4\"? (valid: " + bnlab::valid_method_names() + ")");
  CHECK(error_of([] { bnlab::parse_method("zzzzzzzz", "--methods"); }) ==
        "--methods: unknown method \"zzzzzzzz\" (valid: " + bnlab::valid_method_names() + ")");
  // The valid list is the ids and aliases only: PyTorch's spellings are accepted, not listed.
  CHECK(bnlab::valid_method_names() == "1, 2, 3, bn, ln, in, gn:G");
  CHECK_THAT(error_of([] { bnlab::parse_method_list("bn,BatchNorm2d", "--methods"); }), Contains("is listed twice"));
}

TEST_CASE("seeds: integers in [0, 2^64) only") {
  CHECK(bnlab::parse_seed("0", "--seed") == 0);
  CHECK(bnlab::parse_seed("18446744073709551615", "--seed") == UINT64_MAX);
  for (const char* bad : {"-1", "18446744073709551616", "1.5", "", " 1", "+1", "1e3", "0x10"}) {
    INFO(bad);
    CHECK(error_of([&] { bnlab::parse_seed(bad, "--seed"); }) ==
          "--seed: expected an integer in [0, 2^64), got " + bnlab::quoted(bad));
  }
}

TEST_CASE("numbers: no silent underflow, overflow, nan or inf; one range per option") {
  CHECK(bnlab::parse_number("1e-5", "--eps") == 1e-5);
  CHECK(bnlab::parse_number("0", "--eps") == 0.0);
  CHECK(bnlab::parse_number("0e-999", "--eps") == 0.0);  // an exact zero is not an underflow
  CHECK(error_of([] { bnlab::parse_number("1e-400", "--eps"); }) ==
        "--eps: \"1e-400\" is not representable as a double (underflows)");
  CHECK_THAT(error_of([] { bnlab::parse_number("1e400", "--eps"); }), Contains("(overflows)"));
  for (const char* bad : {"nan", "inf", "-inf", "0x1p-3", "1,5", "", "1e-5x"}) {
    INFO(bad);
    CHECK_THAT(error_of([&] { bnlab::parse_number(bad, "--eps"); }), Contains("--eps: expected a number, got"));
  }
  CHECK(error_of([] { bnlab::parse_number_in("2", bnlab::kEpsRange, "--eps"); }) == "--eps: must be in [0, 1] (got 2)");
  CHECK(bnlab::number_text(1e-5) == "1e-05");
  CHECK(bnlab::number_text(2) == "2.0");
}

TEST_CASE("numbers as text: the named formats of core/number.hpp") {
  CHECK(bnlab::fixed(0.87654, 3) == "0.877");
  CHECK(bnlab::fixed(1149.4, 0) == "1149");
  CHECK(bnlab::fixed(-0.04, 1) == "-0.0");  // rounding keeps the sign: svg's coord clamps before
  CHECK(bnlab::fixed(1e300, 0).size() == 301);  // no truncation however large
  CHECK(bnlab::significant(0.000123456, 3) == "0.000123");
  CHECK(bnlab::significant(1234567, 3) == "1.23e+06");
  CHECK(bnlab::significant(0.1, 6) == "0.1");
  CHECK(bnlab::scientific(1e-5, 1) == "1.0e-05");
  CHECK(bnlab::scientific(1e-4, 0) == "1e-04");
  CHECK(bnlab::compact_number(0) == "0");
  CHECK(bnlab::compact_number(std::nan("")) == "-");
  CHECK(bnlab::compact_number(-INFINITY) == "-");
  CHECK(bnlab::compact_number(2.2449) == "2.24");
  CHECK(bnlab::compact_number(0.01) == "0.01");
  CHECK(bnlab::compact_number(0.0099) == "9.9e-03");
  CHECK(bnlab::compact_number(99999) == "1e+05");  // three digits, still below the switch
  CHECK(bnlab::compact_number(1e5) == "1.0e+05");
  CHECK(bnlab::truncated(0.87656, 6) == "0.8765");
  CHECK(bnlab::truncated(12.5, 5) == "12.50");
}

TEST_CASE("JSON text: NUL bytes, repeated keys at any depth, underflow and deep nesting are refused") {
  CHECK_NOTHROW(bnlab::check_json_text(R"({"a": [1, {"b": 2e-300}], "c": "\u0000"})", "f.json"));
  CHECK(error_of([] { bnlab::check_json_text(std::string("{\"seed\": 1}\0{\"eps\": 5}", 23), "f.json"); }) ==
        "f.json: byte 11 is a NUL byte (JSON text cannot contain one)");
  CHECK(error_of([] { bnlab::check_json_text(R"({"a": [0, {"b": 1, "b": 2}]})", "f.json"); }) == "f.json: /a/1/b: duplicate key");
  CHECK(error_of([] { bnlab::check_json_text(R"({"x": {"eps": 1e-400}})", "f.json"); }) ==
        "f.json: /x/eps: \"1e-400\" is not representable as a double (underflows)");
  CHECK_THAT(error_of([] { bnlab::check_json_text(R"({"eps": 1e400})", "f.json"); }), Contains("f.json: "));
  const std::string ok(bnlab::kMaxJsonDepth, '[');
  CHECK_NOTHROW(bnlab::check_json_text(ok + std::string(bnlab::kMaxJsonDepth, ']'), "f.json"));
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  CHECK_THAT(error_of([&] { bnlab::check_json_text(deep, "f.json"); }),
             Contains("f.json: /0/0/0") && Contains("nested deeper than 64 levels"));
  CHECK_THAT(error_of([] { bnlab::check_json_text("{\"a\": }", "f.json"); }), Contains("f.json: invalid JSON: parse error"));
}

TEST_CASE("config files and reports go through the strict reader") {
  CHECK(error_of([] { bnlab::parse_compare_config(R"({"eps": 1e-400})", "c.json"); }) ==
        "c.json: /eps: \"1e-400\" is not representable as a double (underflows)");
  CHECK_THAT(error_of([] { bnlab::parse_compare_config("{\"description\": " + std::string(5000, '[') + std::string(5000, ']') + "}", "c.json"); }),
             Contains("c.json: /description/0/0"));
  CHECK_THAT(error_of([] { bnlab::parse_report_text(std::string(20000, '[') + std::string(20000, ']'), "g.json"); }),
             Contains("nested deeper than 64 levels"));
}

TEST_CASE("npy reader: shapes checked before xtensor, zero-size data read safely") {
  CHECK_THAT(error_of([&] {
               bnlab::parse_npy(padded_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4611686018427387904), }", ""), "x.npy");
             }),
             Contains("x.npy: shape (0, 4611686018427387904"));
  for (bool fortran : {false, true}) {
    const std::string header = std::string("{'descr': '<f4', 'fortran_order': ") + (fortran ? "True" : "False") + ", 'shape': (0, 3), }";
    bnlab::Array<float> empty = bnlab::parse_npy(padded_npy(header, ""), "x.npy");
    CHECK(empty.size() == 0);
    CHECK(empty.shape()[1] == 3);
  }
}

TEST_CASE("atomic output: replaced in one step, permissions kept, no temporary left") {
  TempDir dir;
  bnlab::write_file_atomically(dir / "a.txt", "first");
  ::chmod((dir / "a.txt").c_str(), 0640);
  bnlab::write_file_atomically(dir / "a.txt", "second");
  CHECK(read_bytes(dir / "a.txt") == "second");
  struct stat status {};
  REQUIRE(::stat((dir / "a.txt").c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0640);
  CHECK(dir.entries() == 1);
}

TEST_CASE("atomic output: read-only files, non-regular files and dangling links are refused") {
  TempDir dir;
  bnlab::write_file_atomically(dir / "ro.txt", "keep");
  ::chmod((dir / "ro.txt").c_str(), 0444);
  CHECK(error_of([&] { bnlab::write_file_atomically(dir / "ro.txt", "new"); }) ==
        dir / "ro.txt" + ": is read-only; bnlab does not replace a file without write permission");
  CHECK(read_bytes(dir / "ro.txt") == "keep");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  CHECK_THAT(error_of([&] { bnlab::write_file_atomically(dir / "fifo", "x"); }), Contains("is not a regular file"));
  fs::create_symlink("missing/target", dir.path / "dangling");
  CHECK_THAT(error_of([&] { bnlab::write_file_atomically(dir / "dangling", "x"); }), Contains("is a dangling symbolic link"));
  CHECK(dir.entries() == 3);
}

TEST_CASE("atomic output: a symbolic link is written through") {
  TempDir dir;
  bnlab::write_file_atomically(dir / "target.txt", "old");
  fs::create_symlink("target.txt", dir.path / "link.txt");
  bnlab::write_file_atomically(dir / "link.txt", "new");
  CHECK(fs::is_symlink(dir.path / "link.txt"));
  CHECK(read_bytes(dir / "target.txt") == "new");
  CHECK(dir.entries() == 2);
}

TEST_CASE("outputs checked before any work: each reason named, one line") {
  TempDir dir;
  using bnlab::check_outputs;
  const auto refused = [](const std::vector<bnlab::NamedPath>& outputs, const std::vector<bnlab::NamedPath>& inputs = {}) {
    return error_of([&] { check_outputs(outputs, inputs); });
  };
  const std::string fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  fs::create_symlink("loop-b", dir.path / "loop-a");
  fs::create_symlink("loop-a", dir.path / "loop-b");
  fs::create_symlink("missing/target", dir.path / "dangling");
  const std::string input = dir.write("x.npy", "x");
  fs::create_symlink("x.npy", dir.path / "x-link.npy");

  CHECK(refused({{"--html", ""}}) == "--html: expected a path, got \"\"");
  CHECK(refused({{"--output", "/dev/full"}}) ==
        "--output: cannot write \"/dev/full\": is not a regular file (a character device); bnlab writes only regular files");
  CHECK(refused({{"--output", fifo}}) == "--output: cannot write " + bnlab::quoted(fifo) +
                                             ": is not a regular file (a FIFO); bnlab writes only regular files");
  CHECK(refused({{"--output", dir / "loop-a"}}) ==
        "--output: cannot write " + bnlab::quoted(dir / "loop-a") +
            ": is a symbolic link loop (bnlab writes through a link to its target)");
  CHECK_THAT(refused({{"--output", dir / "dangling"}}), Contains("is a dangling symbolic link"));
  CHECK_THAT(refused({{"--output", dir / std::string(300, 'a')}}),
             Contains("is 300 bytes, more than the 255 its file system allows"));
  CHECK_THAT(refused({{"--output", dir / "no/r.json"}}), Contains("does not exist"));
  CHECK_THAT(refused({{"--output", input + "/r.json"}}), Contains("is not a directory"));
  // The same file as an input: by inode (also through a link), or by path
  // when neither exists yet.
  CHECK(refused({{"--output", input}}, {{"--input", input}}) ==
        "--output: cannot write " + bnlab::quoted(input) + ": is the same file as --input " + bnlab::quoted(input) +
            "; bnlab does not write over its input");
  CHECK_THAT(refused({{"--output", dir / "x-link.npy"}}, {{"--config", input}}), Contains("is the same file as --config"));
  CHECK_THAT(refused({{"--output", dir / "r.json"}, {"--html", dir / "./r.json"}}),
             Contains(": is the same file as --output " + bnlab::quoted(dir / "r.json") + "; each output needs a file of its own"));
  // Fine: distinct new files, an existing regular file, no input among them.
  check_outputs({{"--output", dir / "r.json"}, {"--html", dir / "r.html"}, {"--other", input + ".new"}}, {{"--input", input}});
  check_outputs({{"--output", input}});
  CHECK(read_bytes(input) == "x");
  CHECK(dir.entries() == 6);  // nothing created by the checks
}

TEST_CASE("an output directory is checked before any work: created or not, and its files are not the inputs") {
  TempDir dir;
  const std::vector<std::string> names{"y.npy", "summary.json"};
  const std::string x = dir.write("out/y.npy", "x");
  CHECK_THAT(error_of([&] { bnlab::check_output_directory({"--out-dir", dir / "out"}, names, {{"--input", x}}); }),
             Contains("is the same file as --input"));
  fs::create_directory(dir.path / "out" / "summary.json");
  CHECK_THAT(error_of([&] { bnlab::check_output_directory({"--out-dir", dir / "out"}, names, {}); }),
             Contains("summary.json\": is not a regular file (a directory)"));
  CHECK_THAT(error_of([&] { bnlab::check_output_directory({"--out-dir", x}, names, {}); }), Contains("is not a directory"));
  CHECK(error_of([&] { bnlab::check_output_directory({"--out-dir", ""}, names, {}); }) ==
        "--out-dir: expected a directory, got \"\"");
  bnlab::check_output_directory({"--out-dir", dir / "new/deeper"}, names, {{"--input", x}});  // created later
  CHECK(!fs::exists(dir.path / "new"));
}

TEST_CASE("output group: all or nothing") {
  TempDir dir;
  fs::create_directory(dir.path / "summary.json");  // the last output cannot be written
  {
    bnlab::OutputGroup group;
    group.add(dir / "y.npy", "y");
    group.add(dir / "mean.npy", "mean");
    CHECK_THAT(error_of([&] { group.add(dir / "summary.json", "{}"); }), Contains("is not a regular file"));
  }  // the group is dropped uncommitted
  CHECK(dir.entries() == 1);  // only the directory: no y.npy, no mean.npy, no temporary
  fs::remove(dir.path / "summary.json");
  bnlab::OutputGroup group;
  group.add(dir / "y.npy", "y");
  group.add(dir / "summary.json", "{}");
  CHECK(dir.entries() == 0);  // nothing visible before commit
  group.commit();
  CHECK(read_bytes(dir / "y.npy") == "y");
  CHECK(read_bytes(dir / "summary.json") == "{}");
  CHECK(dir.entries() == 2);
}

TEST_CASE("output group: a file filled in place holds the header and the data, or nothing") {
  TempDir dir;
  const std::string data = "0123456789abcdef";
  {
    bnlab::OutputGroup group;
    group.add_filled(dir / "filled.bin", "HEAD", data.size(), [&](char* out) { std::memcpy(out, data.data(), data.size()); });
    group.add(dir / "written.bin", {std::string_view("HEAD"), std::string_view(data)});
    CHECK(dir.entries() == 0);  // nothing visible before commit
    group.commit();
  }
  CHECK(read_bytes(dir / "filled.bin") == "HEAD" + data);
  CHECK(read_bytes(dir / "filled.bin") == read_bytes(dir / "written.bin"));
  // A fill that throws discards its file; the group then commits nothing of it.
  {
    bnlab::OutputGroup group;
    CHECK(error_of([&] {
            group.add_filled(dir / "thrown.bin", "HEAD", 1 << 20, [](char*) { throw bnlab::Error("fill failed"); });
          }) == "fill failed");
    group.commit();
  }
  CHECK(!fs::exists(dir.path / "thrown.bin"));
  CHECK(dir.entries() == 2);  // no temporary left
  // Replacing a file keeps its permissions, as add() does.
  ::chmod((dir / "filled.bin").c_str(), 0640);
  bnlab::OutputGroup again;
  again.add_filled(dir / "filled.bin", "", 3, [](char* out) { std::memcpy(out, "new", 3); });
  again.commit();
  CHECK(read_bytes(dir / "filled.bin") == "new");
  struct stat status {};
  REQUIRE(::stat((dir / "filled.bin").c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0640);
}

namespace {

// A float32 (N, C, H, W) .npy of `count` values 0, 1, 2, ... (as numpy.save writes it).
std::string float32_npy(const std::string& shape, std::size_t count) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = float(i % 1000);
  return padded_npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }",
                    std::string(reinterpret_cast<const char*>(values.data()), count * sizeof(float)));
}

}  // namespace

TEST_CASE("mapped input: the values read_feature_map reads, its errors, and read_npy's work left to it") {
  TempDir dir;
  dir.write("x.npy", float32_npy("(2, 3, 4, 5)", 120));
  const auto mapped = bnlab::map_feature_map(dir / "x.npy");
  REQUIRE(mapped);
  const bnlab::Array<float> read = bnlab::read_feature_map(dir / "x.npy", bnlab::DataLayout::nchw);
  CHECK(mapped->shape == bnlab::shape_of(read));
  CHECK(std::memcmp(mapped->data, read.data(), 120 * sizeof(float)) == 0);

  // The read path's errors, word for word.
  std::string bad = float32_npy("(2, 3, 4, 5)", 120);
  bad.resize(bad.size() - 4);
  dir.write("short.npy", bad);
  const std::string short_error = error_of([&] { bnlab::read_feature_map(dir / "short.npy", bnlab::DataLayout::nchw); });
  CHECK_THAT(short_error, Contains("expected 480 bytes of data, got 476"));
  CHECK(error_of([&] { bnlab::map_feature_map(dir / "short.npy"); }) == short_error);
  std::string nan = float32_npy("(2, 3, 4, 5)", 120);
  const float not_a_number = std::nanf("");
  std::memcpy(nan.data() + nan.size() - 8, &not_a_number, sizeof(float));
  dir.write("nan.npy", nan);
  const std::string nan_error = error_of([&] { bnlab::read_feature_map(dir / "nan.npy", bnlab::DataLayout::nchw); });
  CHECK_THAT(nan_error, Contains("nan"));
  CHECK(error_of([&] { bnlab::map_feature_map(dir / "nan.npy"); }) == nan_error);
  dir.write("flat.npy", float32_npy("(120,)", 120));
  const std::string rank_error = error_of([&] { bnlab::read_feature_map(dir / "flat.npy", bnlab::DataLayout::nchw); });
  CHECK(rank_error != "(no error)");
  CHECK(error_of([&] { bnlab::map_feature_map(dir / "flat.npy"); }) == rank_error);

  // float64 and Fortran order are read_npy's to convert: not mapped.
  std::vector<double> doubles(120, 1.5);
  dir.write("f8.npy", padded_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4, 5), }",
                                         std::string(reinterpret_cast<const char*>(doubles.data()), 960)));
  CHECK(!bnlab::map_feature_map(dir / "f8.npy"));
  std::string fortran = float32_npy("(2, 3, 4, 5)", 120);
  fortran.replace(fortran.find("False"), 5, "True ");
  dir.write("fortran.npy", fortran);
  CHECK(!bnlab::map_feature_map(dir / "fortran.npy"));
}

TEST_CASE("mapped input: a file that shrinks while mapped ends the run with one line, exit 1 and no leftovers") {
  TempDir dir;
  const std::size_t count = 4 * 8 * 32 * 32;  // 128 KiB of data: many pages
  dir.write("x.npy", float32_npy("(4, 8, 32, 32)", count));
  const std::string err_path = dir / "stderr.txt";
  const std::string created = dir / "out";  // an output directory bnlab created: removed when empty
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err < 0 || ::dup2(err, 2) < 0) ::_exit(126);
    ::mkdir(created.c_str(), 0755);
    bnlab::DirectoryRemovedOnSignal on_signal(created);
    std::optional<bnlab::MappedFeatureMap> mapped;
    try {
      mapped = bnlab::map_feature_map(dir / "x.npy");
    } catch (...) {
      ::_exit(125);
    }
    if (!mapped || ::truncate((dir / "x.npy").c_str(), 128) != 0) ::_exit(124);
    volatile float sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum = sum + mapped->data[i];  // SIGBUS past the new end
    ::_exit(123);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(read_bytes(err_path) ==
        "bnlab: " + (dir / "x.npy") + ": cannot read: the file became shorter while bnlab read it\n");
  CHECK(!fs::exists(created));

  // A SIGBUS that is no mapped input's fault (here one sent with raise)
  // goes where it went before the mapping: not swallowed, not reported as a
  // mapped input's; the process dies of it (under ASan, ASan's handler,
  // which was there first, reports it and exits).
  dir.write("y.npy", float32_npy("(4, 8, 32, 32)", count));
  const pid_t sender = ::fork();
  REQUIRE(sender >= 0);
  if (sender == 0) {
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err < 0 || ::dup2(err, 2) < 0) ::_exit(126);
    std::optional<bnlab::MappedFeatureMap> mapped;
    try {
      mapped = bnlab::map_feature_map(dir / "y.npy");
    } catch (...) {
      ::_exit(125);
    }
    if (!mapped) ::_exit(124);
    ::raise(SIGBUS);
    ::_exit(0);
  }
  REQUIRE(::waitpid(sender, &status, 0) == sender);
  CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(read_bytes(err_path).find("cannot read") == std::string::npos);
#if !defined(__SANITIZE_ADDRESS__)
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS));
#endif
}
