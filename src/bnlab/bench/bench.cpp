#include "bnlab/bench/bench.hpp"

#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "bnlab/bench/reference_loop.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/core/size.hpp"
#include "bnlab/core/memory_policy.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/simd.hpp"

namespace bnlab {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Deterministic filler in [lo, hi): splitmix64 of the index. Values only need
// to be ordinary floats (no denormals, no constant runs), not good randomness.
float hashed_value(std::uint64_t i, std::uint64_t seed, float lo, float hi) {
  std::uint64_t z = i + seed * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return lo + (hi - lo) * float(double(z >> 40) * 0x1.0p-24);
}

// Fills `count` floats in parallel, which also touches every page on the
// thread that will stream it later (first touch).
void fill(float* data, std::size_t count, std::uint64_t seed, float lo, float hi) {
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(count);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < n; ++i) data[i] = hashed_value(std::uint64_t(i), seed, lo, hi);
}

Array<float> filled_tensor(const Dims& dims, std::uint64_t seed, float lo, float hi) {
  Array<float> a = Array<float>::from_shape(dims.to_vector());  // (N, C, H, W)
  fill(a.data(), a.size(), seed, lo, hi);
  return a;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) * 1024.0 / 1e6;  // ru_maxrss is in KiB on Linux
}

// The "model name" line of /proc/cpuinfo, or "" where there is none.
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      std::size_t start = line.find_first_not_of(" \t", line.find(':') + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

}  // namespace

std::string cpu_vector_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "AVX-512";
  if (__builtin_cpu_supports("avx2")) return __builtin_cpu_supports("fma") ? "AVX2 + FMA" : "AVX2";
  if (__builtin_cpu_supports("sse2")) return "SSE2";
#endif
  return "other";
}

std::string compiled_vector_isa() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "AVX2 + FMA";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__SSE2__)
  return "SSE2";
#else
  return "other";
#endif
}

const char* to_string(BenchKind kind) {
  switch (kind) {
    case BenchKind::forward: return "forward";
    case BenchKind::forward_backward: return "forward_backward";
    case BenchKind::eval_forward: return "eval_forward";
  }
  return "?";
}

double traffic_bytes_per_element(BenchKind kind) {
  constexpr double kFloat = sizeof(float);
  switch (kind) {
    case BenchKind::forward: return 2 * kFloat;           // read x, write y
    case BenchKind::forward_backward: return 5 * kFloat;  // forward + read x, read dy, write dx
    case BenchKind::eval_forward: return 2 * kFloat;      // read x, write y
  }
  return 0;
}

double effective_gbps(BenchKind kind, std::size_t elements, double ms) {
  return traffic_bytes_per_element(kind) * double(elements) / (ms * 1e-3) / 1e9;
}

double median(std::vector<double> values) {
  if (values.empty()) throw Error("median of an empty sample");
  std::sort(values.begin(), values.end());
  std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

CopyBandwidth measure_copy_gbps(std::size_t elements, int trials) {
  std::unique_ptr<float[]> src(new float[elements]);  // (elements)
  std::unique_ptr<float[]> dst(new float[elements]);  // (elements)
  fill(src.get(), elements, 1, -1.0f, 1.0f);
  fill(dst.get(), elements, 2, -1.0f, 1.0f);
  const float* s = src.get();
  float* d = dst.get();
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(elements);
  // The plain loop (what STREAM compiles to) ...
  auto plain = [&] {
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = s[i];
  };
  // ... the same with the software prefetching the kernels use ...
  auto prefetched = [&] {
    const std::ptrdiff_t block = 2048, blocks = (n + block - 1) / block, ahead = simd::kAhead;
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t b = 0; b < blocks; ++b) {
      const std::ptrdiff_t begin = b * block, end = std::min(n, begin + block);
      const bool more = end + ahead <= n;
      std::ptrdiff_t i = begin;
      for (; i + 16 <= end; i += 16) {
        if (more) {
          simd::prefetch_read(s + i + ahead);
          simd::prefetch_write(d + i + ahead);
        }
        using Line = simd::Vec8fU;  // two 8-float moves per 64-byte line
        reinterpret_cast<Line*>(d + i)[0] = reinterpret_cast<const Line*>(s + i)[0];
        reinterpret_cast<Line*>(d + i + 8)[0] = reinterpret_cast<const Line*>(s + i + 8)[0];
      }
      for (; i < end; ++i) d[i] = s[i];
    }
  };
  // ... and glibc's memcpy, one slice per thread (it may bypass the cache).
  auto library = [&] {
#pragma omp parallel
    {
      const std::size_t t = std::size_t(omp_get_thread_num()), threads = std::size_t(omp_get_num_threads());
      const std::size_t begin = elements * t / threads, end = elements * (t + 1) / threads;
      std::memcpy(d + begin, s + begin, (end - begin) * sizeof(float));
    }
  };
  auto best_gbps = [&](auto copy) {
    double best_ms = 0;
    for (int t = 0; t < trials; ++t) {
      Clock::time_point start = Clock::now();
      copy();
      double ms = ms_since(start);
      if (t == 0 || ms < best_ms) best_ms = ms;
    }
    return 2.0 * sizeof(float) * double(elements) / (best_ms * 1e-3) / 1e9;
  };
  CopyBandwidth result;
  result.loop_gbps = std::max(best_gbps(plain), best_gbps(prefetched));
  result.memcpy_gbps = best_gbps(library);
  return result;
}

void account_traffic(BenchResult& result) {
  const std::size_t elements = result.dims.count();
  for (BenchMethod& method : result.methods) {
    for (BenchKind kind : kBenchKinds) {
      KindResult& k = method[kind];
      if (!k.measured) continue;
      k.gbps = effective_gbps(kind, elements, k.ms);
      k.fraction = result.copy_gbps > 0 ? k.gbps / result.copy_gbps : 0.0;
      k.vs_reference = k.reference_ms > 0 ? k.ms / k.reference_ms : 0.0;
    }
  }
}

BenchResult run_bench(const BenchRequest& request) {
  // Bounded: 100000 OpenMP threads crash the runtime, and a billion repeats is a typo.
  if (request.repeat < 1 || request.repeat > kMaxRepeat) {
    throw Error(request.repeat_name + ": must be in [1, " + std::to_string(kMaxRepeat) + "] (got " +
                std::to_string(request.repeat) + ")");
  }
  if (request.threads < 0 || request.threads > kMaxThreads) {
    throw Error(request.threads_name + ": must be in [0, " + std::to_string(kMaxThreads) + "] (got " +
                std::to_string(request.threads) + ")");
  }
  std::vector<Method> methods = request.methods;
  if (methods.empty()) methods = parse_method_list("1,2,3", "methods");
  const Dims& dims = request.dims;
  // At its peak bench holds x, dy, y, dx and a second y: five float32 tensors.
  require_memory(checked_byte_size(dims.count(), 5 * sizeof(float), "--shape"), "--shape " + shape_to_string(dims.to_vector()),
                 "five float32 tensors of that shape (x, dy, y, dx, y)");
  // Every plan first, so that a method that cannot apply fails before the long run.
  std::vector<MethodPlan> plans;
  for (const Method& method : methods) {
    plans.push_back(make_plan(method, AffineMode::natural, dims));
    if (plans.back().elements_per_stat < 2) {
      throw Error(request.shape_name + " " + shape_to_string(dims.to_vector()) + ": method " + method.id +
                  " has one value per statistic, so train mode is undefined (use a larger batch)");
    }
  }
  auto progress = [&](const std::string& what) {
    if (request.progress) request.progress(what);
  };

  const KeepFreedMemory keep_freed;  // reuse freed tensors during the run; restored on return
  const int threads = request.threads > 0 ? request.threads : omp_get_num_procs();
  const int previous_threads = omp_get_max_threads();
  omp_set_num_threads(threads);

  BenchResult result;
  result.dims = dims;
  result.threads = threads;
  result.repeat = request.repeat;
  result.cpu = cpu_model();
  result.cpu_isa = cpu_vector_isa();
  result.kernels_isa = compiled_vector_isa();
  // The copy is measured before and after the kernels, the best counting, so
  // that a burst of other load on a shared machine does not lower the yardstick.
  progress("copy bandwidth");
  const CopyBandwidth copy = measure_copy_gbps(dims.count(), 5);

  const Array<float> x = filled_tensor(dims, 3, -1.5f, 2.5f);   // (N, C, H, W)
  const Array<float> dy = filled_tensor(dims, 4, -1.0f, 1.0f);  // (N, C, H, W)
  const double eps = 1e-5;
  for (const MethodPlan& plan : plans) {
    BenchMethod mr;
    mr.id = plan.method.id;
    mr.title = plan.method.title;
    const Params<float> params = identity_params<float>(plan);
    Statistics batch;
    auto name = [&](BenchKind kind, const char* who, int k) {
      return "method " + mr.id + ": " + to_string(kind) + who + " " + std::to_string(k) + "/" +
             std::to_string(request.repeat);
    };
    // One timed call of `kind`; outputs are freed after the clock stops.
    auto time_once = [&](BenchKind kind) {
      Clock::time_point start = Clock::now();
      if (kind == BenchKind::forward) {
        Array<float> y = forward_train(plan, x, params, eps, &batch);
        double ms = ms_since(start);
        return ms;
      }
      if (kind == BenchKind::forward_backward) {
        Statistics used;
        Array<float> y = forward_train(plan, x, params, eps, &used);
        Gradients<float> grads = backward(plan, Mode::train, x, dy, params, used, eps);
        double ms = ms_since(start);
        return ms;
      }
      Array<float> y = forward_eval(plan, x, params, batch, eps);
      double ms = ms_since(start);
      return ms;
    };
    // The same work by the reference loop, outputs allocated and freed the same way.
    ReferenceLoop reference(plan, eps);
    auto time_reference = [&](BenchKind kind) {
      Clock::time_point start = Clock::now();
      std::unique_ptr<float[]> y(new float[dims.count()]);  // (N, C, H, W)
      if (kind == BenchKind::eval_forward) {
        reference.eval_forward(x.data(), y.get());
        return ms_since(start);
      }
      reference.forward(x.data(), y.get());
      if (kind == BenchKind::forward_backward) {
        std::unique_ptr<float[]> dx(new float[dims.count()]);  // (N, C, H, W)
        std::unique_ptr<float[]> dgamma(new float[plan.num_params]), dbeta(new float[plan.num_params]);  // param shape
        reference.backward(x.data(), dy.data(), dx.get(), dgamma.get(), dbeta.get());
      }
      return ms_since(start);
    };
    for (BenchKind kind : kBenchKinds) {
      if (kind == BenchKind::eval_forward && !plan.method.batch_dependent()) continue;
      progress(name(kind, "", 0));
      double warm = time_once(kind);  // warm-up: page faults, caches, thread pool
      if (kind == BenchKind::forward) mr.forward_cold_ms = warm;
      progress(name(kind, " reference", 0));
      time_reference(kind);
      // Kernel and reference alternate, so that a burst of other load hits both alike.
      std::vector<double> times, reference_times;
      for (int k = 1; k <= request.repeat; ++k) {
        progress(name(kind, "", k));
        times.push_back(time_once(kind));
        progress(name(kind, " reference", k));
        reference_times.push_back(time_reference(kind));
      }
      mr[kind].measured = true;
      mr[kind].ms = median(times);
      mr[kind].reference_ms = median(reference_times);
    }
    result.methods.push_back(mr);
  }
  progress("copy bandwidth, again");
  const CopyBandwidth copy_after = measure_copy_gbps(dims.count(), 5);
  result.copy_gbps = std::max(copy.loop_gbps, copy_after.loop_gbps);
  result.memcpy_gbps = std::max(copy.memcpy_gbps, copy_after.memcpy_gbps);
  omp_set_num_threads(previous_threads);
  result.peak_rss_mb = peak_rss_mb();
  account_traffic(result);
  return result;
}

std::size_t bench_steps(const BenchRequest& request) {
  std::vector<Method> methods = request.methods;
  if (methods.empty()) methods = parse_method_list("1,2,3", "methods");
  std::size_t steps = 2;  // the copy bandwidth, before and after
  for (const Method& method : methods)
    for (BenchKind kind : kBenchKinds)
      if (kind != BenchKind::eval_forward || method.batch_dependent())
        steps += 2 * std::size_t(1 + std::max(request.repeat, 0));  // the kernel and the reference loop
  return steps;
}

nlohmann::ordered_json bench_to_json(const BenchResult& result) {
  using nlohmann::ordered_json;
  const Dims& d = result.dims;
  ordered_json j;
  j["schema"] = "bnlab.bench/1";
  j["shape"] = d.to_vector();
  j["dtype"] = "float32";
  j["elements"] = double(d.count());
  j["tensor_mb"] = double(d.count()) * sizeof(float) / 1e6;
  j["cpu"] = result.cpu;
  j["cpu_isa"] = result.cpu_isa;
  j["kernels_isa"] = result.kernels_isa;
  j["threads"] = result.threads;
  j["repeat"] = result.repeat;
  j["timing"] =
      "median of repeat runs after one warm-up; outputs reuse freed memory (first-touch page faults are in "
      "forward_cold_ms only); copy_gbps: best of 10 parallel copies (5 before the kernels, 5 after) of a tensor-sized float array by a loop "
      "with ordinary stores, plain or software-prefetched like the kernels; memcpy_gbps: the same with glibc "
      "memcpy (for reference: it may use non-temporal stores); <kind>_reference_ms: the same work by a plain "
      "OpenMP reference loop (float a*x+b per statistic, statistics in double), timed alternately with the "
      "kernel in the same run; <kind>_vs_reference = <kind>_ms / <kind>_reference_ms";
  ordered_json traffic;
  for (BenchKind kind : kBenchKinds) traffic[to_string(kind)] = traffic_bytes_per_element(kind);
  j["traffic_bytes_per_element"] = traffic;
  j["copy_gbps"] = result.copy_gbps;
  j["memcpy_gbps"] = result.memcpy_gbps;
  j["peak_rss_mb"] = result.peak_rss_mb;
  ordered_json methods = ordered_json::object();
  for (const BenchMethod& m : result.methods) {
    ordered_json jm;
    jm["title"] = m.title;
    for (BenchKind kind : kBenchKinds) {
      const std::string key = to_string(kind);
      const KindResult& k = m[kind];
      jm[key + "_ms"] = k.measured ? ordered_json(k.ms) : ordered_json(nullptr);
      jm[key + "_gbps"] = k.measured ? ordered_json(k.gbps) : ordered_json(nullptr);
      jm[key + "_fraction"] = k.measured ? ordered_json(k.fraction) : ordered_json(nullptr);
      jm[key + "_ns_per_element"] = k.measured ? ordered_json(k.ms * 1e6 / double(d.count())) : ordered_json(nullptr);
      jm[key + "_reference_ms"] = k.measured ? ordered_json(k.reference_ms) : ordered_json(nullptr);
      jm[key + "_vs_reference"] = k.measured ? ordered_json(k.vs_reference) : ordered_json(nullptr);
    }
    jm["forward_cold_ms"] = m.forward_cold_ms;
    methods[m.id] = jm;
  }
  j["methods"] = methods;
  return j;
}

std::string bench_to_table(const BenchResult& result) {
  const Dims& d = result.dims;
  std::ostringstream out;
  out << "shape " << shape_to_string(d.to_vector()) << " float32 (" << fixed(double(d.count()) * 4 / 1e6, 1)
      << " MB), " << result.threads << (result.threads == 1 ? " thread" : " threads") << ", median of "
      << result.repeat << "\n";
  out << "cpu " << (result.cpu.empty() ? "unknown" : result.cpu) << " (" << result.cpu_isa << "), kernels built for "
      << result.kernels_isa << "\n";
  out << "copy bandwidth " << fixed(result.copy_gbps, 2) << " GB/s (loop; memcpy " << fixed(result.memcpy_gbps, 2)
      << " GB/s), peak RSS " << fixed(result.peak_rss_mb, 0) << " MB\n\n";
  // Columns: left-aligned text, right-aligned numbers.
  std::vector<std::vector<std::string>> rows = {
      {"method", "kind", "ms", "GB/s", "of copy", "ns/element", "reference ms", "vs reference"}};
  for (const BenchMethod& m : result.methods) {
    for (BenchKind kind : kBenchKinds) {
      const KindResult& k = m[kind];
      if (!k.measured) {
        rows.push_back({m.id, to_string(kind), "-", "-", "-", "-", "-", "-"});
        continue;
      }
      rows.push_back({m.id, to_string(kind), fixed(k.ms, 2), fixed(k.gbps, 2), fixed(100 * k.fraction, 0) + "%",
                      fixed(k.ms * 1e6 / double(d.count()), 3), fixed(k.reference_ms, 2),
                      fixed(k.vs_reference, 2) + "x"});
    }
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string pad(width[i] - row[i].size(), ' ');
      line += i < 2 ? row[i] + pad : pad + row[i];
      if (i + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  return out.str();
}

}  // namespace bnlab
