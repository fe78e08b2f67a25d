// `bnlab normalize` end to end: the files it writes, and every bad input
// failing with one message that names the culprit and writes nothing.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bnlab/normalize/normalize_job.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/synth/synth.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace bnlab;

namespace {

using testing::TempDir;

void write_x(const std::string& path, Dims dims, std::uint64_t seed = 1) {
  write_npy(path, synthesize(SynthSpec{dims, Distribution::conv_like, seed}));
}

void write_values(const std::string& path, const std::vector<std::size_t>& shape, double value) {
  Array<float> a = Array<float>::from_shape(shape);
  std::fill(a.begin(), a.end(), float(value));
  write_npy(path, a);
}

NormalizeRequest request_for(const TempDir& dir, const std::string& method) {
  NormalizeRequest r;
  r.method = method;
  r.input = dir / "x.npy";
  r.out_dir = dir / "out";
  return r;
}

std::size_t files_in(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  return std::size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("normalize writes y, statistics, gradients, running statistics and a summary") {
  TempDir dir("normalize-files");
  write_x(dir / "x.npy", {4, 6, 5, 3});
  write_x(dir / "dy.npy", {4, 6, 5, 3}, 2);
  write_values(dir / "rm.npy", {6}, 0.0);
  write_values(dir / "rv.npy", {6}, 1.0);
  NormalizeRequest r = request_for(dir, "bn");
  r.dy = dir / "dy.npy";
  r.running_mean = dir / "rm.npy";
  r.running_var = dir / "rv.npy";
  auto summary = run_normalize(r);
  CHECK(summary["method"] == "3");
  CHECK(summary["stat_shape"] == std::vector<std::size_t>{6});
  for (const char* f : {"y", "mean", "var", "dx", "dgamma", "dbeta", "running_mean", "running_var"}) {
    INFO(f);
    CHECK(fs::exists(dir / "out" + std::string("/") + f + ".npy"));
  }
  CHECK(read_npy(dir / "out/y.npy").shape() == read_npy(dir / "x.npy").shape());
  CHECK(read_npy(dir / "out/mean.npy").size() == 6);
  CHECK(fs::exists(dir / "out/summary.json"));
  // running_mean = 0.9 * 0 + 0.1 * batch mean
  Array<float> mean = read_npy(dir / "out/mean.npy");
  Array<float> running = read_npy(dir / "out/running_mean.npy");
  for (std::size_t c = 0; c < 6; ++c) CHECK(running.data()[c] == Approx(0.1 * mean.data()[c]).epsilon(1e-6));
}

TEST_CASE("normalize reads and writes channels-last (NHWC) files") {
  TempDir dir("normalize-nhwc");
  Array<float> x = synthesize(SynthSpec{{2, 3, 4, 5}, Distribution::normal, 3});  // (N, C, H, W)
  write_feature_map(dir / "x_nhwc.npy", x, DataLayout::nhwc);
  write_npy(dir / "x.npy", x);
  NormalizeRequest nchw = request_for(dir, "3");
  NormalizeRequest nhwc = nchw;
  nhwc.input = dir / "x_nhwc.npy";
  nhwc.layout = "NHWC";
  nhwc.out_dir = dir / "out_nhwc";
  run_normalize(nchw);
  run_normalize(nhwc);
  Array<float> y_nhwc = read_npy(dir / "out_nhwc/y.npy");
  CHECK(std::vector<std::size_t>(y_nhwc.shape().begin(), y_nhwc.shape().end()) == std::vector<std::size_t>{2, 4, 5, 3});
  Array<float> y_back = read_feature_map(dir / "out_nhwc/y.npy", DataLayout::nhwc);
  Array<float> y = read_npy(dir / "out/y.npy");
  CHECK(std::equal(y.begin(), y.end(), y_back.begin()));
}

TEST_CASE("normalize refuses bad requests with one line naming the culprit, and writes nothing") {
  TempDir dir("normalize-errors");
  write_x(dir / "x.npy", {1, 3, 4, 4});
  write_x(dir / "x2.npy", {2, 4, 3, 3});
  write_values(dir / "gamma5.npy", {5}, 1.0);
  write_values(dir / "rm.npy", {3, 4, 4}, 0.0);
  write_values(dir / "rv.npy", {3, 4, 4}, 1.0);
  auto fails_with = [&](NormalizeRequest r, const std::string& needle) {
    INFO("expecting: " << needle);
    REQUIRE_THROWS_WITH(run_normalize(r), Catch::Contains(needle));
    CHECK(files_in(r.out_dir) == 0);
  };
  NormalizeRequest base = request_for(dir, "3");
  SECTION("method 2 with N = 1 in train mode") { auto r = base; r.method = "2"; fails_with(r, "more than one value per statistic"); }
  SECTION("an unknown method") { auto r = base; r.method = "4"; fails_with(r, "unknown method \"4\""); }
  SECTION("gamma of the wrong shape states the expected one") {
    auto r = base; r.input = dir / "x2.npy"; r.gamma = dir / "gamma5.npy";
    fails_with(r, "gamma5.npy: gamma of method 3 (affine natural) must have shape (4,), got (5,)");
  }
  SECTION("running statistics of the wrong shape") {
    auto r = base; r.input = dir / "x2.npy"; r.running_mean = dir / "rm.npy"; r.running_var = dir / "rv.npy";
    fails_with(r, "rm.npy: running mean of method 3");
  }
  SECTION("eval mode without running statistics") { auto r = base; r.mode = "eval"; fails_with(r, "running_mean"); }
  SECTION("only one of the running statistics") { auto r = base; r.running_mean = dir / "rm.npy"; fails_with(r, "come in pairs"); }
  SECTION("eval mode for a method without batch statistics") {
    auto r = base; r.method = "ln"; r.mode = "eval"; r.running_mean = dir / "rm.npy"; r.running_var = dir / "rv.npy";
    fails_with(r, "eval mode applies only to methods 1, 2, 3");
  }
  SECTION("an unknown mode") { auto r = base; r.mode = "test"; fails_with(r, "mode: unknown mode \"test\""); }
  SECTION("errors name the values as the caller names them") {
    auto r = base;
    r.mode = "test";
    r.names.mode = "--mode";
    fails_with(r, "--mode: unknown mode \"test\"");
    r = base;
    r.eps = -1;
    r.names.eps = "the eps key";
    fails_with(r, "the eps key: must be in");
  }
  SECTION("an unknown layout") { auto r = base; r.layout = "CHWN"; fails_with(r, "layout"); }
  SECTION("negative eps") { auto r = base; r.eps = -1; fails_with(r, "eps"); }
  SECTION("momentum above 1") { auto r = base; r.momentum = 2; fails_with(r, "momentum"); }
  SECTION("gamma with affine none") { auto r = base; r.affine = "none"; r.gamma = dir / "gamma5.npy"; fails_with(r, "affine none"); }
  SECTION("a missing input file") { auto r = base; r.input = dir / "missing.npy"; fails_with(r, "missing.npy"); }
  SECTION("dy of another shape") { auto r = base; r.input = dir / "x2.npy"; r.dy = dir / "x.npy"; fails_with(r, "dy"); }
  SECTION("dy in an .npz archive is named as one (--layer chooses x's array, not dy's)") {
    auto r = base;
    r.dy = std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/layers_savez.npz";
    fails_with(r, "layers_savez.npz: this is an .npz archive (numpy.savez) holding 5 arrays");
  }
  SECTION("gn with C not a multiple of G") { auto r = base; r.method = "gn:2"; fails_with(r, "C=3 is not a multiple of G=2"); }
}

TEST_CASE("the bnlab binary prints one error line and exits 1 on bad input") {
  TempDir dir("normalize-cli");
  write_x(dir / "x.npy", {1, 3, 4, 4});
  std::string command = std::string(BNLAB_BINARY) + " normalize --method 2 --input " + (dir / "x.npy") +
                        " --out-dir " + (dir / "out") + " 2>" + (dir / "err.txt");
  int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  std::ifstream err(dir / "err.txt");
  std::string all((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK(std::count(all.begin(), all.end(), '\n') == 1);
  CHECK(all.rfind("bnlab: method 2: train mode needs more than one value per statistic", 0) == 0);
  CHECK(!fs::exists(dir / "out/y.npy"));
}

TEST_CASE("an output refused after y was staged leaves no file and no created directory; --no-sync writes the same") {
  // y is staged (an anonymous file) before the backward; dx overflowing
  // float32 must still leave nothing behind: x with a tiny spread (rstd ~ 1e4)
  // and one dy of 3e38 (the rest 0) give a finite y, dgamma, dbeta and an
  // infinite dx.
  TempDir dir("normalize-late-error");
  Array<float> x = testing::to_array<float>(testing::normals(2 * 3 * 4 * 4, 5, 0.0, 1e-4), {2, 3, 4, 4});
  write_npy(dir / "x.npy", x);
  Array<float> dy = Array<float>::from_shape({2, 3, 4, 4});
  std::fill(dy.begin(), dy.end(), 0.0f);
  dy(1, 2, 3, 0) = 3e38f;
  write_npy(dir / "dy.npy", dy);
  NormalizeRequest r = request_for(dir, "3");
  r.dy = dir / "dy.npy";
  r.out_dir = dir / "new/out";
  REQUIRE_THROWS_WITH(run_normalize(r), Catch::Contains("dx.npy: would hold"));
  CHECK(!fs::exists(dir / "new/out"));

  // The same job with and without fsync writes the same bytes.
  write_x(dir / "x.npy", {2, 3, 4, 4});
  write_x(dir / "dy.npy", {2, 3, 4, 4}, 2);
  r.out_dir = dir / "synced";
  r.sync = true;
  run_normalize(r);
  r.out_dir = dir / "unsynced";
  r.sync = false;
  run_normalize(r);
  for (const char* name : {"y.npy", "mean.npy", "var.npy", "dx.npy", "dgamma.npy", "dbeta.npy", "summary.json"}) {
    INFO(name);
    std::ifstream a(dir / ("synced/" + std::string(name)), std::ios::binary), b(dir / ("unsynced/" + std::string(name)), std::ios::binary);
    const std::string bytes_a((std::istreambuf_iterator<char>(a)), {}), bytes_b((std::istreambuf_iterator<char>(b)), {});
    CHECK(!bytes_a.empty());
    CHECK(bytes_a == bytes_b);
  }
}

TEST_CASE("normalize does not fsync by default, as numpy.save and torch.save; --sync fsyncs every output") {
  CHECK_FALSE(NormalizeRequest{}.sync);
  // Observed from outside: strace counts the fsync calls of a real run.
  if (std::system("strace -V >/dev/null 2>&1") != 0) {
    WARN("strace is not available: the fsync calls of the binary are not counted");
    return;
  }
  TempDir dir("normalize-sync");
  write_x(dir / "x.npy", {2, 3, 4, 4});
  write_x(dir / "dy.npy", {2, 3, 4, 4}, 2);
  auto fsyncs = [&](const std::string& name, const std::string& flags) {
    const std::string trace = dir / (name + ".strace");
    // LeakSanitizer cannot run under ptrace (the sanitizer suite): leaks are
    // not what this run checks, so it is off for the traced binary.
    const std::string command = "ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=fsync,fdatasync,sync_file_range -o " +
                                trace + " " +
                                std::string(BNLAB_BINARY) + " normalize --method 3 --input " + (dir / "x.npy") +
                                " --dy " + (dir / "dy.npy") + " --out-dir " + (dir / name) + flags +
                                " >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    REQUIRE(fs::exists(dir / (name + "/dx.npy")));
    std::ifstream in(trace);
    std::size_t count = 0;
    for (std::string line; std::getline(in, line);) count += line.find("sync") != std::string::npos;
    return count;
  };
  CHECK(fsyncs("default", "") == 0);
  CHECK(fsyncs("no-sync", " --no-sync") == 0);  // kept as an alias of the default
  // --sync: every output (y, mean, var, dx, dgamma, dbeta, summary.json) and the directory.
  CHECK(fsyncs("sync", " --sync") >= 8);
}

TEST_CASE("bnlab normalize --help tells the true default of --sync; --sync and --no-sync together are refused") {
  const testing::Run help = testing::run(std::string(BNLAB_BINARY) + " normalize --help");
  REQUIRE(help.code == 0);
  // The default (no fsync) is marked on --no-sync's line, not on --sync's.
  const std::size_t no_sync = help.out.find("  --no-sync ");
  REQUIRE(no_sync != std::string::npos);
  CHECK(help.out.substr(no_sync, help.out.find('\n', no_sync) - no_sync).find("[default]") != std::string::npos);
  const std::size_t sync = help.out.find("  --sync ");
  REQUIRE(sync != std::string::npos);
  CHECK(help.out.substr(sync, no_sync - sync).find("[default]") == std::string::npos);
  CHECK(help.out.find("--sync,--no-sync{false}") == std::string::npos);
  CHECK(help.out.find("numpy.save and torch.save") != std::string::npos);
  TempDir dir("normalize-sync-both");
  write_x(dir / "x.npy", {2, 3, 4, 4});
  const testing::Run both = testing::run(std::string(BNLAB_BINARY) + " normalize --method 3 --input " +
                                         (dir / "x.npy") + " --out-dir " + (dir / "out") + " --sync --no-sync");
  CHECK(both.code != 0);
  CHECK(std::count(both.err.begin(), both.err.end(), '\n') == 1);
  CHECK(both.err.find("--no-sync") != std::string::npos);
  CHECK(!fs::exists(dir / "out"));
}

TEST_CASE("NormalizeNames::as_options spells every name as bnlab normalize's option") {
  const NormalizeNames n = NormalizeNames::as_options();
  const std::vector<std::string> got = {n.method, n.input, n.layer,    n.affine, n.mode, n.layout,      n.engine,
                                        n.eps,    n.momentum, n.gamma, n.beta,   n.running_mean, n.running_var};
  const std::vector<std::string> expected = {"--method", "--input",    "--layer", "--affine", "--mode",
                                             "--layout", "--engine",   "--eps",   "--momentum", "--gamma",
                                             "--beta",   "--running-mean", "--running-var"};
  CHECK(got == expected);
}

TEST_CASE("mapped inputs (float32 .npy) and read ones (float64 .npy) give the same outputs, in train and eval mode") {
  TempDir dir("normalize-mapped");
  const Dims dims{4, 6, 5, 3};
  const Array<float> x = synthesize(SynthSpec{dims, Distribution::conv_like, 1});  // (N, C, H, W)
  const Array<float> dy = synthesize(SynthSpec{dims, Distribution::normal, 2});    // (N, C, H, W)
  write_npy(dir / "x.npy", x);  // float32: mapped
  write_npy(dir / "dy.npy", dy);
  // The same values as float64 (exact): read and converted, never mapped.
  auto write_f8 = [&](const std::string& name, const Array<float>& a) {
    std::vector<double> values(a.begin(), a.end());
    dir.write(name, testing::padded_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 6, 5, 3), }",
                                        std::string(reinterpret_cast<const char*>(values.data()), values.size() * 8)));
  };
  write_f8("x8.npy", x);
  write_f8("dy8.npy", dy);
  REQUIRE(map_feature_map(dir / "x.npy"));
  REQUIRE(!map_feature_map(dir / "x8.npy"));
  write_values(dir / "rm.npy", {6}, 0.25);
  write_values(dir / "rv.npy", {6}, 2.0);
  for (const std::string mode : {"train", "eval"}) {
    INFO("mode " << mode);
    NormalizeRequest mapped = request_for(dir, "3");
    mapped.mode = mode;
    mapped.dy = dir / "dy.npy";
    mapped.running_mean = dir / "rm.npy";
    mapped.running_var = dir / "rv.npy";
    mapped.out_dir = dir / ("mapped_" + mode);
    NormalizeRequest read = mapped;
    read.input = dir / "x8.npy";
    read.dy = dir / "dy8.npy";
    read.out_dir = dir / ("read_" + mode);
    const auto files = run_normalize(mapped)["files"];
    run_normalize(read);
    for (const auto& file : files) {
      const std::string name = file.get<std::string>();
      if (name == "summary.json") continue;  // names the inputs
      INFO(name);
      const std::string bytes = testing::read_text(mapped.out_dir + "/" + name);
      CHECK(bytes.size() > 128);  // a header and data
      CHECK(bytes == testing::read_text(read.out_dir + "/" + name));
    }
    // Eval mode's y is forward_eval's, bit for bit.
    if (mode == "eval") {
      const MethodPlan plan = make_plan(parse_method("3", "test"), AffineMode::natural, dims);
      const Statistics running{std::vector<double>(6, 0.25), std::vector<double>(6, 2.0)};
      const Array<float> expected = forward_eval(plan, x, identity_params<float>(plan), running, 1e-5);
      const Array<float> y = read_npy(mapped.out_dir + "/y.npy");
      CHECK(std::memcmp(y.data(), expected.data(), y.size() * sizeof(float)) == 0);
    }
  }
}
