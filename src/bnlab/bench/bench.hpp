#pragma once
// `bnlab bench`: how close the engine's kernels come to the machine's memory
// bandwidth. Normalization is memory-bound, so the yardstick is a STREAM-style
// copy of an array as large as the tensor, measured in the same run.
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, dy, y, dx: (N, C, H, W) float32
//
// The copy is a loop with ordinary stores (see measure_copy_gbps).
// Traffic is counted as the minimum a kernel must move, 4 bytes per float read
// or written once (STREAM's convention: the copy moves 8 bytes per element):
//   forward          read x, write y                          8 bytes/element
//   forward_backward forward + read x, read dy, write dx     20 bytes/element
//   eval_forward     read x, write y                          8 bytes/element
// effective GB/s = bytes / time; fraction = effective GB/s / copy GB/s.
//
// Beside each kernel, the same work by a plain reference loop (ReferenceLoop,
// bench/reference_loop.hpp), timed in the same run, alternating with the
// kernel: vs_reference = kernel time / reference time, so that a kernel that
// falls behind plain code on a new CPU shows at once, whatever the load.
//
// How time is counted: the median of `repeat` runs after one warm-up run,
// wall clock around the engine's public calls (forward_train, backward,
// forward_eval). During the run freed tensors stay with the allocator
// (KeepFreedMemory, restored when run_bench returns), so every timed run
// writes into memory already mapped, as in a training loop; the first-touch page faults of a fresh output are not
// counted (the warm-up pays them; its time is reported as forward_cold_ms).
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/engine/method.hpp"
#include "bnlab/core/shape.hpp"

namespace bnlab {

enum class BenchKind { forward, forward_backward, eval_forward };
inline constexpr BenchKind kBenchKinds[] = {BenchKind::forward, BenchKind::forward_backward, BenchKind::eval_forward};

// "forward", "forward_backward", "eval_forward": the JSON key prefixes.
const char* to_string(BenchKind kind);

// Minimum bytes per float32 element (see the header comment): 8, 20, 8.
double traffic_bytes_per_element(BenchKind kind);

// Effective bandwidth in GB/s (1e9 bytes) of `kind` over `elements` taking `ms`.
double effective_gbps(BenchKind kind, std::size_t elements, double ms);

// The median of a non-empty sample (mean of the middle two for an even size).
double median(std::vector<double> values);

// Limits of --threads (0 = every hardware thread) and --repeat.
inline constexpr int kMaxThreads = 1024;
inline constexpr int kMaxRepeat = 1000;

struct BenchRequest {
  Dims dims{64, 64, 112, 112};
  std::vector<Method> methods;  // empty: 1, 2, 3
  int threads = 0;              // 0: every hardware thread (omp_get_num_procs)
  int repeat = 5;               // timed runs per measurement, after one warm-up
  // Called with a short description of what runs now ("method 3: forward 2/5").
  std::function<void(const std::string&)> progress;
  // What the caller calls these values, for error messages (the CLI: "--shape", ...).
  std::string shape_name = "shape", threads_name = "threads", repeat_name = "repeat";
};

struct KindResult {
  bool measured = false;  // false: eval mode does not apply (ln, in, gn)
  double ms = 0;          // median wall time of one run
  double gbps = 0;        // effective bandwidth (traffic_bytes_per_element * elements / time)
  double fraction = 0;    // gbps / copy_gbps
  double reference_ms = 0;  // median wall time of the plain reference loop (ReferenceLoop) doing the same
  double vs_reference = 0;  // ms / reference_ms (below 1: the kernel is faster)
};

struct BenchMethod {
  std::string id, title;
  KindResult kinds[3];  // indexed by BenchKind
  double forward_cold_ms = 0;  // the first (warm-up) forward: pays the page faults of fresh outputs
  const KindResult& operator[](BenchKind kind) const { return kinds[static_cast<int>(kind)]; }
  KindResult& operator[](BenchKind kind) { return kinds[static_cast<int>(kind)]; }
};

struct BenchResult {
  Dims dims;
  int threads = 0;
  int repeat = 0;
  std::string cpu;         // /proc/cpuinfo's model name ("" where unknown)
  std::string cpu_isa;     // the widest vector instructions the CPU offers (cpu_vector_isa)
  std::string kernels_isa; // the ones the kernels were compiled for (compiled_vector_isa)
  double copy_gbps = 0;    // CopyBandwidth::loop_gbps: the yardstick of every fraction
  double memcpy_gbps = 0;  // CopyBandwidth::memcpy_gbps, for reference
  double peak_rss_mb = 0;  // peak resident memory of the process (MB = 1e6 bytes)
  std::vector<BenchMethod> methods;
};

// "AVX-512", "AVX2 + FMA", "AVX2", "SSE2" or "other": what this CPU offers
// (run time), and what the kernels were compiled for (the build's -march;
// bench.cpp is compiled with the engine's flags). The kernels are tuned per
// code path, so a bench run names the path it measured.
std::string cpu_vector_isa();
std::string compiled_vector_isa();

// Best-of-`trials` bandwidth of a parallel copy of `elements` floats (GB/s,
// counting 8 bytes per element), on the current OpenMP thread count.
//   loop_gbps   a loop with ordinary stores, plain (what STREAM's Copy
//               compiles to) or with the kernels' software prefetching,
//               whichever is faster: the yardstick, since the kernels store
//               the same way;
//   memcpy_gbps glibc's memcpy, one slice per thread: for reference (its
//               large copies may bypass the cache with non-temporal stores,
//               which bnlab's kernels do not use: y is usually read next).
struct CopyBandwidth {
  double loop_gbps = 0, memcpy_gbps = 0;
};
CopyBandwidth measure_copy_gbps(std::size_t elements, int trials);

// Fills in the bandwidth figures (gbps, fraction) and vs_reference of a result whose times are
// set: the arithmetic run_bench uses, separate so that tests can check it.
void account_traffic(BenchResult& result);

// Runs the whole benchmark. Throws Error for a bad request (repeat < 1,
// threads < 0, a method that does not apply to the shape).
BenchResult run_bench(const BenchRequest& request);

// How many times run_bench calls request.progress: the copy before and
// after, and per method one warm-up and `repeat` timed runs per kind that
// applies (eval_forward only for the batch-dependent methods), for the kernel
// and for the reference loop.
std::size_t bench_steps(const BenchRequest& request);

// {"schema": "bnlab.bench/1", "shape": [...], "threads", "copy_gbps",
//  "peak_rss_mb", "methods": {"3": {"forward_ms", "forward_gbps",
//  "forward_fraction", "forward_reference_ms", "forward_vs_reference", ...}},
//  ...}; kinds that do not apply are null.
nlohmann::ordered_json bench_to_json(const BenchResult& result);

// The same as an aligned text table (one row per method and kind).
std::string bench_to_table(const BenchResult& result);

}  // namespace bnlab
