#include "bnlab/train/gemm.hpp"

#include <string>

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "bnlab/core/error.hpp"

namespace bnlab::train {

void gemm(const GemmShape& s, const float* a, const float* b, float* c, bool accumulate) {
  if (s.m == 0 || s.k == 0 || s.p == 0) return;
  const auto m = dnnl_dim_t(s.m), k = dnnl_dim_t(s.k), p = dnnl_dim_t(s.p);
  const dnnl_dim_t lda = s.transpose_a ? m : k, ldb = s.transpose_b ? k : p;
  // oneDNN's OpenMP build runs a product on omp_get_max_threads() threads when
  // it is called outside a parallel region, and may then split the reduction
  // over K between them: the bits would depend on the thread count. Inside a
  // parallel region it runs on the calling thread. Outside one, the calling
  // thread's thread count is set to 1 for the call, and restored.
  const bool outside = !omp_in_parallel();
  const int threads = omp_get_max_threads();
  if (outside) omp_set_num_threads(1);
  const dnnl_status_t status = dnnl_sgemm(s.transpose_a ? 'T' : 'N', s.transpose_b ? 'T' : 'N', m, p, k, 1.0f, a, lda,
                                          b, ldb, accumulate ? 1.0f : 0.0f, c, p);
  if (outside) omp_set_num_threads(threads);
  if (status != dnnl_success) {
    throw Error("gemm: oneDNN's sgemm failed (status " + std::to_string(int(status)) + ") for a (" +
                std::to_string(s.m) + " x " + std::to_string(s.k) + ") by (" + std::to_string(s.k) + " x " +
                std::to_string(s.p) + ") product");
  }
}

const char* gemm_library() {
  static const std::string name = [] {
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }();
  return name.c_str();
}

}  // namespace bnlab::train
