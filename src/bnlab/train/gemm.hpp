#pragma once
// Single-precision matrix products for the training network's layers, by
// oneDNN's sgemm (Debian's libdnnl-dev). Why oneDNN and not OpenBLAS or BLIS:
// docs/performance.md ("The training step") has the measurement; in short, the
// network's products are short and wide (16 or 32 rows), where oneDNN's
// just-in-time kernels are 2-4x faster than OpenBLAS's and BLIS's.
//
// Row-major, C = op(A) · op(B) (alpha 1, beta 0, or beta 1 with accumulate):
//   op(A): (M, K), stored (M, K) or, with transpose_a, (K, M)
//   op(B): (K, P), stored (K, P) or, with transpose_b, (P, K)
//   C:     (M, P), row stride ldc (>= P)
//
// Determinism: every call runs on the calling thread alone (see gemm.cpp), so
// a product's bits depend only on its operands and shape, never on how many
// threads bnlab runs: callers split work into products of a fixed shape.
#include <cstddef>

namespace bnlab::train {

struct GemmShape {
  std::size_t m, k, p;
  bool transpose_a = false, transpose_b = false;
};

// c = op(a) · op(b); with accumulate, c += op(a) · op(b).
void gemm(const GemmShape& shape, const float* a, const float* b, float* c, bool accumulate = false);

// The library's name and version, as the training result records it ("oneDNN 2.6.3").
const char* gemm_library();

}  // namespace bnlab::train
