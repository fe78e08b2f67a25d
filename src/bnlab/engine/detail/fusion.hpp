#pragma once
// Pass fusion: where everything one statistic depends on fits in a core's
// cache (and the tensor does not), a reduction per statistic and the
// elementwise pass that uses it run group by group (or tile by tile) as one
// pass, so the second read of the data comes from cache:
//   forward   statistics (read x), then normalize (read x, write y)
//   backward  the two sums per statistic (read x, dy), then dx (read x, dy, write dx)
// Same arithmetic, same order, same bits as the separate passes.
//
// Internal header: included by the engine's .cpp files only.
#include <cstddef>
#include <vector>

#include "bnlab/engine/detail/reduce.hpp"
#include "bnlab/engine/detail/sources.hpp"
#include "bnlab/engine/method.hpp"

namespace bnlab::detail {

// Whether a reduction per statistic can be fused with the elementwise pass
// that uses it (fused_pass): everything one statistic depends on fits in a
// core's cache (inner_fits, leading_fits, for bytes_per_element of
// input per element), and in the leading shape the data that follows s in
// the elementwise pass (apply_maps) groups rows like the statistics.
inline bool fuses(const MethodPlan& plan, std::size_t bytes_per_element, const std::vector<const IndexMap*>& apply_maps) {
  const Dims& dims = plan.dims;
  if (plan.stat.s_stride == 0) return inner_fits(group_runs(dims, plan.stat), dims, bytes_per_element);
  if (!leading_fits(make_tiles(dims, {&plan.stat}), bytes_per_element)) return false;
  for (const IndexMap* map : apply_maps) {
    if (!same_bases(dims, *map, plan.stat)) return false;
  }
  return true;
}

// apply(rows, 0, S) on group g's runs, one run at a time (data that follows
// s may differ between them), with nothing to prefetch (ahead 0): the
// group's input was just read by its reduction and is in cache, and the
// next group's is the reduction's to prefetch. (Until 2026-12-08 the hints
// named the next run, whose lines then left L1 before use: on the AVX2 path,
// one thread, InstanceNorm's normalize took about half again as long as
// without them; docs/performance.md.)
template <class Apply>
void apply_group_runs(const RunGroups& groups, std::size_t g, std::size_t S, const Apply& apply) {
  for (std::size_t i = groups.offset[g]; i < groups.offset[g + 1]; ++i) {
    Rows rows;
    rows.count = 1;
    rows.run[0] = groups.run[i];
    rows.ahead[0] = 0;
    apply(rows, 0, S);
  }
}

// The fused pass, where fuses(): each group of runs (or tile) is reduced,
// finish(o) is called on its statistics, and apply(rows, s_begin, s_end) on
// its data at once, while it is still in cache: one read of memory instead of
// two. The reduction is the same arithmetic in the same order as
// reduce_inner / reduce_leading, so the results are the same bits.
// reduce: the chunk and row operators of reduce_inner and reduce_leading;
// out_a, out_b: (num_stats)
template <class Reduce, class Merge, class Finish, class Apply>
void fused_pass(const MethodPlan& plan, double* out_a, double* out_b, const Reduce& reduce, Merge merge, Finish finish,
                const Apply& apply) {
  const Dims& dims = plan.dims;
  const std::size_t S = dims.s();
  if (plan.stat.s_stride == 0) {
    const RunGroups groups = group_runs(dims, plan.stat);
    reduce_inner_then(groups, dims, out_a, out_b, reduce, merge, [&](std::size_t g) {
      finish(groups.base[g]);
      apply_group_runs(groups, g, S, apply);
    });
    return;
  }
  const Tiles tiles = make_tiles(dims, {&plan.stat});
  reduce_leading_then(tiles, dims, out_a, out_b, reduce, [&](std::size_t t) {
    const auto [s0, s1] = tiles.span(t, S);
    const std::size_t base = tiles.groups.base[tiles.group(t)];
    for (std::size_t o = base + s0; o < base + s1; ++o) finish(o);
    visit_tile(tiles, S, t, apply);
  });
}

}  // namespace bnlab::detail
