#pragma once
// How the engine walks a feature map: deterministic parallel reductions and
// elementwise passes over N*C "runs" of S = H*W contiguous elements (run
// r = n*C + c starts at r*S).
//
// An IndexMap sends each element to one output (a statistic or a parameter).
// Two traversal shapes cover every method:
//   inner    the output is constant along a run (S reduced: methods 3, ln,
//            in, gn; parameters of shape (C)). Work items are fixed-size
//            chunks of runs, in memory order; a reduction keeps one partial
//            per chunk and combines them per output in run order.
//   leading  the output follows s along a run (S kept: methods 1, 2;
//            parameters of shape (H,W) or (C,H,W)). Work items are tiles:
//            a block of s times a range of the runs that share an output
//            base (a "group"), so that the block's outputs stay in cache
//            while the group's runs stream through. A reduction keeps one
//            partial per row range and combines them in order.
// Chunks, blocks and row ranges depend only on the shape, never on the
// thread count, so results are bit-identical whatever the number of threads.
//
// Every work item is told where its successor on the same thread lies
// (`ahead`, in elements: the next stretch of the same run, or the same block
// of the next row), and its loops prefetch there: on this kind of machine the
// hardware prefetchers alone leave a core's memory pipeline a third idle.
//
// Vec8d is eight doubles handled as one value (GCC/Clang vector extension):
// reductions keep 16 lanes (two Vec8d) of partial sums, lane j taking
// elements j, j+16, j+32, ..., then add them in a fixed tree. Every lane is
// plain IEEE double arithmetic, so the bits do not depend on whether the
// compiler emits AVX-512, AVX2 or SSE2 instructions.
//
// Internal header: included by the engine's .cpp files (and the kernel tests) only.
#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bnlab/core/parallel_threshold.hpp"
#include "bnlab/core/simd.hpp"
#include "bnlab/engine/method.hpp"

namespace bnlab::detail {

inline constexpr std::size_t kChunk = 1024;     // elements per partial in reduce_inner (4 KB of float32: L1)
inline constexpr std::size_t kBlock = 2048;     // s per tile (leading), at most
inline constexpr std::size_t kPiece = 2048;     // elements per piece of a run (inner elementwise passes)
inline constexpr std::size_t kMinTiles = 64;    // row ranges are split until there are this many tiles
inline constexpr std::size_t kRows = 8;         // rows of a tile a kernel streams together
inline constexpr std::size_t kFuseBytes = std::size_t(1) << 20;  // input a fused group or tile may hold (a core's L2 keeps it)
inline constexpr std::size_t kFuseContiguousBytes = std::size_t(4) << 20;  // ... a group of consecutive runs (see inner_fits)
inline constexpr std::size_t kMinUnits = 16;    // fused traversals need this many groups or tiles to share among threads
inline constexpr std::size_t kFuseMinElements = std::size_t(8) << 20;  // ... and a tensor this large (see inner_fits)
// inner_fits reads it through fuse_min_elements() (fuse_threshold.hpp), which tests may lower.

// kMinParallelElements (core/parallel_threshold.hpp): below it a pass runs on one thread.

// Whether passes over a tensor of these dims are worth sharing among threads.
inline bool worth_threads(const Dims& dims) { return dims.count() >= kMinParallelElements; }

// ---- lanes ------------------------------------------------------------------------

// Vec8d, load, store and the prefetch hints: core/simd.hpp.
using simd::kAhead;
using simd::load;
using simd::prefetch_read;
using simd::prefetch_write;
using simd::store;
using simd::Vec8d;

// A loop's prefetch hook: called with the element index once per 16 elements
// (one 64-byte line of floats).
struct NoPrefetch {
  void operator()(std::size_t) const {}
};

// f(prefetch), or f(NoPrefetch{}) where the stream has no successor to
// prefetch (ahead 0): the loop then carries no hints at all.
template <class P, class F>
void with_prefetch(bool any_ahead, P prefetch, F f) {
  if (any_ahead) f(prefetch);
  else f(NoPrefetch{});
}

// Calls f(tag, i) for i = 0, 8, 16, ... with a Vec8d tag while eight elements
// remain, then once per remaining element with a double tag.
template <class F, class P = NoPrefetch>
void for_lanes(std::size_t len, F f, P prefetch = {}) {
  std::size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    prefetch(i);
    f(Vec8d{}, i);
    f(Vec8d{}, i + 8);
  }
  for (; i + 8 <= len; i += 8) f(Vec8d{}, i);
  for (; i < len; ++i) f(0.0, i);
}

// A term of a lane sum that is a product u * v: added as fma(u, v, sum),
// rounded once (as a separate multiply and add it would be rounded twice,
// and on AVX2 the extra instruction cost the statistics pass of
// InstanceNorm about a fifth of its time on one thread).
template <class V>
struct Product {
  V u, v;
};
template <class V>
Product(V, V) -> Product<V>;

// sum += term: a plain value is added, a Product fused.
template <class V>
void accumulate(V& sum, const V& term) {
  sum += term;
}
template <class V>
void accumulate(V& sum, const Product<V>& term) {
  sum = simd::fma(term.u, term.v, sum);
}

// Sums of f(tag, i) over i in [0, len), for several quantities at once: f
// returns a std::tuple with one term per quantity, each a value of the tag's
// type V (see load) or a Product<V>. Lanes as described in the header
// comment, then the scalar tail in order.
template <class F, class P = NoPrefetch>
auto lane_sums(std::size_t len, F f, P prefetch = {}) {
  constexpr std::size_t K = std::tuple_size_v<decltype(f(0.0, std::size_t(0)))>;
  std::array<Vec8d, K> lo{}, hi{};
  std::size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    prefetch(i);
    const auto a = f(Vec8d{}, i), b = f(Vec8d{}, i + 8);
    [&]<std::size_t... k>(std::index_sequence<k...>) {
      (accumulate(lo[k], std::get<k>(a)), ...);
      (accumulate(hi[k], std::get<k>(b)), ...);
    }(std::make_index_sequence<K>{});
  }
  std::array<double, K> out;
  for (std::size_t k = 0; k < K; ++k) {
    Vec8d v = lo[k] + hi[k];
    out[k] = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
  }
  for (; i < len; ++i) {
    const auto t = f(0.0, i);
    [&]<std::size_t... k>(std::index_sequence<k...>) {
      (accumulate(out[k], std::get<k>(t)), ...);
    }(std::make_index_sequence<K>{});
  }
  return out;
}

// ---- groups of runs, tiles, bundles of rows ------------------------------------------

// Runs grouped by their bases in one or more maps (CSR): runs share a group
// when every map gives them the same base. Groups are ordered by their bases
// (the first map's first), runs ascending inside each group. Immutable and
// shared: a copy is a handle to the same arrays (group_runs keeps its last
// results, see there).
struct RunGroups {
  struct Arrays {
    std::vector<std::size_t> base;    // (num_groups) the first map's base: output index of s = 0
    std::vector<std::size_t> offset;  // (num_groups + 1) into run
    std::vector<std::size_t> run;     // (N*C) run indices
  };
  explicit RunGroups(std::shared_ptr<const Arrays> arrays)
      : held(std::move(arrays)), base(held->base), offset(held->offset), run(held->run) {}
  RunGroups(const RunGroups& other) : RunGroups(other.held) {}
  RunGroups& operator=(const RunGroups&) = delete;
  std::shared_ptr<const Arrays> held;
  const std::vector<std::size_t>& base;    // (num_groups)
  const std::vector<std::size_t>& offset;  // (num_groups + 1)
  const std::vector<std::size_t>& run;     // (N*C)
  std::size_t size() const { return base.size(); }
};

// The grouping of dims' runs by maps. A kernel call asks for the same
// grouping several times (fuses(), the pass itself, the coefficients' fold)
// and a training loop or bench for the same shape call after call, while
// computing it costs 50-120 us for 16384 runs (256x64x14x14: a tenth of a
// kernel call): the last few results (up to kRunGroupsCacheBytes in all)
// are kept and handed out again. Thread-safe.
RunGroups group_runs(const Dims& dims, const std::vector<const IndexMap*>& maps);
inline RunGroups group_runs(const Dims& dims, const IndexMap& map) { return group_runs(dims, {&map}); }

// Tiles of the leading shape: (group, block of s, range of the group's rows),
// numbered with the row range fastest, then the block, then the group. Row
// ranges are equal splits of each group, `splits` per group, chosen from the
// shape alone so that there are at least kMinTiles tiles when rows allow.
struct Tiles {
  RunGroups groups;  // first, so that Tiles{group_runs(...)} can start one
  std::size_t blocks = 0;  // blocks of s per group
  std::size_t block = 0;   // s per block (the last may be shorter): about S / blocks, a multiple of 16
  std::size_t splits = 0;  // row ranges per group
  std::size_t size() const { return groups.size() * blocks * splits; }
  // Rows [begin, end) of group g's k-th range, as offsets into groups.run.
  std::pair<std::size_t, std::size_t> rows(std::size_t g, std::size_t k) const {
    std::size_t first = groups.offset[g], count = groups.offset[g + 1] - first;
    return {first + count * k / splits, first + count * (k + 1) / splits};
  }
  // Tile t's group, and its block [s_begin, s_end) of a plane of S elements.
  std::size_t group(std::size_t t) const { return t / splits / blocks; }
  std::pair<std::size_t, std::size_t> span(std::size_t t, std::size_t S) const {
    const std::size_t s_begin = t / splits % blocks * block;
    return {s_begin, std::min(S, s_begin + block)};
  }
};

Tiles make_tiles(const Dims& dims, const std::vector<const IndexMap*>& maps);

// The runs a kernel streams together over one piece [s_begin, s_end): kRows
// rows of a tile (they share every map's base, so per-s data is loaded once
// for all of them), or a single run (the inner shape, and a tile's last
// rows). Elements are still visited in row order, so results do not depend on
// the bundling.
struct Rows {
  std::size_t count = 0;          // 1 or kRows
  std::size_t run[kRows] = {};
  // per row: offset (elements) of its successor on this thread; 0 if none, or
  // if it is not worth prefetching (a fused pass's elementwise half: apply_group_runs)
  std::ptrdiff_t ahead[kRows] = {};
  std::size_t before = 0;         // rows of the same tile visited before this bundle
};

// Calls f(std::integral_constant<std::size_t, R>{}) with R = rows.count, so
// that a kernel's loop over the bundle has a trip count known at compile time.
template <class F>
void with_count(const Rows& rows, F f) {
  if (rows.count == kRows) f(std::integral_constant<std::size_t, kRows>{});
  else f(std::integral_constant<std::size_t, 1>{});
}

// Calls visit(rows, s_begin, s_end) for the rows of tile t, kRows at a time
// while that many remain, then one at a time; a row's successor is the same
// row of the next bundle.
template <class Visit>
void visit_tile(const Tiles& tiles, std::size_t S, std::size_t t, Visit visit) {
  const auto [s_begin, s_end] = tiles.span(t, S);
  auto [first, last] = tiles.rows(tiles.group(t), t % tiles.splits);
  const std::size_t* run = tiles.groups.run.data();
  for (std::size_t i = first; i < last;) {
    Rows rows;
    rows.count = last - i >= kRows ? kRows : 1;
    rows.before = i - first;
    for (std::size_t r = 0; r < rows.count; ++r) {
      const std::size_t next = i + r + rows.count;
      rows.run[r] = run[i + r];
      rows.ahead[r] = next < last ? (std::ptrdiff_t(run[next]) - std::ptrdiff_t(run[i + r])) * std::ptrdiff_t(S) : 0;
    }
    visit(rows, s_begin, s_end);
    i += rows.count;
  }
}

// The prefetch offset of a contiguous stretch ending at element `end` of a
// tensor of `total` elements: kAhead, unless that would leave the tensor.
inline std::ptrdiff_t ahead_within(std::size_t end, std::size_t total) {
  return end + std::size_t(kAhead) <= total ? kAhead : 0;
}

// ---- inner reductions ------------------------------------------------------------------

// One partial result: `count` elements, two accumulated quantities.
struct Partial {
  double count = 0, a = 0, b = 0;
};

// chunk(run, s_begin, s_end, ahead) -> Partial;  merge(Partial& into, const Partial& next).
// out_a, out_b: (num_outputs)
template <class ChunkFn, class MergeFn>
void reduce_inner(const Dims& dims, const IndexMap& map, double* out_a, double* out_b, ChunkFn chunk,
                  MergeFn merge) {
  const std::size_t S = dims.s(), total = dims.count();
  const std::size_t chunks_per_run = (S + kChunk - 1) / kChunk;
  const std::size_t runs = dims.n * dims.c;
  std::vector<Partial> partials(runs * chunks_per_run);  // (N*C, chunks_per_run)
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(partials.size());
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, tasks / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t t = 0; t < tasks; ++t) {
    const std::size_t run = static_cast<std::size_t>(t) / chunks_per_run;
    const std::size_t s_begin = static_cast<std::size_t>(t) % chunks_per_run * kChunk;
    const std::size_t s_end = std::min(S, s_begin + kChunk);
    partials[t] = chunk(run, s_begin, s_end, ahead_within(run * S + s_end, total));
  }
  RunGroups groups = group_runs(dims, map);
  const std::ptrdiff_t num_groups = static_cast<std::ptrdiff_t>(groups.size());
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, num_groups / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t g = 0; g < num_groups; ++g) {
    Partial total_g;
    for (std::size_t i = groups.offset[g]; i < groups.offset[g + 1]; ++i) {
      const Partial* p = &partials[groups.run[i] * chunks_per_run];
      for (std::size_t k = 0; k < chunks_per_run; ++k) merge(total_g, p[k]);
    }
    out_a[groups.base[g]] = total_g.a;
    out_b[groups.base[g]] = total_g.b;
  }
}

// ---- leading reductions ----------------------------------------------------------------

// Folds tile t's rows into a, b (the accumulators of its row range, indexed
// by output), zeroing its block first. See reduce_leading for `row`.
template <class RowFn>
void reduce_tile(const Tiles& tiles, std::size_t S, std::size_t t, double* a, double* b, RowFn& row) {
  const std::size_t base = tiles.groups.base[tiles.group(t)];
  visit_tile(tiles, S, t, [&](const Rows& rows, std::size_t s0, std::size_t s1) {
    if (rows.before == 0) {
      std::fill(a + base + s0, a + base + s1, 0.0);
      std::fill(b + base + s0, b + base + s1, 0.0);
    }
    row(rows, s0, s1, a + base + s0, b + base + s0);
  });
}

// row(rows, s_begin, s_end, a, b): fold elements [s_begin, s_end) of the
// bundle's runs, in order, into a[0 .. s_end - s_begin) and b[...] (already
// offset to s_begin); rows.before rows of this row range were folded in
// before (a, b are zero when it is 0).
// merge(a, b, count_a, next_a, next_b, count_next, len): combine the next row
// range's accumulators (count_next rows) into a, b (count_a rows so far).
// out_a, out_b: (num_outputs); every output must belong to some group.
template <class RowFn, class MergeFn>
void reduce_leading(const Dims& dims, const IndexMap& map, std::size_t num_outputs, double* out_a,
                    double* out_b, RowFn row, MergeFn merge) {
  const std::size_t S = dims.s();
  const Tiles tiles = make_tiles(dims, {&map});
  // Accumulators per row range: range 0 writes straight into out, range k > 0
  // into part[(k - 1) * num_outputs ...].
  std::vector<double> part_a((tiles.splits - 1) * num_outputs), part_b(part_a.size());
  auto acc = [&](std::size_t k, double* out, std::vector<double>& part) {
    return k == 0 ? out : part.data() + (k - 1) * num_outputs;
  };
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(tiles.size());
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, tasks / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t t = 0; t < tasks; ++t) {
    const std::size_t k = static_cast<std::size_t>(t) % tiles.splits;
    reduce_tile(tiles, S, static_cast<std::size_t>(t), acc(k, out_a, part_a), acc(k, out_b, part_b), row);
  }
  if (tiles.splits == 1) return;
  const std::ptrdiff_t merges = static_cast<std::ptrdiff_t>(tiles.groups.size() * tiles.blocks);
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, merges / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t t = 0; t < merges; ++t) {
    const std::size_t b = static_cast<std::size_t>(t) % tiles.blocks, g = static_cast<std::size_t>(t) / tiles.blocks;
    const std::size_t s_begin = b * tiles.block, len = std::min(S, s_begin + tiles.block) - s_begin;
    const std::size_t at = tiles.groups.base[g] + s_begin;
    auto [first, last] = tiles.rows(g, 0);
    double count = double(last - first);
    for (std::size_t k = 1; k < tiles.splits; ++k) {
      auto [f, l] = tiles.rows(g, k);
      merge(out_a + at, out_b + at, count, acc(k, out_a, part_a) + at, acc(k, out_b, part_b) + at, double(l - f),
            len);
      count += double(l - f);
    }
  }
}

// ---- elementwise passes ----------------------------------------------------------------

// Calls body(rows, s_begin, s_end) for bundles covering every element once,
// in parallel. `follow` empty: runs in memory order, cut into pieces of
// kPiece, one run per bundle. Otherwise the tiles of the leading shape for
// those maps (the ones whose data follows s), so that the per-s data a body
// reads for one block is loaded once per bundle and stays in cache.
template <class Body>
void for_each_piece(const Dims& dims, const std::vector<const IndexMap*>& follow, Body body) {
  const std::size_t S = dims.s(), total = dims.count();
  if (follow.empty()) {
    const std::size_t pieces_per_run = (S + kPiece - 1) / kPiece;
    const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(dims.n * dims.c * pieces_per_run);
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, tasks / 64)) if (worth_threads(dims))
    for (std::ptrdiff_t t = 0; t < tasks; ++t) {
      Rows rows;
      rows.count = 1;
      rows.run[0] = static_cast<std::size_t>(t) / pieces_per_run;
      const std::size_t s_begin = static_cast<std::size_t>(t) % pieces_per_run * kPiece;
      const std::size_t s_end = std::min(S, s_begin + kPiece);
      rows.ahead[0] = ahead_within(rows.run[0] * S + s_end, total);
      body(rows, s_begin, s_end);
    }
    return;
  }
  const Tiles tiles = make_tiles(dims, follow);
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(tiles.size());
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, tasks / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t t = 0; t < tasks; ++t) visit_tile(tiles, S, static_cast<std::size_t>(t), body);
}

// ---- fused: reduce, then use the result while the data is in cache -----------------------

// Where everything one output depends on fits in a core's cache, a pass can
// reduce it and use the result at once, reading memory once instead of twice
// (a forward: statistics, then normalize; a backward: sums, then dx). The two
// traversals below do exactly the reductions of reduce_inner / reduce_leading
// (the same partials, combined in the same order: the same bits), and call
// then(...) as soon as a unit's outputs are final. Whether they apply depends
// on the shape alone (and the results do not depend on it).

// Inner: every output's runs together. True when each group's input
// (bytes_per_element per element) fits kFuseBytes, or kFuseContiguousBytes
// when the group's runs are consecutive in memory (ln, gn: one stream the
// hardware prefetcher follows, read again from the last-level cache; measured
// on an AMD EPYC with 1 MB of L2 per core: ln's forward on 64x64x112x112,
// 3.2 MB per sample, went from 1.7x to 1.5x its reference loop, while Method
// 3's strided groups of that size lost 7%), there are kMinUnits
// groups, and, where some group's runs are not consecutive (Method 3), the
// tensor has fuse_min_elements() (fuse_threshold.hpp: kFuseMinElements)
// elements: a smaller one stays in the last-level cache between two passes
// (measured on the README's machine: copies of 25 MB run at 50 GB/s, of
// 205 MB at 30 GB/s), and there two passes in memory order beat a fused order
// that visits a group's strided runs one after the other. Where every
// group's runs are consecutive (ln, in, gn) the fused order is memory order,
// so small tensors are fused too (since 2026-12-07; single runs on 8x256x28x28
// put in's fwd+bwd at 1.43x its loop, against 1.88x in the suite run before).
bool inner_fits(const RunGroups& groups, const Dims& dims, std::size_t bytes_per_element);

// The run read after groups.run[i] in group order: the group's next, or the
// next group's first (the same thread's next, mostly), or itself at the end.
inline std::size_t next_run(const RunGroups& groups, std::size_t i) {
  return i + 1 < groups.run.size() ? groups.run[i + 1] : groups.run[i];
}

// The prefetch offset of chunk [s_begin, s_end) of `run` when the group's
// runs are read one after the other: further along this run, or at the start
// of the next run read (`next`) for the run's last chunk.
inline std::ptrdiff_t chunk_ahead(std::size_t run, std::size_t next, std::size_t S, std::size_t s_begin,
                                  std::size_t s_end) {
  if (s_end < S) return std::min<std::ptrdiff_t>(kAhead, std::ptrdiff_t(S - s_end));
  return (std::ptrdiff_t(next) - std::ptrdiff_t(run)) * std::ptrdiff_t(S) - std::ptrdiff_t(s_begin);
}

// chunk and merge as for reduce_inner; then(g) once group g's output is final.
template <class ChunkFn, class MergeFn, class Then>
void reduce_inner_then(const RunGroups& groups, const Dims& dims, double* out_a, double* out_b, ChunkFn chunk,
                       MergeFn merge, Then then) {
  const std::size_t S = dims.s(), chunks_per_run = (S + kChunk - 1) / kChunk;
  const std::ptrdiff_t num_groups = static_cast<std::ptrdiff_t>(groups.size());
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, num_groups / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t g = 0; g < num_groups; ++g) {
    Partial total;
    for (std::size_t i = groups.offset[g]; i < groups.offset[g + 1]; ++i) {
      const std::size_t run = groups.run[i], next = next_run(groups, i);
      for (std::size_t k = 0; k < chunks_per_run; ++k) {
        const std::size_t s_begin = k * kChunk, s_end = std::min(S, s_begin + kChunk);
        merge(total, chunk(run, s_begin, s_end, chunk_ahead(run, next, S, s_begin, s_end)));
      }
    }
    out_a[groups.base[g]] = total.a;
    out_b[groups.base[g]] = total.b;
    then(static_cast<std::size_t>(g));
  }
}

// The same traversal with one result per run: each run's chunks are merged
// in order from an empty Partial (exactly what reduce_inner does with one run
// per output) into out_a[run], out_b[run], and then(g) is called once group
// g's runs are done. out_a, out_b: (N*C)
template <class ChunkFn, class MergeFn, class Then>
void fused_run_sums(const RunGroups& groups, const Dims& dims, ChunkFn chunk, MergeFn merge, double* out_a,
                    double* out_b, Then then) {
  const std::size_t S = dims.s(), chunks_per_run = (S + kChunk - 1) / kChunk;
  const std::ptrdiff_t num_groups = static_cast<std::ptrdiff_t>(groups.size());
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, num_groups / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t g = 0; g < num_groups; ++g) {
    for (std::size_t i = groups.offset[g]; i < groups.offset[g + 1]; ++i) {
      const std::size_t run = groups.run[i], next = next_run(groups, i);
      Partial total;
      for (std::size_t k = 0; k < chunks_per_run; ++k) {
        const std::size_t s_begin = k * kChunk, s_end = std::min(S, s_begin + kChunk);
        merge(total, chunk(run, s_begin, s_end, chunk_ahead(run, next, S, s_begin, s_end)));
      }
      out_a[run] = total.a;
      out_b[run] = total.b;
    }
    then(static_cast<std::size_t>(g));
  }
}

// Leading: tiles that hold every row of their group. True when there is one
// row range per group, each tile's input fits kFuseBytes and there are
// kMinUnits tiles. (The fused order is the unfused passes' order, so it pays
// off on cache-resident tensors too: measured 15-25% on Method 2.)
bool leading_fits(const Tiles& tiles, std::size_t bytes_per_element);

// row as for reduce_leading; then(t) once tile t's outputs (its group's block) are final.
template <class RowFn, class Then>
void reduce_leading_then(const Tiles& tiles, const Dims& dims, double* out_a, double* out_b, RowFn row, Then then) {
  const std::ptrdiff_t tasks = static_cast<std::ptrdiff_t>(tiles.size());
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, tasks / 64)) if (worth_threads(dims))
  for (std::ptrdiff_t t = 0; t < tasks; ++t) {
    reduce_tile(tiles, dims.s(), static_cast<std::size_t>(t), out_a, out_b, row);
    then(static_cast<std::size_t>(t));
  }
}

}  // namespace bnlab::detail
