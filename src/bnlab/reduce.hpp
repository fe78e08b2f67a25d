#pragma once
// Deterministic parallel reductions over a feature map viewed as N*C "runs"
// of S = H*W contiguous elements (run r = n*C + c starts at r*S).
//
// An IndexMap sends each element to one output (a statistic or a parameter).
// Two kernel shapes cover every method:
//   reduce_inner   the output is constant along a run (S reduced: methods 3,
//                  ln, in, gn; parameters of shape (C)). Fixed-size chunks of
//                  each run give partial results, combined in run order.
//   reduce_leading the output follows s along a run (S kept: methods 1, 2;
//                  parameters of shape (H,W) or (C,H,W)). Each output is
//                  accumulated over its runs in run order, by one task that
//                  owns a block of s.
// Blocks and chunks depend only on the shape, never on the thread count, so
// results are bit-identical whatever the number of threads.
//
// Internal header: included by the engine's .cpp files only.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "bnlab/method.hpp"

namespace bnlab::detail {

inline constexpr std::size_t kChunk = 4096;  // elements per partial in reduce_inner
inline constexpr std::size_t kBlock = 512;   // s per task in reduce_leading

// Runs grouped by their output base (CSR), groups ordered by base, runs in
// ascending order inside each group.
struct RunGroups {
  std::vector<std::size_t> base;     // (num_groups) output index of s = 0
  std::vector<std::size_t> offset;   // (num_groups + 1) into run
  std::vector<std::size_t> run;      // (N*C) run indices
  std::size_t size() const { return base.size(); }
};

RunGroups group_runs(const Dims& dims, const IndexMap& map);

// One partial result: `count` elements, two accumulated quantities.
struct Partial {
  double count = 0, a = 0, b = 0;
};

// chunk(run, s_begin, s_end) -> Partial;  merge(Partial& into, const Partial& next).
// out_a, out_b: (num_outputs)
template <class ChunkFn, class MergeFn>
void reduce_inner(const Dims& dims, const IndexMap& map, double* out_a, double* out_b,
                  ChunkFn chunk, MergeFn merge) {
  const std::size_t S = dims.s();
  const std::size_t chunks_per_run = (S + kChunk - 1) / kChunk;
  const std::size_t runs = dims.n * dims.c;
  std::vector<Partial> partials(runs * chunks_per_run);  // (N*C, chunks_per_run)
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(partials.size());
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t t = 0; t < tasks; ++t) {
    std::size_t run = static_cast<std::size_t>(t) / chunks_per_run;
    std::size_t k = static_cast<std::size_t>(t) % chunks_per_run;
    partials[t] = chunk(run, k * kChunk, std::min(S, (k + 1) * kChunk));
  }
  RunGroups groups = group_runs(dims, map);
  const std::ptrdiff_t num_groups = static_cast<std::ptrdiff_t>(groups.size());
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t g = 0; g < num_groups; ++g) {
    Partial total;
    for (std::size_t i = groups.offset[g]; i < groups.offset[g + 1]; ++i) {
      const Partial* p = &partials[groups.run[i] * chunks_per_run];
      for (std::size_t k = 0; k < chunks_per_run; ++k) merge(total, p[k]);
    }
    out_a[groups.base[g]] = total.a;
    out_b[groups.base[g]] = total.b;
  }
}

// row(run, s_begin, s_end, rows_before, a, b): fold elements [s_begin, s_end)
// of `run` into a[0 .. s_end - s_begin) and b[...] (already offset to s_begin);
// rows_before runs of this group were folded in before. Returns nothing.
// out_a, out_b: (num_outputs), set to zero here first.
template <class RowFn>
void reduce_leading(const Dims& dims, const IndexMap& map, std::size_t num_outputs, double* out_a,
                    double* out_b, RowFn row) {
  const std::size_t S = dims.s();
  std::fill(out_a, out_a + num_outputs, 0.0);
  std::fill(out_b, out_b + num_outputs, 0.0);
  RunGroups groups = group_runs(dims, map);
  const std::size_t blocks_per_group = (S + kBlock - 1) / kBlock;
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(groups.size() * blocks_per_group);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::ptrdiff_t t = 0; t < tasks; ++t) {
    std::size_t g = static_cast<std::size_t>(t) / blocks_per_group;
    std::size_t s_begin = (static_cast<std::size_t>(t) % blocks_per_group) * kBlock;
    std::size_t s_end = std::min(S, s_begin + kBlock);
    double* a = out_a + groups.base[g] + s_begin;
    double* b = out_b + groups.base[g] + s_begin;
    std::size_t rows_before = 0;
    for (std::size_t i = groups.offset[g]; i < groups.offset[g + 1]; ++i, ++rows_before) {
      row(groups.run[i], s_begin, s_end, rows_before, a, b);
    }
  }
}

}  // namespace bnlab::detail
