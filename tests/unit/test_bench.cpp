// bnlab bench: the report's structure on a tiny shape, the traffic accounting
// arithmetic, the table plan, the CLI. No timing is asserted (shared, noisy
// machines): only that times are measured and the figures derive from them.
// (The kernels themselves are tested in test_kernels.cpp.)
#include <catch2/catch.hpp>

#include <malloc.h>
#include <omp.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <cstdint>

#include "bnlab/bench/bench.hpp"
#include "bnlab/bench/reference_loop.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/core/memory_policy.hpp"
#include "support/test_support.hpp"

using namespace bnlab;

namespace {

using testing::Run;

// Runs a shell command, returns its exit code and stdout.
using testing::run;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A result with round numbers: 1e6 elements, copy 10 GB/s.
BenchResult made_up_result() {
  BenchResult r;
  r.dims = Dims{1, 1, 1000, 1000};
  r.threads = 2;
  r.repeat = 3;
  r.copy_gbps = 10;
  r.memcpy_gbps = 20;
  r.peak_rss_mb = 12.4;
  r.cpu = "Some CPU";
  r.cpu_isa = "AVX-512";
  r.kernels_isa = "AVX2 + FMA";
  BenchMethod m3;
  m3.id = "3";
  m3.title = "Method 3";
  m3[BenchKind::forward] = {true, 1.0, 0, 0, 2.0};  // the reference loop: 2 ms
  m3[BenchKind::forward_backward] = {true, 4.0, 0, 0, 4.0};
  m3[BenchKind::eval_forward] = {true, 0.5, 0, 0, 0.25};
  BenchMethod ln;
  ln.id = "ln";
  ln.title = "LayerNorm";
  ln[BenchKind::forward] = {true, 2.0, 0, 0, 1.0};
  ln[BenchKind::forward_backward] = {true, 8.0, 0, 0, 8.0};
  r.methods = {m3, ln};
  account_traffic(r);
  return r;
}

}  // namespace

TEST_CASE("traffic is counted as the minimum bytes a pass must move") {
  CHECK(traffic_bytes_per_element(BenchKind::forward) == 8);            // read x, write y
  CHECK(traffic_bytes_per_element(BenchKind::forward_backward) == 20);  // + read x, read dy, write dx
  CHECK(traffic_bytes_per_element(BenchKind::eval_forward) == 8);
  // 1e6 elements in 1 ms: 8e6 bytes / 1e-3 s = 8 GB/s.
  CHECK(effective_gbps(BenchKind::forward, 1000000, 1.0) == Approx(8.0).epsilon(1e-12));
  CHECK(effective_gbps(BenchKind::forward_backward, 1000000, 4.0) == Approx(5.0).epsilon(1e-12));

  BenchResult r = made_up_result();
  const BenchMethod& m3 = r.methods[0];
  CHECK(m3[BenchKind::forward].gbps == Approx(8.0));
  CHECK(m3[BenchKind::forward].fraction == Approx(0.8));
  CHECK(m3[BenchKind::forward_backward].gbps == Approx(5.0));
  CHECK(m3[BenchKind::forward_backward].fraction == Approx(0.5));
  CHECK(m3[BenchKind::eval_forward].fraction == Approx(1.6));
  // kernel time / reference loop time
  CHECK(m3[BenchKind::forward].vs_reference == Approx(0.5));
  CHECK(m3[BenchKind::forward_backward].vs_reference == Approx(1.0));
  CHECK(m3[BenchKind::eval_forward].vs_reference == Approx(2.0));
  CHECK(r.methods[1][BenchKind::forward].vs_reference == Approx(2.0));
  CHECK_FALSE(r.methods[1][BenchKind::eval_forward].measured);
  CHECK(r.methods[1][BenchKind::eval_forward].gbps == 0);
}

TEST_CASE("the median of a sample") {
  CHECK(median({3, 1, 2}) == 2);
  CHECK(median({4, 1, 3, 2}) == 2.5);
  CHECK(median({7}) == 7);
  CHECK_THROWS_AS(median({}), Error);
}

TEST_CASE("the table aligns its columns and shows every kind, '-' where eval mode does not apply") {
  std::string table = bench_to_table(made_up_result());
  INFO(table);
  std::vector<std::string> lines = lines_of(table);
  REQUIRE(lines.size() == 4 + 1 + 6);
  CHECK(lines[0] == "shape (1, 1, 1000, 1000) float32 (4.0 MB), 2 threads, median of 3");
  CHECK(lines[1] == "cpu Some CPU (AVX-512), kernels built for AVX2 + FMA");
  CHECK(lines[2] == "copy bandwidth 10.00 GB/s (loop; memcpy 20.00 GB/s), peak RSS 12 MB");
  CHECK(lines[3].empty());
  CHECK(lines[4] == "method  kind                ms   GB/s  of copy  ns/element  reference ms  vs reference");
  CHECK(lines[5] == "3       forward           1.00   8.00      80%       1.000          2.00         0.50x");
  CHECK(lines[6] == "3       forward_backward  4.00   5.00      50%       4.000          4.00         1.00x");
  CHECK(lines[7] == "3       eval_forward      0.50  16.00     160%       0.500          0.25         2.00x");
  CHECK(lines[8] == "ln      forward           2.00   4.00      40%       2.000          1.00         2.00x");
  CHECK(lines[10] == "ln      eval_forward         -      -        -           -             -             -");
  for (std::size_t i = 4; i < lines.size(); ++i) CHECK(lines[i].size() == lines[4].size());  // right-aligned numbers
}

TEST_CASE("run_bench reports every key of bnlab.bench/1 on a tiny shape") {
  BenchRequest request;
  request.dims = Dims{2, 4, 3, 5};
  request.methods = parse_method_list("1,3,ln,gn:2", "test");
  request.threads = 1;
  request.repeat = 1;
  std::vector<std::string> progress;
  request.progress = [&](const std::string& what) { progress.push_back(what); };
  BenchResult result = run_bench(request);
  nlohmann::json j = nlohmann::json::parse(bench_to_json(result).dump());
  INFO(j.dump(2));
  CHECK(j["schema"] == "bnlab.bench/1");
  CHECK(j["shape"] == nlohmann::json::array({2, 4, 3, 5}));
  CHECK(j["threads"] == 1);
  CHECK(j["repeat"] == 1);
  CHECK(j["elements"] == 120);
  CHECK(j["traffic_bytes_per_element"]["forward_backward"] == 20);
  CHECK(j["copy_gbps"].get<double>() > 0);
  CHECK(j["memcpy_gbps"].get<double>() > 0);
  CHECK(j["peak_rss_mb"].get<double>() > 0);
  CHECK(j["timing"].is_string());
  // The code path measured, and the CPU's: both named (this test's build is -march=native, so they agree).
  CHECK(j["kernels_isa"] == compiled_vector_isa());
  CHECK(j["cpu_isa"] == cpu_vector_isa());
  CHECK(j["kernels_isa"] != "");
  REQUIRE(j["methods"].size() == 4);
  for (const std::string id : {"1", "3", "ln", "gn:2"}) {
    const auto& m = j["methods"][id];
    INFO("method " << id);
    for (const std::string kind : {"forward", "forward_backward", "eval_forward"}) {
      bool applies = kind != "eval_forward" || id == "1" || id == "3";
      for (const std::string suffix :
           {"_ms", "_gbps", "_fraction", "_ns_per_element", "_reference_ms", "_vs_reference"}) {
        REQUIRE(m.contains(kind + suffix));
        CHECK(m[kind + suffix].is_number() == applies);
        CHECK(m[kind + suffix].is_null() == !applies);
      }
      if (!applies) continue;
      double ms = m[kind + "_ms"], gbps = m[kind + "_gbps"], fraction = m[kind + "_fraction"];
      CHECK(ms > 0);
      CHECK(gbps == Approx(effective_gbps(kind == "forward" ? BenchKind::forward
                                          : kind == "forward_backward" ? BenchKind::forward_backward
                                                                       : BenchKind::eval_forward,
                                          120, ms)));
      CHECK(fraction == Approx(gbps / j["copy_gbps"].get<double>()));
      double reference_ms = m[kind + "_reference_ms"];
      CHECK(reference_ms > 0);
      CHECK(m[kind + "_vs_reference"].get<double>() == Approx(ms / reference_ms));
    }
    CHECK(m["forward_cold_ms"].get<double>() > 0);
  }
  CHECK_FALSE(progress.empty());
  CHECK(progress.front() == "copy bandwidth");
  // The total the progress line shows: 2 + (3 + 2 + 3 + 2) kinds * 2 (warm-up + 1) * 2 (kernel, reference) = 42.
  CHECK(progress.size() == bench_steps(request));
  CHECK(bench_steps(request) == 42);
  CHECK(std::count(progress.begin(), progress.end(), "method 3: forward reference 1/1") == 1);
}

TEST_CASE("run_bench names the culprit of a bad request before running anything") {
  BenchRequest request;
  request.dims = Dims{2, 3, 4, 4};
  request.repeat = 0;
  CHECK_THROWS_WITH(run_bench(request), "repeat: must be in [1, 1000] (got 0)");
  request.repeat_name = "--repeat";  // the caller names the value: the CLI passes its flag
  CHECK_THROWS_WITH(run_bench(request), "--repeat: must be in [1, 1000] (got 0)");
  request.repeat = 1;
  request.threads = -1;
  CHECK_THROWS_WITH(run_bench(request), "threads: must be in [0, 1024] (got -1)");
  request.threads = 1;
  request.methods = parse_method_list("gn:2", "test");
  CHECK_THROWS_WITH(run_bench(request), Catch::Contains("C=3") && Catch::Contains("G=2"));
  request.dims = Dims{1, 3, 4, 4};
  request.methods = parse_method_list("2", "test");
  CHECK_THROWS_WITH(run_bench(request), Catch::Contains("method 2") && Catch::Contains("one value per statistic"));
}

TEST_CASE("bnlab bench prints JSON or a table on stdout, and rejects an unknown format", "[cli]") {
  const std::string bin = BNLAB_BINARY;
  Run json = run(bin + " bench --shape 2,3,4,5 --methods 3,in --repeat 1 --threads 1 2>/dev/null");
  REQUIRE(json.code == 0);
  nlohmann::json j = nlohmann::json::parse(json.out);
  CHECK(j["schema"] == "bnlab.bench/1");
  CHECK(j["methods"].contains("in"));

  Run table = run(bin + " bench --shape 2,3,4,5 --methods 1 --repeat 1 --format table 2>/dev/null");
  REQUIRE(table.code == 0);
  CHECK(table.out.rfind("shape (2, 3, 4, 5) float32", 0) == 0);
  CHECK(table.out.find("1       forward_backward") != std::string::npos);

  Run zero = run(bin + " bench --shape 2,3,4,5 --repeat 0 2>&1");
  CHECK(zero.code == 1);
  CHECK(zero.out == "bnlab: --repeat: must be in [1, 1000] (got 0)\n");

  Run bad = run(bin + " bench --format xml 2>&1");
  CHECK(bad.code == 1);
  CHECK(bad.out == "bnlab: --format: unknown format \"xml\" (valid: json, table)\n");
}

namespace {

// How many new mmapped blocks a 64 MB allocation takes: 1 with glibc's
// defaults (a fresh mapping, page faults on first touch), 0 while freed
// memory is kept (served from the heap).
std::size_t mmapped_blocks_for_a_large_allocation() {
  const std::size_t before = mallinfo2().hblks;
  void* volatile block = std::malloc(std::size_t(64) << 20);  // volatile: not elided
  REQUIRE(block != nullptr);
  const std::size_t after = mallinfo2().hblks;
  std::free(block);
  return after - before;
}

// The VmFlags of the mapping that holds address p (/proc/self/smaps), or
// "" when no mapping holds it.
std::string vm_flags_at(const void* p) {
  std::FILE* smaps = std::fopen("/proc/self/smaps", "r");
  REQUIRE(smaps != nullptr);
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  bool inside = false;
  std::string flags;
  char line[512];
  while (std::fgets(line, sizeof line, smaps)) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line, "%lx-%lx ", &begin, &end) == 2 && std::strchr(line, '-') < std::strchr(line, ' ')) {
      inside = address >= begin && address < end;
      continue;
    }
    if (inside && std::strncmp(line, "VmFlags:", 8) == 0) {
      flags = line + 8;
      break;
    }
  }
  std::fclose(smaps);
  return flags;
}

}  // namespace

TEST_CASE("bench keeps freed memory with the allocator for its run only") {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer replaces malloc: glibc's mmap threshold and mallinfo2
  // say nothing there. The Release suite checks this.
  WARN("AddressSanitizer build: glibc's allocator is not in use, nothing to check");
  return;
#endif
  REQUIRE(mmapped_blocks_for_a_large_allocation() == 1);
  {
    const KeepFreedMemory keep;
    CHECK(mmapped_blocks_for_a_large_allocation() == 0);
  }
  CHECK(mmapped_blocks_for_a_large_allocation() == 1);
  BenchRequest request;
  request.dims = Dims{2, 3, 4, 5};
  request.repeat = 1;
  request.threads = 1;
  run_bench(request);
  CHECK(mmapped_blocks_for_a_large_allocation() == 1);  // run_bench restored the defaults
}

TEST_CASE("while freed memory is kept, a large block lies in a heap marked for transparent huge pages") {
#if defined(__SANITIZE_ADDRESS__)
  WARN("AddressSanitizer build: glibc's allocator is not in use, nothing to check");
  return;
#endif
  if (std::FILE* thp = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r")) {
    std::fclose(thp);
  } else {
    WARN("this kernel has no transparent huge pages: nothing to check");
    return;
  }
  const KeepFreedMemory keep;
  void* volatile block = std::malloc(std::size_t(64) << 20);  // volatile: not elided
  REQUIRE(block != nullptr);
  const std::string flags = vm_flags_at(block);
  std::free(block);
  INFO("VmFlags of the block's mapping:" << flags);
  CHECK(flags.find(" hg") != std::string::npos);  // MADV_HUGEPAGE
}

TEST_CASE("the reference loop bench times does the engine's work: the same y, dx, dgamma, dbeta and statistics") {
  // Inner-shape statistics (3, ln, gn) and leading-shape ones (1, 2), on a
  // shape with S = 1100 (two blocks of s for the leading loop).
  const Dims dims{6, 4, 20, 55};
  for (const std::string method : {"1", "2", "3", "ln", "in", "gn:2"}) {
    INFO("method " << method);
    const MethodPlan plan = make_plan(parse_method(method, "test"), AffineMode::natural, dims);
    const Array<float> x = testing::to_array<float>(testing::normals(dims.count(), 41, 0.5, 1.0), dims.to_vector());
    const Array<float> dy = testing::to_array<float>(testing::normals(dims.count(), 42), dims.to_vector());
    const Params<float> params = identity_params<float>(plan);
    Statistics batch;
    const Array<float> y = forward_train(plan, x, params, 1e-5, &batch);
    const Gradients<float> g = backward(plan, Mode::train, x, dy, params, batch, 1e-5);

    ReferenceLoop reference(plan, 1e-5);
    std::vector<float> ry(dims.count()), rdx(dims.count()), ry_eval(dims.count());
    std::vector<float> rdgamma(plan.num_params), rdbeta(plan.num_params);
    reference.forward(x.data(), ry.data());
    reference.backward(x.data(), dy.data(), rdx.data(), rdgamma.data(), rdbeta.data());
    reference.eval_forward(x.data(), ry_eval.data());
    // Float a*x+b against the engine's float output: a few ulps of values of order 1;
    // E[x^2] - E[x]^2 in double loses nothing visible on this data (mean 0.5, std 1).
    CHECK(testing::rel_l2(batch.mean, reference.mean()) < 1e-12);
    CHECK(testing::rel_l2(batch.var, reference.var()) < 1e-12);
    CHECK(testing::rel_l2(y.data(), std::vector<double>(ry.begin(), ry.end())) < 1e-6);
    CHECK(testing::rel_l2(g.dx.data(), std::vector<double>(rdx.begin(), rdx.end())) < 1e-5);
    // Sums in double, each rounded once to float; the reference's (x - mean) is in float.
    REQUIRE(g.dgamma.size() == plan.num_params);
    CHECK(testing::rel_l2(g.dgamma.data(), std::vector<double>(rdgamma.begin(), rdgamma.end())) < 1e-5);
    CHECK(testing::rel_l2(g.dbeta.data(), std::vector<double>(rdbeta.begin(), rdbeta.end())) < 1e-6);
    CHECK(ry_eval == ry);
  }
}
