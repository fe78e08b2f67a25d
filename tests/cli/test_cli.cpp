// The command line as a user meets it: enumerations case-insensitive
// everywhere, lists with spaces, the same --format values in every
// subcommand, unknown names answered with the nearest valid one, every usage
// error one line with exit code 2.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/test_support.hpp"

namespace fs = std::filesystem;

namespace {

using testing::Run;

// Runs `bnlab ARGS` with stdout and stderr captured (not a terminal).
Run run_bnlab(const std::string& args) { return testing::run(std::string(BNLAB_BINARY) + " " + args); }

std::size_t line_count(const std::string& text) {
  std::size_t n = 0;
  for (char ch : text) n += ch == '\n';
  return n;
}

}  // namespace

TEST_CASE("an unknown subcommand is named with the nearest one") {
  Run r = run_bnlab("comapre");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown subcommand 'comapre'; did you mean 'compare'? (bnlab --help lists them)\n");
  r = run_bnlab("zzzzzz");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown subcommand 'zzzzzz' (bnlab --help lists them)\n");
}

TEST_CASE("an unknown option is named with the nearest option of its subcommand") {
  Run r = run_bnlab("compare --formt json");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown option '--formt'; did you mean '--format'? (bnlab compare --help lists them)\n");
  r = run_bnlab("check --golden a.json --report b.json --ignroe /x");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown option '--ignroe'; did you mean '--ignore'? (bnlab check --help lists them)\n");
}

TEST_CASE("every usage error is one line on stderr with exit code 2") {
  for (const char* args : {"", "compare --seed", "compare --eps", "check --golden x.json", "explain --shape"}) {
    INFO("bnlab " << args);
    Run r = run_bnlab(args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.rfind("bnlab: ", 0) == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("enumerations are case-insensitive in every subcommand") {
  Run r = run_bnlab("compare --shape 2,4,4,4 --format TABLE --dist Normal");
  CHECK(r.code == 0);
  CHECK(r.out.rfind("bnlab compare: input", 0) == 0);
  r = run_bnlab("compare --shape 2,4,4,4 --format Json --methods BN,LN");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"schema\": \"bnlab.compare/3\"") != std::string::npos);
  r = run_bnlab("explain --shape 2,4,4,4 --methods 3 --format JSON");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"schema\": \"bnlab.explain/1\"") != std::string::npos);
}

TEST_CASE("explain takes the same --format values as the other subcommands") {
  const Run table = run_bnlab("explain --shape 2,4,4,4 --methods 3 --format table");
  const Run text = run_bnlab("explain --shape 2,4,4,4 --methods 3 --format text");
  CHECK(table.code == 0);
  CHECK(table.out == text.out);
  CHECK(table.out.rfind("bnlab explain:", 0) == 0);
  const Run bad = run_bnlab("explain --format xml");
  CHECK(bad.code == 1);
  CHECK(bad.err == "bnlab: --format: unknown format \"xml\" (valid: json, table)\n");
}

TEST_CASE("a method list may contain spaces") {
  Run r = run_bnlab("compare --shape 2,4,4,4 --format json --methods \"1, 2 , 3\"");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"methods\": [\n      \"1\",\n      \"2\",\n      \"3\"\n    ]") != std::string::npos);
}

namespace {

// A float32 .npy of `shape` ("(1, 4, 4, 8)") holding `count` values i % 7 - 3.
std::string small_npy(const std::string& shape, std::size_t count) {
  std::string data;
  for (std::size_t i = 0; i < count; ++i) {
    const float v = static_cast<float>(i % 7) - 3.0f;
    data.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  return testing::padded_npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", data);
}

// A small, quick training run on generated images.
const std::string kQuickTrain =
    "train --data stand-in --methods 3 --train-images 64 --batch-size 32 --test-images 8 --test-batch-sizes 4,2 "
    "--small-batch 0";

}  // namespace

TEST_CASE("a report or table that cannot reach stdout is an error: exit 1, one line") {
  testing::TempDir dir;
  const std::string synth_out = dir / "x.npy";
  for (const std::string& args : std::vector<std::string>{"compare --shape 2,4,4,4", "compare --shape 2,4,4,4 --format table",
                                  "explain --shape 2,4,4,4", "synth --shape 1,1,2,2 --output " + synth_out,
                                  "check --golden tests/golden/default.json --report tests/golden/default.json",
                                  "bench --shape 2,2,2,2 --repeat 1 --format table", kQuickTrain + " --seeds 0 --quiet"}) {
    INFO(args);
    const Run full = run_bnlab(args + " > /dev/full");
    CHECK(full.code == 1);
    CHECK(full.err == "bnlab: cannot write to standard output: No space left on device\n");
    const Run closed = run_bnlab(args + " >&-");
    CHECK(closed.code == 1);
    CHECK(closed.err == "bnlab: cannot write to standard output: Bad file descriptor\n");
  }
  // With nothing to print (the report goes to --output), a closed stdout is fine.
  const Run quiet = run_bnlab("compare --shape 2,4,4,4 --format json --output " + (dir / "r.json") + " --quiet >&-");
  CHECK(quiet.code == 0);
  CHECK(quiet.err.empty());
}

TEST_CASE("seeds: a comma list or separate words; -1 and 2^64 refused") {
  const Run commas = run_bnlab(kQuickTrain + " --seeds 0,1 --format json");
  INFO(commas.err);
  REQUIRE(commas.code == 0);
  CHECK(commas.out.find("\"seeds\": [\n      0,\n      1\n    ]") != std::string::npos);
  const Run words = run_bnlab(kQuickTrain + " --seeds 0 1 --format json");
  CHECK(words.code == 0);
  CHECK(words.out.find("\"seeds\": [\n      0,\n      1\n    ]") != std::string::npos);
  const Run spaced = run_bnlab(kQuickTrain + " --seeds '0, 1' --format json --quiet");
  CHECK(spaced.code == 0);
  CHECK(spaced.err.empty());
  for (const char* bad : {"-1", "18446744073709551616", "1.5", "0,,1"}) {
    INFO(bad);
    const Run r = run_bnlab(kQuickTrain + " --seeds " + bad);
    CHECK(r.code == 1);
    CHECK(r.err.rfind("bnlab: --seeds: expected an integer in [0, 2^64), got ", 0) == 0);
    CHECK(line_count(r.err) == 1);
  }
}

TEST_CASE("methods: PyTorch's names, a did-you-mean, and gn asks for its G") {
  Run r = run_bnlab("compare --shape 2,4,4,4 --format json --methods BatchNorm2d,LayerNorm,InstanceNorm2d,GroupNorm:2");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"methods\": [\n      \"3\",\n      \"ln\",\n      \"in\",\n      \"gn:2\"\n    ]") != std::string::npos);
  // bnlab --help lists them, from the same table.
  CHECK(run_bnlab("--help").out.find("batchnorm, batchnorm2d = 3; layernorm = ln; instancenorm, instancenorm2d = in; "
                                     "groupnorm:G = gn:G\n") != std::string::npos);
  r = run_bnlab("compare --shape 2,4,4,4 --methods gn");
  CHECK(r.code == 1);
  CHECK(r.err == "bnlab: --methods: method \"gn\" needs its group count G, e.g. gn:4 (gn:G, G dividing the channel count C)\n");
  r = run_bnlab("train --data stand-in --methods batchnrom");
  CHECK(r.code == 1);
  CHECK(r.err == "bnlab: --methods: unknown method \"batchnrom\"; did you mean \"batchnorm\"? (valid: 1, 2, 3, bn, ln, in, gn:G)\n");
}

TEST_CASE("train: --test-batch-sizes and --small-batch set what only a config file could") {
  const Run r = run_bnlab("train --data stand-in --methods 3 --train-images 64 --batch-size 32 --seeds 0 --format json "
                          "--test-images 6 --test-batch-sizes 3,2 --small-batch 0 --quiet");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"test_batch_sizes\": [\n      3,\n      2\n    ]") != std::string::npos);
  CHECK(r.out.find("\"small_batch\": 0,") != std::string::npos);  // the default is 4
  const Run bad = run_bnlab("train --data stand-in --test-images 300");
  CHECK(bad.code == 1);
  CHECK(bad.err == "bnlab: --test-images: 300 is not a multiple of the test batch size 500 (--test-batch-sizes sets them, "
                   "e.g. --test-batch-sizes 100,2)\n");
}

TEST_CASE("--quiet: no progress, notes or 'wrote' lines; errors still") {
  testing::TempDir dir;
  const std::string x = dir.write("x\x1b.npy", small_npy("(2, 4, 4, 8)", 256));  // draws the channels-last note
  Run r = run_bnlab("compare --input '" + x + "' --methods 3 --output " + (dir / "r.json"));
  CHECK(r.code == 0);
  // The note and the path in it are escaped: one line each, no raw ESC.
  CHECK(r.err.find("bnlab: note: " + dir.path.string() + "/x\\x1b.npy: read as NCHW (2, 4, 4, 8)") != std::string::npos);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find("bnlab: wrote ") != std::string::npos);
  r = run_bnlab("compare --input '" + x + "' --methods 3 --output " + (dir / "r.json") + " --quiet");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  r = run_bnlab(kQuickTrain + " --seeds 0 --quiet --output " + (dir / "t.json"));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  r = run_bnlab("normalize --method 3 --input '" + x + "' --out-dir " + (dir / "out") + " --quiet");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  for (const char* sub : {"synth --output x.npy", "check --golden a --report b", "explain", "bench", "render r.json --html r.html"}) {
    INFO(sub);
    CHECK(run_bnlab(std::string(sub) + " --help").out.find("--quiet") != std::string::npos);
  }
  r = run_bnlab("compare --shape 2,4,4,4 --methods gn:3 --quiet");
  CHECK(r.code == 1);
  CHECK(r.err == "bnlab: method gn:3: C=4 is not a multiple of G=3\n");
}

TEST_CASE("normalize and bench: a one-line summary or a table on a terminal, JSON otherwise") {
  testing::TempDir dir;
  const std::string x = dir.write("x.npy", small_npy("(2, 3, 2, 2)", 24));
  Run r = run_bnlab("normalize --method 3 --input " + x + " --out-dir " + (dir / "out"));
  CHECK(r.code == 0);
  CHECK(r.out.rfind("{\n  \"schema\": \"bnlab.normalize/1\"", 0) == 0);
  r = run_bnlab("normalize --method 3 --input " + x + " --out-dir " + (dir / "out") + " --format table");
  CHECK(r.code == 0);
  CHECK(r.out == "bnlab normalize: method 3, train mode, (N,C,H,W)=(2,3,2,2): wrote y.npy, mean.npy, var.npy, "
                 "summary.json in " + (dir / "out") + "\n");
  const std::string tty = std::string("script -qec '") + BNLAB_BINARY + " normalize --method 3 --input " + x + " --out-dir " +
                          (dir / "out") + "' /dev/null";
  r = testing::run(tty);
  CHECK(r.out.find("bnlab normalize: method 3, train mode") != std::string::npos);
  CHECK(r.out.find("\"schema\"") == std::string::npos);
  r = run_bnlab("bench --shape 2,2,2,2 --repeat 1");
  CHECK(r.code == 0);
  CHECK(r.out.rfind("{", 0) == 0);
  CHECK(r.out.find("\"schema\": \"bnlab.bench/1\"") != std::string::npos);
  r = testing::run(std::string("script -qec '") + BNLAB_BINARY + " bench --shape 2,2,2,2 --repeat 1' /dev/null");
  CHECK(r.out.find("\"schema\"") == std::string::npos);
  CHECK(r.out.find("copy") != std::string::npos);
}

TEST_CASE("normalize --help shows the real sync default, not a negated flag's {false}") {
  const Run r = run_bnlab("normalize --help");
  CHECK(r.out.find("{false}") == std::string::npos);
  CHECK(r.out.find("--no-sync") != std::string::npos);
  // Exactly one of the two flags is marked as the default.
  const std::size_t sync = r.out.find("--sync "), no_sync = r.out.find("--no-sync ");
  REQUIRE(sync != std::string::npos);
  REQUIRE(no_sync != std::string::npos);
  const std::size_t marks = r.out.find("[default]");
  REQUIRE(marks != std::string::npos);
  CHECK(r.out.find("[default]", marks + 1) == std::string::npos);
  const Run both = run_bnlab("normalize --method 3 --input x.npy --out-dir out --sync --no-sync");
  CHECK(both.code == 2);
}

TEST_CASE("check: keys and values from the files are escaped in its lines") {
  testing::TempDir dir;
  const std::string golden = dir.write("g.json", "{\"schema\": \"s\", \"a\\u001b[2J\\n\": 1, \"b\": \"x\\u007f\\u0085\"}");
  const std::string report = dir.write("r.json", "{\"schema\": \"s\", \"b\": \"y\"}");
  const Run r = run_bnlab("check --golden " + golden + " --report " + report);
  CHECK(r.code == 1);
  CHECK(r.out.find("/a\\x1b[2J\\n: missing in report\n") != std::string::npos);
  CHECK(r.out.find("/b: golden \"x\\x7f\\xc2\\x85\", report \"y\"") != std::string::npos);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find('\x7f') == std::string::npos);
  CHECK(r.out.find("\xc2\x85") == std::string::npos);
  CHECK(line_count(r.out) == 3);
}

TEST_CASE("compare: a batch of one is said to make batch statistics meaningless") {
  testing::TempDir dir;
  const std::string x = dir.write("x.npy", small_npy("(1, 4, 3, 3)", 36));
  Run r = run_bnlab("compare --input " + x + " --format table");
  CHECK(r.code == 0);
  CHECK(r.err.find("bnlab: note: N = 1: a batch of one sample;") != std::string::npos);
  CHECK(r.out.find("\nNote: N = 1: a batch of one sample;") != std::string::npos);
  r = run_bnlab("compare --input " + x + " --format json");
  CHECK(r.out.find("\"notes\": [\n      \"N = 1: a batch of one sample;") != std::string::npos);
  r = run_bnlab("compare --shape 2,4,3,3 --format table");
  CHECK(r.out.find("N = 1") == std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("cmake --install puts a working bnlab under PREFIX/bin") {
  // The build directory is the one holding the binary under test.
  const fs::path build = fs::path(BNLAB_BINARY).parent_path();
  REQUIRE(fs::exists(build / "CMakeCache.txt"));
  const testing::TempDir prefix("install");
  const Run install = testing::run("cmake --install " + build.string() + " --prefix " + prefix.path.string());
  INFO(install.out);
  REQUIRE(install.code == 0);
  const fs::path installed = prefix.path / "bin" / "bnlab";
  REQUIRE(fs::exists(installed));
  const Run help = testing::run(installed.string() + " --help");
  CHECK(help.code == 0);
  CHECK(help.out.find("compare") != std::string::npos);
}

TEST_CASE("compare: the short table shows marks on a UTF-8 locale, yes/NO otherwise; --explain the long one") {
  const std::string bin = BNLAB_BINARY;
  Run utf8 = testing::run("LC_ALL=C.UTF-8 " + bin + " compare --shape 4,4,4,4 --format table");
  CHECK(utf8.code == 0);
  CHECK(utf8.out.rfind("bnlab compare: input", 0) == 0);
  CHECK(utf8.out.find("\xe2\x9c\x93") != std::string::npos);  // ✓
  CHECK(utf8.out.find("Axes and counts") == std::string::npos);
  Run ascii = testing::run("LC_ALL=C " + bin + " compare --shape 4,4,4,4 --format table");
  CHECK(ascii.code == 0);
  CHECK(ascii.out.find("\xe2\x9c") == std::string::npos);
  CHECK(ascii.out.find(" yes") != std::string::npos);
  // --explain: the long table, even piped (it asks for a table); refused with --format json.
  Run explain = testing::run("LC_ALL=C " + bin + " compare --shape 4,4,4,4 --explain");
  CHECK(explain.code == 0);
  CHECK(explain.out.find("Axes and counts") != std::string::npos);
  CHECK(explain.out.find("channel rescaling <= 1e-4") != std::string::npos);
  CHECK(explain.out.find("Verdict: ") < explain.out.find("Axes and counts"));
  Run both = run_bnlab("compare --shape 4,4,4,4 --explain --format json");
  CHECK(both.code != 0);
  CHECK(both.out.empty());
  CHECK(both.err == "bnlab: --explain: a table option, and the format asked for is json\n");
  // An .npz gives the per-layer table: --explain is refused, not ignored.
  Run archive = run_bnlab("compare --input " + std::string(BNLAB_SOURCE_DIR) +
                          "/tests/fixtures/layers_savez.npz --explain");
  CHECK(archive.code == 1);
  CHECK(archive.out.empty());
  CHECK(archive.err.rfind("bnlab: --explain: the long table is one tensor's; an .npz input gives one row per layer", 0) == 0);
  CHECK(std::count(archive.err.begin(), archive.err.end(), '\n') == 1);
}

TEST_CASE("scripts/setup refuses a bad option or BNLAB_MARCH in one line, before installing or building") {
  testing::TempDir dir("setup");
  const std::string setup = std::string(BNLAB_SOURCE_DIR) + "/scripts/setup";
  const std::string build = dir / "build";
  // Values with a space, a quote and a newline (printf: popen's sh has no
  // $'...'): echoed escaped, on one line.
  Run r = testing::run("BNLAB_MARCH=\"$(printf \"has well'\\nx\")\" BNLAB_BUILD_DIR=" + build + " " + setup +
                       " --app-only");
  CHECK(r.code == 2);
  CHECK(r.err == "[bnlab setup] error: BNLAB_MARCH: expected a -march name like haswell (got $'has well\\'\\nx')\n");
  CHECK(line_count(r.err) == 1);
  CHECK_FALSE(fs::exists(build));
  r = testing::run("BNLAB_BUILD_DIR=" + build + " " + setup + " \"$(printf -- '--app-onyl\\nx')\"");
  CHECK(r.code == 2);
  CHECK(r.err ==
        "[bnlab setup] error: unknown option $'--app-onyl\\nx' (valid: --app-only, --fashion-mnist, --packages-only)\n");
  CHECK(line_count(r.err) == 1);
  CHECK_FALSE(fs::exists(build));
}
