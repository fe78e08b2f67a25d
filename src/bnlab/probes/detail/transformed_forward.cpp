#include "bnlab/probes/detail/transformed_forward.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "bnlab/core/error.hpp"
#include "bnlab/core/parallel_threshold.hpp"
#include "bnlab/core/simd.hpp"
#include "bnlab/probes/detail/run_sums.hpp"

// Shape legend: N batch, C channels, H, W spatial, S = H*W; x: (N, C, H, W).
namespace bnlab::probe {

InputTransform InputTransform::identity() { return circular(Shift{}, 0, 0); }

InputTransform InputTransform::circular(Shift shift, std::size_t n_begin, std::size_t n_end) {
  return {.kind = Kind::circular, .shift = shift, .changed_begin = n_begin, .changed_end = n_end};
}

InputTransform InputTransform::translate(Shift shift) { return {.kind = Kind::translate, .shift = shift}; }

InputTransform InputTransform::scale_samples(double factor, std::size_t n_begin, std::size_t n_end) {
  return {.kind = Kind::sample_scale, .changed_begin = n_begin, .changed_end = n_end, .factor = factor};
}

InputTransform InputTransform::rescale(std::vector<double> scale, std::vector<double> offset) {
  return {.kind = Kind::rescale, .scale = std::move(scale), .offset = std::move(offset)};
}

namespace {

using Kind = InputTransform::Kind;

// Calls copy(p, q, len) and fill(p, len) over the plane of sample n of x'
// (any channel: the transforms treat every channel alike, bar rescale's
// values), in destination order: x'[p + i] is the value of x[q + i] (copy)
// or 0 (fill); p, q are offsets within the plane, [0, S).
template <class Copy, class Fill>
void for_each_segment(const Dims& d, const InputTransform& t, std::size_t n, Copy copy, Fill fill) {
  const std::size_t H = d.h, W = d.w, dh = t.shift.dh, dw = t.shift.dw;
  switch (t.kind) {
    case Kind::rescale:
    case Kind::sample_scale:
      copy(0, 0, d.s());
      return;
    case Kind::circular:
      if (n < t.changed_begin || n >= t.changed_end) {
        copy(0, 0, d.s());
        return;
      }
      // Row h of x' is row (h - dh) mod H of x rotated right by dw: its last
      // dw entries first, then its first W - dw. With dw = 0 the rows stay
      // whole: the plane's last dh rows first, then its first H - dh.
      if (dw == 0) {
        if (dh > 0) copy(0, (H - dh) * W, dh * W);
        copy(dh * W, 0, (H - dh) * W);
        return;
      }
      for (std::size_t h = 0; h < H; ++h) {
        const std::size_t source_row = ((h + H - dh) % H) * W;
        if (dw > 0) copy(h * W, source_row + (W - dw), dw);
        copy(h * W + dw, source_row, W - dw);
      }
      return;
    case Kind::translate:
      if (dw == 0) {  // whole rows: dh rows of zeros, then the first H - dh rows
        if (dh > 0) fill(0, dh * W);
        copy(dh * W, 0, (H - dh) * W);
        return;
      }
      for (std::size_t h = 0; h < H; ++h) {
        if (h < dh) {
          fill(h * W, W);
          continue;
        }
        if (dw > 0) fill(h * W, dw);
        copy(h * W + dw, (h - dh) * W, W - dw);
      }
      return;
  }
}

// to[i] = from[i], i < len: a plain loop, kept from becoming a call to
// memmove (GCC's loop distribution), which costs more than the copy on the
// short row segments of a shift.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
void copy_floats(const float* __restrict from, std::size_t len, float* __restrict to) {
  for (std::size_t i = 0; i < len; ++i) to[i] = from[i];
}

// Whether the transform changes the values of run (n, c), and how:
// v' = float(a * double(v) + b) (a channel rescale, a sample scaled by k).
bool values_change(const InputTransform& t, std::size_t n, std::size_t c, double& a, double& b) {
  if (t.kind == Kind::rescale) {
    a = t.scale[c];
    b = t.offset[c];
    return true;
  }
  if (t.kind == Kind::sample_scale && n >= t.changed_begin && n < t.changed_end) {
    a = t.factor;
    b = 0.0;
    return true;
  }
  return false;
}

// Run (n, c) of x' in destination order: plane[p] = x'[n, c, p] for p in
// [0, S), gathered from x's run (x_run: (S)) segment by segment, rescaled
// where the transform says, 0 at fills.  plane: (S)
void gather_plane(const Dims& d, const InputTransform& t, const float* x_run, std::size_t n, std::size_t c,
                  float* plane) {
  double a = 1.0, b = 0.0;
  const bool changed = values_change(t, n, c, a, b);
  auto copy = [&](std::size_t p, std::size_t q, std::size_t len) {
    if (!changed) {
      copy_floats(x_run + q, len, plane + p);
      return;
    }
    for (std::size_t i = 0; i < len; ++i) plane[p + i] = float(a * double(x_run[q + i]) + b);
  };
  auto fill = [&](std::size_t p, std::size_t len) { std::fill(plane + p, plane + p + len, 0.0f); };
  for_each_segment(d, t, n, copy, fill);
}

// A translation's source rectangle of one plane (rows [0, H - dh), columns
// [0, W - dw) of `source`, in order) packed into `packed`; returns its size.
std::size_t pack_sourced_rectangle(const Dims& d, const InputTransform& t, const float* source, float* packed) {
  const std::size_t rows = d.h - t.shift.dh, columns = d.w - t.shift.dw;
  if (t.shift.dw == 0) {
    copy_floats(source, rows * d.w, packed);
    return rows * d.w;
  }
  for (std::size_t h = 0; h < rows; ++h) copy_floats(source + h * d.w, columns, packed + h * columns);
  return rows * columns;
}

// Whether sample n of x' keeps every value at its position (q = p).
bool keeps_positions(const InputTransform& t, std::size_t n) {
  return t.kind == Kind::rescale || t.kind == Kind::sample_scale ||
         (t.kind == Kind::circular && (n < t.changed_begin || n >= t.changed_end));
}

// The first circular transform (transforms.size() if none).
std::size_t first_circular(const std::vector<InputTransform>& transforms) {
  for (std::size_t t = 0; t < transforms.size(); ++t)
    if (transforms[t].kind == Kind::circular) return t;
  return transforms.size();
}

// The values of run (n, c) of x' in source order (q ascending), fills last:
// x's run itself for a circular transform (returned as is), the rescaled
// run, or a translation's sourced rectangle, rows [0, H - dh) by columns
// [0, W - dw), then its S minus that many zeros. Returns S values.  plane: (S)
const float* source_order_values(const Dims& d, const InputTransform& t, const float* x_run, std::size_t n,
                                 std::size_t c, float* plane) {
  const std::size_t S = d.s();
  double a = 1.0, b = 0.0;
  switch (t.kind) {
    case Kind::circular:
      return x_run;
    case Kind::rescale:
    case Kind::sample_scale: {
      if (!values_change(t, n, c, a, b)) return x_run;
      for (std::size_t q = 0; q < S; ++q) plane[q] = float(a * double(x_run[q]) + b);
      return plane;
    }
    case Kind::translate: {
      const std::size_t sourced = pack_sourced_rectangle(d, t, x_run, plane);
      std::fill(plane + sourced, plane + S, 0.0f);
      return plane;
    }
  }
  return x_run;
}

// The runs that share one statistic base, in run order: a group. Every
// transform keeps a run in its group, so a group's statistics of T(x) come
// from the group's runs of x alone. L statistics per group: S where the
// statistics follow s (Methods 1, 2), else 1.
struct RunGroup {
  std::size_t base = 0;
  std::vector<std::size_t> runs;  // n * C + c, ascending
};

std::vector<RunGroup> run_groups(const MethodPlan& plan) {
  const Dims& d = plan.dims;
  std::vector<std::pair<std::size_t, std::size_t>> keyed;  // (base, run)
  keyed.reserve(d.n * d.c);
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c) keyed.emplace_back(plan.stat.base(n, c), n * d.c + c);
  std::sort(keyed.begin(), keyed.end());
  std::vector<RunGroup> groups;
  for (std::size_t i = 0; i < keyed.size(); ++i) {
    if (i == 0 || keyed[i].first != keyed[i - 1].first) groups.push_back(RunGroup{keyed[i].first, {}});
    groups.back().runs.push_back(keyed[i].second);
  }
  return groups;
}

// How the groups share the threads: many groups go one per thread (each
// group's work sequential); few groups (Method 1 has one) go one after the
// other, with their runs shared among the threads, a group's statistics then
// summed in kChunksWithinGroup chunks added in chunk order. Which one depends
// on the shape alone, so the sums (and their bits) do too.
constexpr std::size_t kGroupsForThreads = 16;
constexpr std::size_t kChunksWithinGroup = 16;

// A group's statistics for every transform: mean and 1 / sqrt(var + eps),
// (transforms, L) each.
struct GroupStatistics {
  std::size_t per_transform = 0;  // L
  std::vector<double> mean, var, rstd;
};

// The moments of every transform over a group's runs [first, last) about
// its pivots (transforms, L), into sum1, sum2 (transforms, L), added to what
// is there, run by run in order.
void add_group_moments(const MethodPlan& plan, const float* x, const std::vector<InputTransform>& transforms,
                       const double* pivot, const RunGroup& group, std::size_t first, std::size_t last,
                       double* sum1, double* sum2, float* plane) {
  const Dims& d = plan.dims;
  const std::size_t S = d.s(), C = d.c, T = transforms.size();
  const bool follows = plan.stat.s_stride != 0;
  const std::size_t L = follows ? S : 1;
  if (!follows) {
    // One statistic per run: its values may be summed in any fixed order, and
    // they are summed in source order (q). Every circular transform then
    // sums x's run itself, the same values in the same order: one sum serves
    // them all (the same bits as summing each). The others (translate,
    // rescale) sum their values in source order, fills last.
    std::vector<LaneMoments> lanes(T);  // (transforms) one statistic each
    const std::size_t circular = first_circular(transforms);
    for (std::size_t r = first; r < last; ++r) {
      const std::size_t run = group.runs[r], c = run % C;
      const float* x_run = x + run * S;  // (S)
      for (std::size_t t = 0; t < T; ++t) {
        if (transforms[t].kind == Kind::circular) {
          if (t == circular) lanes[t].add(x_run, S, pivot[t]);
          continue;
        }
        lanes[t].add(source_order_values(d, transforms[t], x_run, run / C, c, plane), S, pivot[t]);
      }
    }
    for (std::size_t t = 0; t < T; ++t) {
      const LaneMoments& of_t = transforms[t].kind == Kind::circular ? lanes[circular] : lanes[t];
      sum1[t] += of_t.sum1();
      sum2[t] += of_t.sum2();
    }
    return;
  }
  for (std::size_t r = first; r < last; ++r) {
    const std::size_t run = group.runs[r], n = run / C, c = run % C;
    for (std::size_t t = 0; t < T; ++t) {
      // (S) x' of run (n, c) in destination order: x's run itself where the
      // transform leaves it as it is.
      const float* v = x + run * S;
      double a = 1.0, b = 0.0;
      if (!keeps_positions(transforms[t], n) || values_change(transforms[t], n, c, a, b)) {
        gather_plane(d, transforms[t], x + run * S, n, c, plane);
        v = plane;
      }
      double* s1 = sum1 + t * L;
      double* s2 = sum2 + t * L;
      const double* k = pivot + t * L;
      for (std::size_t p = 0; p < S; ++p) {
        const double dev = double(v[p]) - k[p];
        s1[p] += dev;
        s2[p] += dev * dev;
      }
    }
  }
}

// Each statistic's pivot for every transform: its first value in x', in the
// order it is summed (the group's first run).  (transforms, L)
std::vector<double> first_values(const MethodPlan& plan, const float* x, const std::vector<InputTransform>& transforms,
                                 const RunGroup& group) {
  const Dims& d = plan.dims;
  const std::size_t S = d.s(), T = transforms.size(), run = group.runs.front(), n = run / d.c, c = run % d.c;
  const bool follows = plan.stat.s_stride != 0;
  const std::size_t L = follows ? S : 1;
  std::vector<float> plane(S);  // (S)
  std::vector<double> k(T * L);
  for (std::size_t t = 0; t < T; ++t) {
    if (!follows) {
      k[t] = source_order_values(d, transforms[t], x + run * S, n, c, plane.data())[0];
      continue;
    }
    gather_plane(d, transforms[t], x + run * S, n, c, plane.data());
    std::copy(plane.begin(), plane.end(), k.begin() + std::ptrdiff_t(t * L));
  }
  return k;
}

// The pivots and moment sums of every transform over one group, each
// (transforms, L): k (first_values), s1 = sum (v - k), s2 = sum (v - k)^2.
// threaded: the group's runs are shared among the threads in
// kChunksWithinGroup chunks, added in chunk order.
struct GroupSums {
  std::vector<double> k, s1, s2;
};

GroupSums group_sums(const MethodPlan& plan, const float* x, const std::vector<InputTransform>& transforms,
                     const RunGroup& group, bool chunked, bool threaded) {
  const std::size_t S = plan.dims.s(), T = transforms.size();
  const std::size_t L = plan.stat.s_stride != 0 ? S : 1;
  GroupSums out;
  out.k = first_values(plan, x, transforms, group);  // (transforms, L)
  const std::size_t runs = group.runs.size();
  const std::size_t chunks = chunked ? std::min(runs, kChunksWithinGroup) : 1;
  const std::size_t per_chunk = (runs + chunks - 1) / chunks;
  std::vector<double> sums(chunks * T * L * 2, 0.0);  // (chunks, 2, transforms, L)
  const std::ptrdiff_t chunk_count = static_cast<std::ptrdiff_t>(chunks);
#pragma omp parallel if (threaded)
  {
    std::vector<float> plane(S);  // (S)
#pragma omp for schedule(dynamic)
    for (std::ptrdiff_t ch = 0; ch < chunk_count; ++ch) {
      const std::size_t first = std::size_t(ch) * per_chunk, last = std::min(runs, first + per_chunk);
      double* sum1 = sums.data() + std::size_t(ch) * 2 * T * L;
      add_group_moments(plan, x, transforms, out.k.data(), group, first, last, sum1, sum1 + T * L, plane.data());
    }
  }
  out.s1.assign(T * L, 0.0);
  out.s2.assign(T * L, 0.0);
  for (std::size_t i = 0; i < T * L; ++i)
    for (std::size_t ch = 0; ch < chunks; ++ch) {  // in chunk order
      out.s1[i] += sums[ch * 2 * T * L + i];
      out.s2[i] += sums[ch * 2 * T * L + T * L + i];
    }
  return out;
}

// Where the statistics follow s (Methods 1, 2), a transform that moves every
// run of a group alike (a circular shift of every sample, a translation)
// puts at position p the values the identity has at its source q, in the
// same run order, with the same pivot (the first run's value): its sums at p
// are the identity's at q, the very same additions, so they are copied
// rather than done again (and a fill position sums zeros about a pivot of
// 0: 0 and 0).
bool sums_follow_identity(const MethodPlan& plan, const InputTransform& t) {
  if (plan.stat.s_stride == 0) return false;
  return t.kind == Kind::translate ||
         (t.kind == Kind::circular && t.changed_begin == 0 && t.changed_end >= plan.dims.n);
}

// The statistics of every transform over one group (file comment: pivot,
// mean = k + s1 / m, var = s2 / m - (s1 / m)^2).
GroupStatistics group_statistics(const MethodPlan& plan, const float* x, const std::vector<InputTransform>& transforms,
                                 const RunGroup& group, double eps, bool chunked, bool threaded) {
  const Dims& d = plan.dims;
  const std::size_t T = transforms.size();
  const std::size_t L = plan.stat.s_stride != 0 ? d.s() : 1;
  constexpr std::size_t kCopied = std::size_t(-1);
  std::vector<InputTransform> summed;  // the transforms whose sums are taken, then the identity if needed
  std::vector<std::size_t> at(T, kCopied);  // (transforms) index into summed, or kCopied
  for (std::size_t t = 0; t < T; ++t) {
    if (sums_follow_identity(plan, transforms[t])) continue;
    at[t] = summed.size();
    summed.push_back(transforms[t]);
  }
  const std::size_t identity = summed.size();
  if (std::find(at.begin(), at.end(), kCopied) != at.end()) summed.push_back(InputTransform::identity());
  const GroupSums sums = group_sums(plan, x, summed, group, chunked, threaded);
  GroupSums all;  // (transforms, L)
  all.k.resize(T * L);
  all.s1.resize(T * L);
  all.s2.resize(T * L);
  for (std::size_t t = 0; t < T; ++t) {
    if (at[t] != kCopied) {
      for (std::size_t o = 0; o < L; ++o) {
        all.k[t * L + o] = sums.k[at[t] * L + o];
        all.s1[t * L + o] = sums.s1[at[t] * L + o];
        all.s2[t * L + o] = sums.s2[at[t] * L + o];
      }
      continue;
    }
    auto copy = [&](std::size_t p, std::size_t q, std::size_t len) {
      for (std::size_t i = 0; i < len; ++i) {
        all.k[t * L + p + i] = sums.k[identity * L + q + i];
        all.s1[t * L + p + i] = sums.s1[identity * L + q + i];
        all.s2[t * L + p + i] = sums.s2[identity * L + q + i];
      }
    };
    auto fill = [&](std::size_t p, std::size_t len) {
      for (std::size_t i = 0; i < len; ++i) all.k[t * L + p + i] = all.s1[t * L + p + i] = all.s2[t * L + p + i] = 0.0;
    };
    for_each_segment(d, transforms[t], 0, copy, fill);
  }
  GroupStatistics g;
  g.per_transform = L;
  g.mean.resize(T * L);
  g.var.resize(T * L);
  g.rstd.resize(T * L);
  const double m = double(plan.elements_per_stat);
  for (std::size_t i = 0; i < T * L; ++i) {
    const double shift = all.s1[i] / m;
    g.mean[i] = all.k[i] + shift;
    g.var[i] = std::max(0.0, all.s2[i] / m - shift * shift);
    g.rstd[i] = 1.0 / std::sqrt(g.var[i] + eps);
  }
  return g;
}

// Calls work(group, chunked, threaded) for every group: in parallel over
// the groups when there are many, else one after the other, each threaded.
template <class Work>
void for_each_group(const MethodPlan& plan, const std::vector<RunGroup>& groups, Work work) {
  const bool worth_threads = plan.dims.count() >= kMinParallelElements;
  const bool many = groups.size() >= kGroupsForThreads;
  if (!many) {
    for (const RunGroup& group : groups) work(group, true, worth_threads);
    return;
  }
  const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(groups.size());
#pragma omp parallel for schedule(dynamic) if (worth_threads)
  for (std::ptrdiff_t g = 0; g < count; ++g) work(groups[std::size_t(g)], false, false);
}

// out[i] = the engine's normalization of v[i] (normalize_fold and normalized,
// engine.hpp) with statistic o = i if the statistic follows s (else 0) and
// parameter k = i if the parameters follow s (else 0); `fold`: the
// parameters fold into the statistic's coefficients, as the engine folds
// them (plan.has_affine() && plan.params_constant_per_stat()).
template <bool StatFollows, bool ParamFollows>
void normalize_values(const float* __restrict v, std::size_t len, const double* __restrict mean,
                      const double* __restrict rstd, const float* __restrict gamma, const float* __restrict beta,
                      bool fold, float* __restrict out) {
  auto coefficients = [&](std::size_t o, std::size_t k) {
    return fold ? normalize_fold<float>(mean[o], rstd[o] * double(gamma[k]), double(beta[k]))
                : normalize_fold<float>(mean[o], rstd[o], 0.0);
  };
  if constexpr (!StatFollows && !ParamFollows) {  // one statistic, one parameter: one (a, b), hoisted as the engine does
    const NormalizeFold<float> f = coefficients(0, 0);
    const float g = fold ? 1.0f : gamma[0], be = fold ? 0.0f : beta[0];
    const float A = f.a * g, B = std::fma(f.b, g, be);
    for (std::size_t i = 0; i < len; ++i) out[i] = std::fma(v[i] - f.shift, A, B);
  } else {
    for (std::size_t i = 0; i < len; ++i) {
      const std::size_t o = StatFollows ? i : 0, k = ParamFollows ? i : 0;
      const NormalizeFold<float> f = coefficients(o, k);
      out[i] = normalized(v[i], f.shift, f.a, f.b, fold ? 1.0f : gamma[k], fold ? 0.0f : beta[k]);
    }
  }
}

void normalize_plane(bool stat_follows, bool param_follows, const float* v, std::size_t len, const double* mean,
                     const double* rstd, const float* gamma, const float* beta, bool fold, float* out) {
  if (stat_follows) {
    if (param_follows) normalize_values<true, true>(v, len, mean, rstd, gamma, beta, fold, out);
    else normalize_values<true, false>(v, len, mean, rstd, gamma, beta, fold, out);
  } else {
    if (param_follows) normalize_values<false, true>(v, len, mean, rstd, gamma, beta, fold, out);
    else normalize_values<false, false>(v, len, mean, rstd, gamma, beta, fold, out);
  }
}

// gamma and beta as the comparison kernels read them: the arrays, or a
// single 1 and 0 for a plan without parameters (and then they stay put).
struct ParamView {
  const float* gamma;
  const float* beta;
  bool follows;  // the entries follow s along a run
  bool unit;     // gamma = 1 and beta = 0 everywhere
  bool fold;     // the engine folds them into the statistics' coefficients
};
ParamView param_view(const MethodPlan& plan, const Params<float>& params) {
  static const float one = 1.0f, zero = 0.0f;
  if (!plan.has_affine()) return {.gamma = &one, .beta = &zero, .follows = false, .unit = true, .fold = false};
  if (params.gamma.size() != plan.num_params || params.beta.size() != plan.num_params) {
    throw Error("internal: compare_transformed: gamma, beta do not have the plan's " +
                std::to_string(plan.num_params) + " entries");
  }
  const bool unit = std::all_of(params.gamma.begin(), params.gamma.end(), [](float g) { return g == 1.0f; }) &&
                    std::all_of(params.beta.begin(), params.beta.end(), [](float b) { return b == 0.0f; });
  return {.gamma = params.gamma.data(),
          .beta = params.beta.data(),
          .follows = plan.param.s_stride != 0,
          .unit = unit,
          .fold = plan.params_constant_per_stat()};
}

// The coefficients of L positions whose statistics follow s (Methods 1 and
// 2: a statistic per position), folded once per group instead of once per
// element and run, which is most of a comparison's arithmetic otherwise:
//   unit parameters (gamma null): normalize_fold(mean[o], rstd[o], 0), whose
//     fma(v - shift, a, b) is normalized(..., 1, 0) exactly, bar the sign of
//     a zero (fma(b, 1, 0) is +0 for b = -0), which no relative L2 error sees;
//   parameters folded into the statistics (plan.params_constant_per_stat(),
//     one parameter per position): normalize_fold(mean[o], rstd[o] * gamma[o],
//     beta[o]), then a * 1 and fma(b, 1, 0) as normalized(..., 1, 0) takes
//     them (normalize_values).
// The same values, so the same bits.  (L) each
Folds folds_of(const double* mean, const double* rstd, const float* gamma, const float* beta, std::size_t len) {
  Folds folds;
  folds.shift.resize(len);
  folds.a.resize(len);
  folds.b.resize(len);
  for (std::size_t o = 0; o < len; ++o) {
    if (!gamma) {
      const NormalizeFold<float> f = normalize_fold<float>(mean[o], rstd[o], 0.0);
      folds.shift[o] = f.shift;
      folds.a[o] = f.a;
      folds.b[o] = f.b;
      continue;
    }
    const NormalizeFold<float> f = normalize_fold<float>(mean[o], rstd[o] * double(gamma[o]), double(beta[o]));
    folds.shift[o] = f.shift;
    folds.a[o] = f.a * 1.0f;
    folds.b[o] = std::fma(f.b, 1.0f, 0.0f);
  }
  return folds;
}

// out[i] = fma(v[i] - shift[i], a[i], b[i]): a run normalized from its folds.  (len)
void normalize_folded(const float* __restrict v, std::size_t len, const Folds& folds, float* __restrict out) {
  const float* __restrict shift = folds.shift.data();
  const float* __restrict a = folds.a.data();
  const float* __restrict b = folds.b.data();
  for (std::size_t i = 0; i < len; ++i) out[i] = std::fma(v[i] - shift[i], a[i], b[i]);
}

// A plane normalized for a comparison: with the parameters, or with gamma =
// 1, beta = 0 by the unit folds above (one statistic: one fold for the whole
// plane). compare_transformed folds the per-position statistics once per
// group and calls this for the rest.  v, out: (len)
void normalize_for_comparison(bool stat_follows, const ParamView& pv, std::size_t ko, const float* v,
                              std::size_t len, const double* mean, const double* rstd, float* out) {
  if (!pv.unit)
    return normalize_plane(stat_follows, pv.follows, v, len, mean, rstd, pv.gamma + ko, pv.beta + ko, pv.fold, out);
  if (stat_follows) return normalize_folded(v, len, folds_of(mean, rstd, nullptr, nullptr, len), out);
  const NormalizeFold<float> f = normalize_fold<float>(mean[0], rstd[0], 0.0);
  for (std::size_t i = 0; i < len; ++i) out[i] = std::fma(v[i] - f.shift, f.a, f.b);
}

// One comparison's output statistics at a group's base, by position p: (L) each.
struct SideView {
  const double* mean = nullptr;
  const double* rstd = nullptr;
};

// by_q[q] = by_p[p] for every position p of a moved plane that takes its
// value from q (positions without a source are left as they are).  (S) each
template <class U>
void to_source_order(const Dims& d, const InputTransform& t, std::size_t n, const U* by_p, U* by_q) {
  for_each_segment(
      d, t, n,
      [&](std::size_t p, std::size_t q, std::size_t len) {
        for (std::size_t i = 0; i < len; ++i) by_q[q + i] = by_p[p + i];
      },
      [](std::size_t, std::size_t) {});
}

// A side's statistics in source order, for the moved planes of transform t
// (every moved plane moves alike); 0 where no p takes its value from q.  (S) each
struct SourceOrder {
  std::vector<double> mean, rstd;
};
SourceOrder source_order(const Dims& d, const InputTransform& t, const SideView& side) {
  SourceOrder out;
  if (t.kind == Kind::rescale || t.kind == Kind::sample_scale) return out;  // no plane moves
  const std::size_t moved_sample = t.kind == Kind::circular ? t.changed_begin : 0;
  out.mean.assign(d.s(), 0.0);
  out.rstd.assign(d.s(), 0.0);
  to_source_order(d, t, moved_sample, side.mean, out.mean.data());
  to_source_order(d, t, moved_sample, side.rstd, out.rstd.data());
  return out;
}

// One run's share of one comparison's relative L2 error: its lanes added in
// lane order (RunRelL2::add_to), to be added in run order.
struct RunShare {
  double diff2 = 0.0, ref2 = 0.0;
};

RunShare share_of(const RunRelL2& part) {
  RelL2 lanes;
  part.add_to(lanes);
  return RunShare{lanes.diff2, lanes.ref2};
}

// 1 / sqrt(var + eps) of every set of statistics the comparisons name (an
// output's, a computed reference's, x's), computed once each: (num_stats).
// add() while the comparisons are set up; at() (read only, so the groups may
// read it from several threads) afterwards.
class RstdCache {
 public:
  RstdCache(const MethodPlan& plan, double eps) : plan_(plan), eps_(eps) {}
  void add(const Statistics* stats) {
    for (const auto& entry : cache_)
      if (entry.first == stats) return;
    if (stats->mean.size() != plan_.num_stats || stats->var.size() != plan_.num_stats) {
      throw Error("internal: compare_transformed: statistics without the plan's " + std::to_string(plan_.num_stats) +
                  " entries");
    }
    std::vector<double> rstd(plan_.num_stats);
    for (std::size_t o = 0; o < plan_.num_stats; ++o) rstd[o] = 1.0 / std::sqrt(stats->var[o] + eps_);
    cache_.emplace_back(stats, std::move(rstd));
  }
  const double* at(const Statistics* stats) const {
    for (const auto& [known, rstd] : cache_)
      if (known == stats) return rstd.data();
    throw Error("internal: compare_transformed: statistics not set up");
  }

 private:
  const MethodPlan& plan_;
  double eps_;
  std::vector<std::pair<const Statistics*, std::vector<double>>> cache_;
};

// What compare_transformed settles before reading x: each comparison's
// parameters and statistics, and one slot per distinct computed reference
// (parameters, statistics), shared by the comparisons that name it.
struct ComparisonSetup {
  std::vector<ParamView> views;                 // (comparisons)
  std::vector<const Statistics*> reference_stats;  // (comparisons) a computed reference's statistics
  std::vector<std::size_t> reference_slot;      // (comparisons) for a computed reference
  std::vector<std::size_t> slot_comparison;     // (slots) the first comparison of each slot
  bool needs_batch_statistics = false;          // some output is normalized with T(x)'s own statistics
};

ComparisonSetup set_up_comparisons(const MethodPlan& plan, const Statistics& x_stats,
                                   const std::vector<InputTransform>& transforms,
                                   const std::vector<TransformedComparison>& comparisons, RstdCache& rstd) {
  const Dims& d = plan.dims;
  ComparisonSetup setup;
  std::vector<std::pair<const Params<float>*, const Statistics*>> slot_keys;  // (slots)
  for (std::size_t j = 0; j < comparisons.size(); ++j) {
    const TransformedComparison& cmp = comparisons[j];
    if (cmp.transform >= transforms.size() || cmp.n_begin > cmp.n_end || cmp.n_end > d.n) {
      throw Error("internal: compare_transformed: a comparison names no transform or samples out of range");
    }
    setup.views.push_back(param_view(plan, *cmp.params));
    if (cmp.output_stats) rstd.add(cmp.output_stats);
    else setup.needs_batch_statistics = true;
    setup.reference_stats.push_back(cmp.reference_stats ? cmp.reference_stats : &x_stats);
    setup.reference_slot.push_back(0);
    if (cmp.reference) continue;
    rstd.add(setup.reference_stats[j]);
    const auto key = std::make_pair(cmp.params, setup.reference_stats[j]);
    const auto found = std::find(slot_keys.begin(), slot_keys.end(), key);
    setup.reference_slot[j] = std::size_t(found - slot_keys.begin());
    if (found == slot_keys.end()) {
      slot_keys.push_back(key);
      setup.slot_comparison.push_back(j);
    }
  }
  return setup;
}

// Where the statistics follow s, whether a comparison's parameters fold into
// them for every run of the group alike: one parameter per position (they
// follow s, and the engine folds them: plan.params_constant_per_stat()) at
// one parameter base for all the group's runs (Methods 1 and 2). Returns
// that base; none otherwise (the parameters then go per run and element).
std::optional<std::size_t> foldable_params(const MethodPlan& plan, const ParamView& pv, const RunGroup& group) {
  if (!pv.follows || !pv.fold || plan.stat.s_stride == 0) return std::nullopt;
  const std::size_t C = plan.dims.c;
  const std::size_t ko = plan.param.base(group.runs.front() / C, group.runs.front() % C);
  for (std::size_t run : group.runs)
    if (plan.param.base(run / C, run % C) != ko) return std::nullopt;
  return ko;
}

// One comparison's output side within a group: its statistics at each
// position p (by_p), in source order for moved planes where they follow s
// (by_q), and, where they follow s and the parameters fold for the whole
// group (unit ones, or foldable_params), the folded coefficients in either
// order.
struct GroupSide {
  SideView by_p;
  SourceOrder by_q;
  Folds folds_p, folds_q;  // (L) each, or empty
};

// The per-run state of one comparison pass over a group, shared by the
// threads (read only), and what each thread keeps for itself.
struct GroupPass {
  const MethodPlan& plan;
  const float* x;                                        // (N, C, H, W)
  const std::vector<InputTransform>& transforms;
  const std::vector<TransformedComparison>& comparisons;
  const ComparisonSetup& setup;
  const std::vector<GroupSide>& sides;                   // (comparisons)
  const std::vector<SideView>& reference_sides;          // (slots) at the group's base
  const std::vector<Folds>& reference_folds;             // (slots) (L) each, or empty
  bool stat_follows;
};

// (S) each: x' values of the run in source order, f(x') of them, the
// compared pairs packed (translate), gamma and beta in source order; the
// computed references of the run (slots, S) and which are computed.
struct RunScratch {
  explicit RunScratch(std::size_t S, std::size_t slots)
      : values(S), out(S), packed_a(S), packed_b(S), gamma_q(S), beta_q(S), normalized(slots * S), computed(slots) {}
  std::vector<float> values, out, packed_a, packed_b, gamma_q, beta_q, normalized;
  std::vector<char> computed;
  std::size_t valued = 0;  // the transform whose values are in `values`
};

// The reference's run in source order: a tensor's run, or normalize(x)'s with
// the comparison's parameters and reference statistics (the same for every
// transform, so computed once per run and slot).  (S)
const float* reference_run(const GroupPass& pass, std::size_t j, std::size_t run, std::size_t ko,
                           RunScratch& scratch) {
  const TransformedComparison& cmp = pass.comparisons[j];
  const std::size_t S = pass.plan.dims.s();
  if (cmp.reference) return cmp.reference + run * S;
  const std::size_t slot = pass.setup.reference_slot[j];
  float* computed = scratch.normalized.data() + slot * S;
  if (!scratch.computed[slot]) {
    const float* x_run = pass.x + run * S;  // (S)
    if (!pass.reference_folds[slot].shift.empty()) normalize_folded(x_run, S, pass.reference_folds[slot], computed);
    else
      normalize_for_comparison(pass.stat_follows, pass.setup.views[j], ko, x_run, S, pass.reference_sides[slot].mean,
                               pass.reference_sides[slot].rstd, computed);
    scratch.computed[slot] = true;
  }
  return computed;
}

// Comparison j on run (n, c): f(x') of the run, normalized in source order,
// against the reference's run, as the run's share of the relative L2 error.
RunShare compare_run(const GroupPass& pass, std::size_t j, std::size_t run, RunScratch& scratch) {
  const Dims& d = pass.plan.dims;
  const std::size_t S = d.s(), n = run / d.c, c = run % d.c;
  const TransformedComparison& cmp = pass.comparisons[j];
  const InputTransform& t = pass.transforms[cmp.transform];
  const ParamView& pv = pass.setup.views[j];
  const GroupSide& side = pass.sides[j];
  const float* x_run = pass.x + run * S;  // (S)
  const std::size_t ko = pass.plan.has_affine() ? pass.plan.param.base(n, c) : 0;
  const float* source = reference_run(pass, j, run, ko, scratch);  // (S)
  // x' values in source order: x's run, or rescaled.
  const float* v = x_run;
  double a = 1.0, b = 0.0;
  if (values_change(t, n, c, a, b)) {
    if (scratch.valued != cmp.transform) source_order_values(d, t, x_run, n, c, scratch.values.data());
    scratch.valued = cmp.transform;
    v = scratch.values.data();
  }
  // f(x') in source order: with the entries at p = q where the positions are
  // kept or nothing follows s; else the group's source-order entries.
  const bool moved = !keeps_positions(t, n);
  const bool in_source_order = moved && pass.stat_follows;
  const double* mean = in_source_order ? side.by_q.mean.data() : side.by_p.mean;  // (L)
  const double* rstd = in_source_order ? side.by_q.rstd.data() : side.by_p.rstd;  // (L)
  float* out = scratch.out.data();
  RunRelL2 part;
  const Folds& folds = in_source_order ? side.folds_q : side.folds_p;  // (L), or empty
  if (!folds.shift.empty()) {  // coefficients per position, folded for the group
    if (t.kind != Kind::translate) {  // normalized as the pairs are added
      part.add_folded(v, folds, source, S);
      return share_of(part);
    }
    normalize_folded(v, S, folds, out);
  } else if (moved && pv.follows && !pv.unit) {  // the parameters at p, in source order too
    ParamView qv = pv;
    qv.gamma = scratch.gamma_q.data();
    qv.beta = scratch.beta_q.data();
    to_source_order(d, t, n, pv.gamma + ko, scratch.gamma_q.data());
    to_source_order(d, t, n, pv.beta + ko, scratch.beta_q.data());
    normalize_for_comparison(pass.stat_follows, qv, 0, v, S, mean, rstd, out);
  } else {
    if (pv.unit && t.kind != Kind::translate) {  // normalized as the pairs are added
      part.add_normalized(v, mean[0], rstd[0], source, S);
      return share_of(part);
    }
    normalize_for_comparison(pass.stat_follows, pv, ko, v, S, mean, rstd, out);
  }
  if (t.kind != Kind::translate) {
    part.add_segment(out, source, S);
  } else {
    const std::size_t pairs = pack_sourced_rectangle(d, t, out, scratch.packed_a.data());
    pack_sourced_rectangle(d, t, source, scratch.packed_b.data());
    part.add_segment(scratch.packed_a.data(), scratch.packed_b.data(), pairs);
  }
  return share_of(part);
}

// Every comparison's output side at this group's base: the given output
// statistics or T(x)'s (g); where the statistics follow s, a moved value's
// output at p uses the statistics at p: put in source order (by the q each
// p takes its value from) once per group, so that every run is normalized in
// source order, as it lies in x.
std::vector<GroupSide> group_sides(const MethodPlan& plan, const std::vector<InputTransform>& transforms,
                                   const std::vector<TransformedComparison>& comparisons, const ComparisonSetup& setup,
                                   const RunGroup& group, const GroupStatistics& g, const RstdCache& rstd) {
  const bool stat_follows = plan.stat.s_stride != 0;
  const std::size_t L = stat_follows ? plan.dims.s() : 1;
  std::vector<GroupSide> sides(comparisons.size());  // (comparisons)
  for (std::size_t j = 0; j < comparisons.size(); ++j) {
    const TransformedComparison& cmp = comparisons[j];
    GroupSide& side = sides[j];
    if (cmp.output_stats) side.by_p = {cmp.output_stats->mean.data() + group.base, rstd.at(cmp.output_stats) + group.base};
    else side.by_p = {g.mean.data() + cmp.transform * L, g.rstd.data() + cmp.transform * L};
    if (!stat_follows) continue;
    const InputTransform& t = transforms[cmp.transform];
    side.by_q = source_order(plan.dims, t, side.by_p);
    const ParamView& pv = setup.views[j];
    const std::optional<std::size_t> ko = pv.unit ? std::optional<std::size_t>(0) : foldable_params(plan, pv, group);
    if (!ko) continue;
    std::vector<float> gamma_q, beta_q;  // (S) the parameters in source order, for moved planes
    const float* gamma = pv.unit ? nullptr : pv.gamma + *ko;  // (L)
    const float* beta = pv.unit ? nullptr : pv.beta + *ko;    // (L)
    side.folds_p = folds_of(side.by_p.mean, side.by_p.rstd, gamma, beta, L);
    if (side.by_q.mean.empty()) continue;
    if (!pv.unit) {
      gamma_q.assign(L, 0.0f);
      beta_q.assign(L, 0.0f);
      const std::size_t moved_sample = t.kind == Kind::circular ? t.changed_begin : 0;
      to_source_order(plan.dims, t, moved_sample, gamma, gamma_q.data());
      to_source_order(plan.dims, t, moved_sample, beta, beta_q.data());
    }
    side.folds_q = folds_of(side.by_q.mean.data(), side.by_q.rstd.data(), pv.unit ? nullptr : gamma_q.data(),
                            pv.unit ? nullptr : beta_q.data(), L);
  }
  return sides;
}

// Adds each comparison's run shares to its accumulator, in run order.
void add_shares_in_run_order(const std::vector<TransformedComparison>& comparisons, const std::vector<RunShare>& shares,
                             std::size_t runs, std::size_t C) {
  for (std::size_t j = 0; j < comparisons.size(); ++j)
    for (std::size_t r = comparisons[j].n_begin * C; r < comparisons[j].n_end * C; ++r) {
      comparisons[j].acc->diff2 += shares[j * runs + r].diff2;
      comparisons[j].acc->ref2 += shares[j * runs + r].ref2;
    }
}

}  // namespace

std::vector<Statistics> transformed_statistics(const MethodPlan& plan, const float* x,
                                               const std::vector<InputTransform>& transforms) {
  const std::size_t T = transforms.size();
  std::vector<Statistics> stats(T);
  for (Statistics& s : stats) {
    s.mean.resize(plan.num_stats);
    s.var.resize(plan.num_stats);
  }
  const std::vector<RunGroup> groups = run_groups(plan);
  for_each_group(plan, groups, [&](const RunGroup& group, bool chunked, bool threaded) {
    const GroupStatistics g = group_statistics(plan, x, transforms, group, 0.0, chunked, threaded);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t o = 0; o < g.per_transform; ++o) {
        stats[t].mean[group.base + o] = g.mean[t * g.per_transform + o];
        stats[t].var[group.base + o] = g.var[t * g.per_transform + o];
      }
  });
  return stats;
}

void compare_transformed(const MethodPlan& plan, const float* x, const Statistics& x_stats, double eps,
                         const std::vector<InputTransform>& transforms,
                         const std::vector<TransformedComparison>& comparisons) {
  const Dims& d = plan.dims;
  const std::size_t S = d.s(), runs = d.n * d.c, count = comparisons.size();
  const bool stat_follows = plan.stat.s_stride != 0;
  const std::size_t L = stat_follows ? S : 1;
  RstdCache rstd(plan, eps);
  const ComparisonSetup setup = set_up_comparisons(plan, x_stats, transforms, comparisons, rstd);
  const std::size_t slots = setup.slot_comparison.size();
  std::vector<RunShare> shares(count * runs);  // (comparisons, runs)
  const std::vector<RunGroup> groups = run_groups(plan);
  for_each_group(plan, groups, [&](const RunGroup& group, bool chunked, bool threaded) {
    const GroupStatistics g = setup.needs_batch_statistics
                                  ? group_statistics(plan, x, transforms, group, eps, chunked, threaded)
                                  : GroupStatistics{};
    const std::vector<GroupSide> sides = group_sides(plan, transforms, comparisons, setup, group, g, rstd);
    std::vector<SideView> reference_sides(slots);   // (slots)
    std::vector<Folds> reference_folds(slots);  // (slots)
    for (std::size_t slot = 0; slot < slots; ++slot) {
      const std::size_t j = setup.slot_comparison[slot];
      const Statistics* rs = setup.reference_stats[j];
      reference_sides[slot] = {rs->mean.data() + group.base, rstd.at(rs) + group.base};
      const ParamView& pv = setup.views[j];
      const std::optional<std::size_t> ko = pv.unit ? std::optional<std::size_t>(0) : foldable_params(plan, pv, group);
      if (stat_follows && ko) {
        reference_folds[slot] = folds_of(reference_sides[slot].mean, reference_sides[slot].rstd,
                                         pv.unit ? nullptr : pv.gamma + *ko, pv.unit ? nullptr : pv.beta + *ko, L);
      }
    }
    const GroupPass pass{.plan = plan,
                         .x = x,
                         .transforms = transforms,
                         .comparisons = comparisons,
                         .setup = setup,
                         .sides = sides,
                         .reference_sides = reference_sides,
                         .reference_folds = reference_folds,
                         .stat_follows = stat_follows};
    const std::ptrdiff_t group_runs = static_cast<std::ptrdiff_t>(group.runs.size());
#pragma omp parallel if (threaded)
    {
      RunScratch scratch(S, slots);
#pragma omp for schedule(static)
      for (std::ptrdiff_t i = 0; i < group_runs; ++i) {
        const std::size_t run = group.runs[std::size_t(i)], n = run / d.c;
        scratch.valued = transforms.size();
        std::fill(scratch.computed.begin(), scratch.computed.end(), false);
        for (std::size_t j = 0; j < count; ++j) {
          if (n < comparisons[j].n_begin || n >= comparisons[j].n_end) continue;
          shares[j * runs + run] = compare_run(pass, j, run, scratch);
        }
      }
    }
  });
  add_shares_in_run_order(comparisons, shares, runs, d.c);
}

void transformed_run_output(const MethodPlan& plan, const float* x, const InputTransform& transform,
                            const Statistics& stats, const Params<float>& params, double eps, std::size_t n,
                            std::size_t c, float* out) {
  const Dims& d = plan.dims;
  const std::size_t S = d.s(), run = n * d.c + c;
  std::vector<float> plane(S);  // (S) x' of the run
  gather_plane(d, transform, x + run * S, n, c, plane.data());
  const std::size_t o = plan.stat.base(n, c), ko = plan.has_affine() ? plan.param.base(n, c) : 0;
  const bool stat_follows = plan.stat.s_stride != 0;
  const std::size_t L = stat_follows ? S : 1;
  std::vector<double> rstd(L);  // (L)
  for (std::size_t i = 0; i < L; ++i) rstd[i] = 1.0 / std::sqrt(stats.var[o + i] + eps);
  const ParamView pv = param_view(plan, params);
  normalize_plane(stat_follows, pv.follows, plane.data(), S, stats.mean.data() + o, rstd.data(), pv.gamma + ko,
                  pv.beta + ko, pv.fold, out);
}

}  // namespace bnlab::probe
