// The invariance probe's fused forward (probes/detail/transformed_forward.hpp)
// against the materialized path it replaces: T(x) written out, its
// statistics in plain float64, the engine's normalize, the plain comparisons
// of transform_reference.hpp. Every method, every kind of transform, shifts
// with and without a column offset; one run's output; and the bits for 1, 2
// and 3 threads.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/detail/transformed_forward.hpp"
#include "bnlab/probes/method_context.hpp"
#include "support/test_support.hpp"
#include "support/transform_reference.hpp"

using namespace bnlab;
using probe::InputTransform;
using probe::RelL2;
using probe::Shift;
using testing::plan_of;

namespace {

Array<float> normal_tensor(const Dims& d, std::uint64_t seed) {  // (N, C, H, W)
  return testing::to_array<float>(testing::normals(d.count(), seed, 2.0, 3.0), d.to_vector());
}

// T(x) written out, by the plain definitions (transform_reference.hpp for
// the shifts).  x, out: (N, C, H, W)
Array<float> materialize(const InputTransform& t, const Array<float>& x, const Dims& d) {
  if (t.kind == InputTransform::Kind::circular) {
    return testing::circular_shift(x, t.shift, t.changed_begin, t.changed_end);
  }
  if (t.kind == InputTransform::Kind::translate) return testing::translate(x, t.shift);
  Array<float> out = Array<float>::from_shape(d.to_vector());
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w) {
          const double v = x(n, c, h, w);
          const bool changed = t.kind == InputTransform::Kind::rescale || (n >= t.changed_begin && n < t.changed_end);
          const double a = t.kind == InputTransform::Kind::rescale ? t.scale[c] : t.factor;
          const double b = t.kind == InputTransform::Kind::rescale ? t.offset[c] : 0.0;
          out(n, c, h, w) = changed ? float(a * v + b) : float(v);
        }
  return out;
}

// Plain float64 mean and biased variance per statistic (two passes).
Statistics plain_statistics(const MethodPlan& plan, const Array<float>& x) {
  const Dims& d = plan.dims;
  const std::size_t S = d.s();
  std::vector<double> sum(plan.num_stats, 0.0), sq(plan.num_stats, 0.0);
  auto stat = [&](std::size_t n, std::size_t c, std::size_t s) { return plan.stat.base(n, c) + s * plan.stat.s_stride; };
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t s = 0; s < S; ++s) sum[stat(n, c, s)] += x.data()[(n * d.c + c) * S + s];
  Statistics out;
  for (double v : sum) out.mean.push_back(v / double(plan.elements_per_stat));
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t s = 0; s < S; ++s) {
        const double dev = x.data()[(n * d.c + c) * S + s] - out.mean[stat(n, c, s)];
        sq[stat(n, c, s)] += dev * dev;
      }
  for (double v : sq) out.var.push_back(v / double(plan.elements_per_stat));
  return out;
}

// The comparison the materialized path makes: a = normalize(T(x)) with
// `stats`, b = normalize(x) with x's statistics, paired at the sources.
RelL2 materialized_comparison(const MethodPlan& plan, const InputTransform& t, const Array<float>& x,
                              const Statistics& t_stats, const Statistics& x_stats, const Params<float>& params,
                              double eps, std::size_t n_begin, std::size_t n_end) {
  const Dims& d = plan.dims;
  const Array<float> xt = materialize(t, x, d);  // (N, C, H, W)
  Array<float> a = Array<float>::from_shape(d.to_vector());
  Array<float> b = Array<float>::from_shape(d.to_vector());
  normalize_into(plan, xt.data(), t_stats, params, eps, a.data());
  normalize_into(plan, x.data(), x_stats, params, eps, b.data());
  RelL2 acc;
  switch (t.kind) {
    case InputTransform::Kind::circular:
      if (n_begin >= t.changed_begin && n_end <= t.changed_end) {
        testing::add_shifted(acc, a, b, t.shift, n_begin, n_end);
      } else {
        testing::add_plain(acc, a, b, n_begin, n_end);
      }
      break;
    case InputTransform::Kind::translate:
      testing::add_translated(acc, a, b, t.shift);
      break;
    case InputTransform::Kind::rescale:
    case InputTransform::Kind::sample_scale:
      testing::add_plain(acc, a, b, n_begin, n_end);
      break;
  }
  return acc;
}

std::vector<InputTransform> every_kind(const Dims& d) {
  std::vector<double> scale, offset;
  for (std::size_t c = 0; c < d.c; ++c) {
    scale.push_back(0.25 + 0.5 * double(c));
    offset.push_back(1.0 - 0.75 * double(c));
  }
  return {InputTransform::circular(Shift{1, 2}, 0, 1),   InputTransform::circular(Shift{2, 0}, 0, d.n),
          InputTransform::circular(Shift{0, 3}, 0, d.n), InputTransform::translate(Shift{1, 2}),
          InputTransform::translate(Shift{2, 0}),        InputTransform::rescale(scale, offset),
          InputTransform::scale_samples(2.0, 0, 1)};
}

const char* const kMethods[] = {"1", "2", "3", "ln", "in", "gn:2"};

}  // namespace

TEST_CASE("transformed statistics equal float64 statistics of the materialized transform") {
  const Dims d{3, 4, 5, 7};
  const Array<float> x = normal_tensor(d, 11);
  for (const char* id : kMethods) {
    const MethodPlan plan = plan_of(id, d);
    const Statistics pivot = batch_statistics(plan, x);
    const std::vector<InputTransform> transforms = every_kind(d);
    const std::vector<Statistics> got = probe::transformed_statistics(plan, x.data(), transforms);
    REQUIRE(got.size() == transforms.size());
    for (std::size_t t = 0; t < transforms.size(); ++t) {
      const Statistics want = plain_statistics(plan, materialize(transforms[t], x, d));
      for (std::size_t o = 0; o < plan.num_stats; ++o) {
        INFO("method " << id << ", transform " << t << ", statistic " << o);
        CHECK(got[t].mean[o] == Approx(want.mean[o]).epsilon(1e-12).margin(1e-12));
        CHECK(got[t].var[o] == Approx(want.var[o]).epsilon(1e-11));
      }
    }
  }
}

TEST_CASE("a constant statistic keeps variance 0 exactly under every transform that keeps it constant") {
  const Dims d{2, 3, 4, 5};
  Array<float> x = normal_tensor(d, 5);
  for (std::size_t n = 0; n < d.n; ++n)  // channel 1 constant
    std::fill(x.data() + (n * d.c + 1) * d.s(), x.data() + (n * d.c + 2) * d.s(), 0.1f);
  const MethodPlan plan = plan_of("3", d);
  const Statistics pivot = batch_statistics(plan, x);
  REQUIRE(pivot.var[1] == 0.0);
  const std::vector<InputTransform> transforms = {InputTransform::circular(Shift{1, 1}, 0, 1),
                                                  InputTransform::circular(Shift{2, 3}, 0, d.n)};
  for (const Statistics& s : probe::transformed_statistics(plan, x.data(), transforms)) {
    CHECK(s.var[1] == 0.0);
    CHECK(s.mean[1] == pivot.mean[1]);
  }
}

TEST_CASE("fused comparisons equal the materialized path's, for every method and transform") {
  const Dims d{3, 4, 5, 7};
  const Array<float> x = normal_tensor(d, 12);
  const double eps = kEpsConstantSafe;
  for (const char* id : kMethods) {
    const MethodPlan plan = plan_of(id, d);
    const Statistics pivot = batch_statistics(plan, x);
    const Params<float> trained = probe::trained_like_params(plan, 3);
    const Params<float> unit = identity_params<float>(plan);
    const std::vector<InputTransform> transforms = every_kind(d);
    const std::vector<Statistics> t_stats = probe::transformed_statistics(plan, x.data(), transforms);
    Array<float> reference = Array<float>::from_shape(d.to_vector());  // (N, C, H, W) f(x), unit parameters
    normalize_into(plan, x.data(), pivot, unit, eps, reference.data());
    for (std::size_t t = 0; t < transforms.size(); ++t) {
      const bool one_sample = transforms[t].kind == InputTransform::Kind::circular && transforms[t].changed_end == 1;
      const std::size_t n_end = one_sample ? 1 : d.n;
      RelL2 unit_acc, trained_acc, rest_acc;
      std::vector<probe::TransformedComparison> comparisons = {
          {.transform = t, .n_begin = 0, .n_end = n_end, .params = &unit, .reference = reference.data(), .acc = &unit_acc},
          {.transform = t, .n_begin = 0, .n_end = n_end, .params = &trained, .reference = nullptr, .acc = &trained_acc}};
      if (one_sample) {
        comparisons.push_back(
            {.transform = t, .n_begin = 1, .n_end = d.n, .params = &unit, .reference = reference.data(), .acc = &rest_acc});
      }
      probe::compare_transformed(plan, x.data(), pivot, eps, transforms, comparisons);
      INFO("method " << id << ", transform " << t);
      const RelL2 want_unit = materialized_comparison(plan, transforms[t], x, t_stats[t], pivot, unit, eps, 0, n_end);
      const RelL2 want_trained =
          materialized_comparison(plan, transforms[t], x, t_stats[t], pivot, trained, eps, 0, n_end);
      CHECK(unit_acc.ref2 == Approx(want_unit.ref2).epsilon(1e-12));
      CHECK(unit_acc.diff2 == Approx(want_unit.diff2).epsilon(1e-12).margin(1e-24));
      CHECK(trained_acc.ref2 == Approx(want_trained.ref2).epsilon(1e-12));
      CHECK(trained_acc.diff2 == Approx(want_trained.diff2).epsilon(1e-12).margin(1e-24));
      if (one_sample) {
        const RelL2 want_rest = materialized_comparison(plan, transforms[t], x, t_stats[t], pivot, unit, eps, 1, d.n);
        CHECK(rest_acc.ref2 == Approx(want_rest.ref2).epsilon(1e-12));
        CHECK(rest_acc.diff2 == Approx(want_rest.diff2).epsilon(1e-12).margin(1e-24));
      }
    }
  }
}

TEST_CASE("a reference computed on the fly is the engine's normalize, bit for bit") {
  // The same comparison against the engine's output as a tensor and against
  // the fused kernel's own normalize(x): the same values in the same order
  // give the same sums, bit for bit, only if the two formulas agree exactly.
  const Dims d{3, 4, 5, 7};
  const Array<float> x = normal_tensor(d, 13);
  for (const char* id : kMethods) {
    const MethodPlan plan = plan_of(id, d);
    const Statistics pivot = batch_statistics(plan, x);
    const Params<float> trained = probe::trained_like_params(plan, 4);
    Array<float> engine = Array<float>::from_shape(d.to_vector());  // (N, C, H, W)
    normalize_into(plan, x.data(), pivot, trained, 1e-5, engine.data());
    const std::vector<InputTransform> transforms = every_kind(d);
    for (std::size_t t = 0; t < transforms.size(); ++t) {
      RelL2 with_tensor, computed;
      probe::compare_transformed(plan, x.data(), pivot, 1e-5, transforms,
                                 {{t, 0, d.n, &trained, engine.data(), &with_tensor},
                                  {t, 0, d.n, &trained, nullptr, &computed}});
      INFO("method " << id << ", transform " << t);
      CHECK(with_tensor.diff2 == computed.diff2);
      CHECK(with_tensor.ref2 == computed.ref2);
    }
  }
}

TEST_CASE("fused statistics and comparisons are the same bits for 1, 2 and 3 threads") {
  const Dims d{4, 16, 64, 66};  // above kMinParallelElements: the passes go parallel
  const Array<float> x = normal_tensor(d, 14);
  for (const char* id : {"1", "2", "3", "ln"}) {
    const MethodPlan plan = plan_of(id, d);
    const Statistics pivot = batch_statistics(plan, x);
    const Params<float> trained = probe::trained_like_params(plan, 5);
    const std::vector<InputTransform> transforms = every_kind(d);
    auto run = [&](int threads) {
      omp_set_num_threads(threads);
      std::vector<double> bits;
      for (const Statistics& s : probe::transformed_statistics(plan, x.data(), transforms)) {
        bits.insert(bits.end(), s.mean.begin(), s.mean.end());
        bits.insert(bits.end(), s.var.begin(), s.var.end());
      }
      std::vector<RelL2> accs(transforms.size());
      std::vector<probe::TransformedComparison> comparisons;
      for (std::size_t t = 0; t < transforms.size(); ++t) {
        comparisons.push_back(
            {.transform = t, .n_begin = 0, .n_end = d.n, .params = &trained, .reference = nullptr, .acc = &accs[t]});
      }
      probe::compare_transformed(plan, x.data(), pivot, kEpsConstantSafe, transforms, comparisons);
      for (const RelL2& a : accs) {
        bits.push_back(a.diff2);
        bits.push_back(a.ref2);
      }
      return bits;
    };
    const std::vector<double> one = run(1), two = run(2), three = run(3);
    omp_set_num_threads(omp_get_num_procs());
    INFO("method " << id);
    CHECK(one == two);
    CHECK(one == three);
  }
}

TEST_CASE("one run's transformed output is the engine's forward of the materialized transform") {
  const Dims d{3, 4, 5, 7};
  const Array<float> x = normal_tensor(d, 15);
  for (const char* id : kMethods) {
    const MethodPlan plan = plan_of(id, d);
    const Params<float> trained = probe::trained_like_params(plan, 6);
    for (const InputTransform& t : every_kind(d)) {
      const Statistics stats = probe::transformed_statistics(plan, x.data(), {t}).front();
      Array<float> want = Array<float>::from_shape(d.to_vector());  // (N, C, H, W)
      normalize_into(plan, materialize(t, x, d).data(), stats, trained, 1e-5, want.data());
      std::vector<float> got(d.s());  // (H, W)
      for (std::size_t n = 0; n < d.n; ++n)
        for (std::size_t c = 0; c < d.c; ++c) {
          probe::transformed_run_output(plan, x.data(), t, stats, trained, 1e-5, n, c, got.data());
          INFO("method " << id << ", run (" << n << ", " << c << ")");
          CHECK(std::equal(got.begin(), got.end(), want.data() + (n * d.c + c) * d.s()));
        }
    }
  }
}

TEST_CASE("statistics copied from the identity's are the very sums a materialized transform gives") {
  // Methods 1 and 2: a shift of every sample and a translation take their
  // sums from the identity's at the source positions; summing the
  // materialized transform as the identity gives the same bits.
  const Dims d{4, 3, 6, 5};
  const Array<float> x = normal_tensor(d, 16);
  for (const char* id : {"1", "2"}) {
    const MethodPlan plan = plan_of(id, d);
    for (const InputTransform& t : {InputTransform::circular(Shift{1, 2}, 0, d.n), InputTransform::circular(Shift{3, 0}, 0, d.n),
                                    InputTransform::translate(Shift{1, 2}), InputTransform::translate(Shift{0, 3})}) {
      const Statistics copied = probe::transformed_statistics(plan, x.data(), {t}).front();
      const Statistics summed =
          probe::transformed_statistics(plan, materialize(t, x, d).data(), {InputTransform::identity()}).front();
      INFO("method " << id);
      CHECK(copied.mean == summed.mean);
      CHECK(copied.var == summed.var);
    }
  }
}
