// Times the matrix products of one training step of bnlab train's CNN (batch 64,
// 28x28: forward, weight gradient and input gradient of its three
// convolutions) with one GEMM library on one thread, as products per sample
// (what bnlab does; `per-sample` argument) or per chunk of 8 samples.
// scripts/bench-gemm builds it once per library (OpenBLAS, BLIS, oneDNN, a
// plain loop) and runs each: the measurement behind src/bnlab/train/gemm.hpp's
// choice. Prints one JSON line: the fastest of 30 steps in ms, and GFLOP/s.
#include <chrono>
#include <cstdio>
#include <vector>
#include <cstdlib>
#include <algorithm>
#if defined(USE_OPENBLAS)
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
static const char* kName = "openblas";
static void gemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
              ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}
static void init() { openblas_set_num_threads(1); }
#elif defined(USE_BLIS)
#include <blis.h>
static const char* kName = "blis";
static void gemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
  float one = 1, zero = 0;
  // row-major: row stride = ld, col stride = 1
  bli_sgemm(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &one,
            const_cast<float*>(a), ta ? m : k, 1, const_cast<float*>(b), tb ? k : n, 1, &zero, c, n, 1);
}
static void init() {}
#elif defined(USE_DNNL)
#include <oneapi/dnnl/dnnl.h>
static const char* kName = "onednn";
static void gemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
  if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n) != dnnl_success) { std::puts("dnnl error"); std::exit(1); }
}
static void init() {}
#else
static const char* kName = "plain loop";
static void gemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
  std::fill(c, c + std::size_t(m) * n, 0.0f);
  for (int i = 0; i < m; ++i)
    for (int q = 0; q < k; ++q) {
      const float av = ta ? a[q * m + i] : a[i * k + q];
      if (!tb) { const float* br = b + std::size_t(q) * n; float* cr = c + std::size_t(i) * n; for (int j = 0; j < n; ++j) cr[j] += av * br[j]; }
      else { for (int j = 0; j < n; ++j) c[std::size_t(i) * n + j] += av * b[std::size_t(j) * k + q]; }
    }
}
static void init() {}
#endif
struct Layer { int cout, K, P; };
int main(int argc, char**) {
  const bool per_sample = argc > 1;
  init();
  const Layer layers[] = {{16, 9, 784}, {32, 144, 196}, {32, 288, 49}};
  const int chunk = 8, chunks = 8;
  std::vector<float> A(1 << 22, 0.01f), B(1 << 22, 0.02f), C(1 << 22);
  double best = 1e9;
  for (int rep = 0; rep < 30; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (const Layer& l : layers) {
      const int n = chunk * l.P;
      if (!per_sample) for (int c = 0; c < chunks; ++c) {
        gemm(false, false, l.cout, n, l.K, A.data(), B.data(), C.data());  // forward
        gemm(false, true, l.cout, l.K, n, A.data(), B.data(), C.data());   // dW
        gemm(true, false, l.K, n, l.cout, A.data(), B.data(), C.data());   // dcol
      } else for (int s = 0; s < 64; ++s) {
        gemm(false, false, l.cout, l.P, l.K, A.data(), B.data(), C.data());  // forward
        gemm(false, true, l.cout, l.K, l.P, A.data(), B.data(), C.data());   // dW
        gemm(true, false, l.K, l.P, l.cout, A.data(), B.data(), C.data());   // dcol
      }
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double sum = 0; for (int i = 0; i < 1000; ++i) sum += C[i];
  if (sum <= 0) std::printf("unexpected result %g\n", sum);
  std::printf("{\"library\": \"%s\", \"products\": \"%s\", \"step_gemm_ms\": %.3f, \"gflops\": %.1f}\n", kName, per_sample ? "per sample" : "per 8 samples", best * 1e3,
              0.56e9 / best / 1e9);
}
