// The probes as an API: the exact JSON keys, determinism across runs and
// thread counts, degenerate shapes (H = W = 1, a constant channel), the
// finite-difference sub-batch of a large input, the shift set and the helpers;
// summarize_tensor, the output probe's statistics and the gradient probe's
// norm and identities against plain float64 references.
// (The properties of docs/properties.md themselves are in test_properties.cpp.)
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <string>

#include "bnlab/engine/engine.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/probes/tensor_summary.hpp"
#include "support/test_support.hpp"
#include "support/transform_reference.hpp"

using namespace bnlab;
using Json = nlohmann::ordered_json;

namespace {

const std::vector<std::string> kMethods = {"1", "2", "3", "ln", "in", "gn:2"};

using testing::plan_of;

// Seeded N(2, 3) data: (N, C, H, W)
Array<float> normal_tensor(const Dims& d, std::uint64_t seed) {
  return testing::to_array<float>(testing::normals(d.count(), seed, 2.0, 3.0), d.to_vector());
}

std::vector<std::string> keys(const Json& j) {
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
  return out;
}

std::string all_probes(const std::string& id, const Array<float>& x, const Dims& d, double eps = 1e-5) {
  MethodPlan l = plan_of(id, d);
  return probe_output(l, x, eps).to_json().dump() + probe_gradients(l, x, eps, 7).to_json().dump() + probe_invariance(l, x, eps, 7).to_json().dump();
}

bool mentions(const Json& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.get<std::string>().find(text) != std::string::npos) return true;
  return false;
}

using Keys = std::vector<std::string>;

// summarize_tensor's moments, every sum sequential in float64 in memory order
// (the definitions of tensor_summary.hpp, nothing shared with it).  z: (N, C, H, W)
TensorSummary plain_summary(const Array<float>& z, const Dims& d) {
  const std::size_t N = d.n, C = d.c, S = d.s();
  auto at = [&](std::size_t n, std::size_t c, std::size_t s) { return double(z.data()[(n * C + c) * S + s]); };
  TensorSummary r;
  for (std::size_t c = 0; c < C; ++c) {
    double sum = 0, sq = 0, between = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t s = 0; s < S; ++s) sum += at(n, c, s);
    const double mean = sum / double(N * S);
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t s = 0; s < S; ++s) sq += (at(n, c, s) - mean) * (at(n, c, s) - mean);
    for (std::size_t s = 0; s < S; ++s) {
      double m = 0;  // m_c(s)
      for (std::size_t n = 0; n < N; ++n) m += at(n, c, s);
      m /= double(N);
      between += double(N) * (m - mean) * (m - mean);
    }
    r.channel_mean.push_back(mean);
    r.channel_var.push_back(sq / double(N * S));
    r.pattern_fraction.push_back(sq > 0 ? between / sq : 0.0);
  }
  for (std::size_t n = 0; n < N; ++n) {
    double sum = 0, sq = 0;
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) sum += at(n, c, s);
    const double mean = sum / double(C * S);
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) sq += (at(n, c, s) - mean) * (at(n, c, s) - mean);
    r.sample_mean.push_back(mean);
    r.sample_var.push_back(sq / double(C * S));
  }
  for (std::size_t s = 0; s < S; ++s) {
    double sum = 0, sq = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = 0; c < C; ++c) sum += at(n, c, s);
    const double mean = sum / double(N * C);
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = 0; c < C; ++c) sq += (at(n, c, s) - mean) * (at(n, c, s) - mean);
    r.location_mean.push_back(mean);
    r.location_var.push_back(sq / double(N * C));
  }
  double sum = 0, sq = 0;
  r.min = r.max = at(0, 0, 0);
  for (std::size_t i = 0; i < z.size(); ++i) {
    sum += z.data()[i];
    r.min = std::min(r.min, double(z.data()[i]));
    r.max = std::max(r.max, double(z.data()[i]));
  }
  r.mean = sum / double(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) sq += (z.data()[i] - r.mean) * (z.data()[i] - r.mean);
  r.std = std::sqrt(sq / double(z.size()));
  return r;
}

// |a - b| <= 1e-12 * max(|b|, scale): a sum of the same terms in another order.
bool close(double a, double b, double scale = 0.0) { return std::abs(a - b) <= 1e-12 * std::max(std::abs(b), scale); }

bool all_close(const std::vector<double>& a, const std::vector<double>& b, double scale = 0.0) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!close(a[i], b[i], scale)) return false;
  return true;
}

bool same_bits(const TensorSummary& a, const TensorSummary& b) {
  auto same = [](const std::vector<double>& u, const std::vector<double>& v) {
    return u.size() == v.size() && std::memcmp(u.data(), v.data(), u.size() * sizeof(double)) == 0;
  };
  const double sa[] = {a.mean, a.std, a.min, a.max}, sb[] = {b.mean, b.std, b.min, b.max};
  return same(a.channel_mean, b.channel_mean) && same(a.channel_var, b.channel_var) &&
         same(a.pattern_fraction, b.pattern_fraction) && same(a.sample_mean, b.sample_mean) &&
         same(a.sample_var, b.sample_var) && same(a.location_mean, b.location_mean) &&
         same(a.location_var, b.location_var) && std::memcmp(sa, sb, sizeof sa) == 0;
}

}  // namespace

TEST_CASE("probe blocks carry exactly the documented keys, in order") {
  Dims d{4, 4, 5, 6};
  Array<float> x = normal_tensor(d, 1);
  MethodPlan l = plan_of("3", d);
  Json o = probe_output(l, x, 1e-5).to_json();
  CHECK(keys(o) == Keys{"per_channel", "per_location", "per_sample", "global", "pattern_fraction_input",
                        "pattern_fraction_output", "pattern_survival", "channel_std_ratio", "eps", "notes"});
  CHECK(keys(o["per_channel"]) == Keys{"mean", "var", "max_abs_mean", "max_abs_var_minus_one"});
  CHECK(o["per_channel"]["mean"].size() == 4);
  CHECK(keys(o["per_location"]) == Keys{"max_abs_mean", "max_abs_var_minus_one"});
  CHECK(keys(o["per_sample"]) == Keys{"max_abs_mean", "max_abs_var_minus_one"});
  CHECK(keys(o["global"]) == Keys{"mean", "std", "min", "max"});

  Json g = probe_gradients(l, x, 1e-5, 7).to_json();
  CHECK(keys(g) == Keys{"dy", "dx_norm", "dgamma_norm", "dbeta_norm", "finite_difference", "identities", "notes"});
  CHECK(keys(g["dy"]) == Keys{"dist", "seed"});
  CHECK(g["dy"]["seed"].get<std::uint64_t>() == 8);  // seed + 1 (Stream::dy)
  CHECK(keys(g["finite_difference"]) == Keys{"coordinates", "x_coordinates", "gamma_coordinates", "step",
                                             "step_unit", "samples_used", "max_rel_error"});
  CHECK(keys(g["identities"]) == Keys{"sum_dx_max_rel", "sum_dx_xhat_max_rel", "sum_dx_xhat_eps"});

  Json v = probe_invariance(l, x, 1e-5, 7).to_json();
  CHECK(keys(v) == Keys{"shifts", "constant_statistics", "per_sample_shift", "global_shift", "global_shift_uniform_params", "eval_shift",
                        "translate", "channel_rescale", "other_spatial_size", "eps_used", "notes"});
  CHECK(keys(v["per_sample_shift"]) == Keys{"rel_error", "leakage"});
  CHECK(keys(v["eval_shift"]) == Keys{"mode", "rel_error"});
  CHECK(keys(v["other_spatial_size"]) == Keys{"applicable", "reason"});
}

TEST_CASE("probe output is byte-identical across runs and thread counts") {
  Dims d{6, 4, 7, 9};
  Array<float> x = normal_tensor(d, 2);
  const int threads = omp_get_max_threads();
  for (const std::string& id : kMethods) {
    INFO("method " << id);
    omp_set_num_threads(1);
    std::string one = all_probes(id, x, d);
    omp_set_num_threads(std::max(2, threads));
    std::string many = all_probes(id, x, d);
    std::string again = all_probes(id, x, d);
    CHECK(one == many);
    CHECK(many == again);
  }
  omp_set_num_threads(threads);
}

TEST_CASE("the seed changes the random parts and only them") {
  Dims d{4, 4, 5, 6};
  Array<float> x = normal_tensor(d, 3);
  MethodPlan l = plan_of("1", d);
  CHECK(probe_gradients(l, x, 1e-5, 7).to_json()["dx_norm"] != probe_gradients(l, x, 1e-5, 8).to_json()["dx_norm"]);
  CHECK(probe_invariance(l, x, 1e-5, 7).to_json()["global_shift_uniform_params"] ==
        probe_invariance(l, x, 1e-5, 8).to_json()["global_shift_uniform_params"]);
}

TEST_CASE("probe_samples: a per-sample norm divides a sample's scale out; a batch norm keeps it") {
  Dims d{4, 4, 5, 6};
  Array<float> x = normal_tensor(d, 5);
  for (const std::string& id : kMethods) {
    INFO("method " << id);
    const MethodPlan plan = plan_of(id, d);
    const SamplesProbe s = probe_samples(plan, x);
    const bool per_sample = !plan.method.batch_dependent();
    // Doubling sample 0: f(2 x0) = f(x0) for ln, in, gn (to rounding); a batch norm's output moves.
    if (per_sample) CHECK(s.sample_scale_rel_change < 1e-6);
    else CHECK(s.sample_scale_rel_change > 0.1);
    // Alone (N = 1) or in the batch: the same for ln, in, gn; not for 1 and 3; undefined for 2.
    if (id == "2") {
      CHECK_FALSE(s.batch_independent_rel_error.has_value());
      CHECK(mentions(s.to_json()["notes"], "single value"));
    } else {
      REQUIRE(s.batch_independent_rel_error.has_value());
      if (per_sample) CHECK(*s.batch_independent_rel_error < 1e-6);
      else CHECK(*s.batch_independent_rel_error > 1e-2);
    }
    CHECK(keys(s.to_json()) == Keys{"sample_scale_kept", "batch_independent", "notes"});
  }
  // N = 1: there are no other samples.
  Dims one{1, 4, 5, 6};
  const SamplesProbe s = probe_samples(plan_of("3", one), normal_tensor(one, 6));
  CHECK(s.batch_independent_rel_error == 0.0);
  CHECK(mentions(s.to_json()["notes"], "N = 1"));
}

TEST_CASE("the shift set: (1,0), (0,1), (1,2), (H/2, W/3) mod (H, W), without (0,0) and repeats") {
  auto text = [](const Dims& d) { return probe::shifts_json(probe::shift_set(d)).dump(); };
  CHECK(text({2, 2, 16, 16}) == "[[1,0],[0,1],[1,2],[8,5]]");
  CHECK(text({2, 2, 2, 3}) == "[[1,0],[0,1],[1,2],[1,1]]");
  CHECK(text({2, 2, 2, 2}) == "[[1,0],[0,1]]");  // (1, 2) -> (1, 0) and (H/2, W/3) = (1, 0): repeats
  CHECK(text({2, 2, 1, 5}) == "[[0,1],[0,2]]");
  CHECK(text({2, 2, 1, 1}) == "[]");
}

TEST_CASE("the reference shift, translation and comparisons agree on the index convention") {
  Dims d{2, 3, 4, 5};
  Array<float> x = normal_tensor(d, 4);
  probe::Shift s{1, 2};
  Array<float> xs = testing::circular_shift(x, s, 0, 1);
  // out[n, c, (h + dh) % H, (w + dw) % W] = x[n, c, h, w], only sample 0.
  CHECK(xs(0, 1, 2, 4) == x(0, 1, 1, 2));
  CHECK(xs(0, 2, 0, 0) == x(0, 2, 3, 3));
  CHECK(xs(1, 2, 0, 0) == x(1, 2, 0, 0));
  probe::RelL2 acc;
  testing::add_shifted(acc, xs, x, s, 0, 1);
  testing::add_plain(acc, xs, x, 1, 2);
  CHECK(acc.value() == 0.0);
  Array<float> xt = testing::translate(x, s);
  CHECK(xt(1, 1, 0, 4) == 0.0f);
  CHECK(xt(1, 1, 3, 1) == 0.0f);
  CHECK(xt(1, 1, 3, 4) == x(1, 1, 2, 2));
  probe::RelL2 inside;
  testing::add_translated(inside, xt, x, s);
  CHECK(inside.value() == 0.0);
}

TEST_CASE("trained-like parameters are positive gammas that vary along every parameter axis") {
  Dims d{2, 3, 4, 5};
  Params<float> p = probe::trained_like_params(plan_of("2", d), 7);  // (C, H, W)
  REQUIRE(p.gamma.dimension() == 3);
  for (float g : p.gamma) CHECK(g > 0.0f);
  CHECK(p.gamma(0, 0, 0) != p.gamma(1, 0, 0));
  CHECK(p.gamma(0, 0, 0) != p.gamma(0, 1, 0));
  CHECK(p.gamma(0, 0, 0) != p.gamma(0, 0, 1));
  CHECK(p.beta(0, 0, 0) != p.beta(0, 0, 1));
  CHECK(probe::trained_like_params(make_plan(parse_method("3", "t"), AffineMode::none, d), 7).gamma.dimension() == 0);
}

TEST_CASE("H = W = 1: no crash, no shift, notes say why") {
  Dims d{4, 3, 1, 1};
  Array<float> x = normal_tensor(d, 5);
  for (const std::string id : {"1", "2", "3", "ln"}) {
    INFO("method " << id);
    MethodPlan l = plan_of(id, d);
    Json o = probe_output(l, x, 1e-5).to_json();
    CHECK(o["pattern_survival"].is_null());
    CHECK(mentions(o["notes"], "H = W = 1"));
    Json v = probe_invariance(l, x, 1e-5, 7).to_json();
    CHECK(v["shifts"].empty());
    CHECK(mentions(v["notes"], "H = W = 1"));
    CHECK(v["per_sample_shift"]["rel_error"] == 0.0);
    CHECK(v["global_shift"]["rel_error"] == 0.0);
    CHECK(v["eval_shift"]["rel_error"] == 0.0);
    CHECK(v["translate"]["rel_error"] == 0.0);
    CHECK(v["channel_rescale"]["rel_error"].is_number());
    Json g = probe_gradients(l, x, 1e-5, 7).to_json();
    CHECK(g["finite_difference"]["max_rel_error"].get<double>() < 1e-6);
  }
}

TEST_CASE("a constant channel: every number finite (no null), counted, and notes explain it") {
  Dims d{4, 4, 5, 6};
  Array<float> x = normal_tensor(d, 6);
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t h = 0; h < d.h; ++h)
      for (std::size_t w = 0; w < d.w; ++w) x(n, 1, h, w) = 2.5f;
  for (const std::string& id : kMethods) {
    INFO("method " << id);
    MethodPlan l = plan_of(id, d);
    Json o = probe_output(l, x, 1e-5).to_json();
    Json g = probe_gradients(l, x, 1e-5, 7).to_json();
    Json v = probe_invariance(l, x, 1e-5, 7).to_json();
    std::string dumped = o.dump() + g.dump() + v.dump();
    INFO(dumped);
    CHECK(dumped.find("null") == std::string::npos);
    CHECK(mentions(o["notes"], "constant"));
    // Methods whose statistics can lie inside one channel get a zero variance there.
    bool per_channel = id == "2" || id == "3" || id == "in";
    CHECK(v["eps_used"].get<double>() == kEpsConstantSafe);  // whatever the input
    // Counted: the constant channel is 1 statistic for Method 3, H*W for Method 2, N for in.
    const std::size_t constant = id == "3" ? 1 : id == "2" ? d.s() : id == "in" ? d.n : 0;
    CHECK(v["constant_statistics"].get<std::size_t>() == constant);
    // A constant statistic is a fact about the input: the invariances still hold exactly for the
    // methods that have them (they would fail at eps = 1e-5 on a low-variance channel).
    if (id == "3" || id == "in") CHECK(v["channel_rescale"]["rel_error"].get<double>() < 1e-6);
    if (id == "3") CHECK(v["per_sample_shift"]["rel_error"].get<double>() < 1e-6);
    CHECK(mentions(v["notes"], "zero variance") == per_channel);
    CHECK(mentions(g["notes"], "zero variance") == per_channel);
    CHECK(g["finite_difference"]["max_rel_error"].get<double>() < 1e-6);
  }
}

TEST_CASE("N = 1: leakage is 0 with a note") {
  Dims d{1, 4, 5, 6};
  Array<float> x = normal_tensor(d, 8);
  Json v = probe_invariance(plan_of("3", d), x, 1e-5, 7).to_json();
  CHECK(v["per_sample_shift"]["leakage"] == 0.0);
  CHECK(mentions(v["notes"], "N = 1"));
}

TEST_CASE("train mode undefined (method 2 with N = 1) is the caller's job: the probes refuse it") {
  Dims d{1, 2, 3, 4};
  Array<float> x = normal_tensor(d, 9);
  MethodPlan l = plan_of("2", d);
  CHECK_THROWS_AS(probe_output(l, x, 1e-5).to_json(), Error);
  CHECK_THROWS_AS(probe_gradients(l, x, 1e-5, 7).to_json(), Error);
  CHECK_THROWS_AS(probe_invariance(l, x, 1e-5, 7).to_json(), Error);
}

TEST_CASE("a large input runs the finite differences on a leading sub-batch") {
  Dims d{3, 64, 80, 80};  // 1,228,800 elements > 2^20: the leading 2 samples
  Array<float> x = normal_tensor(d, 10);
  Json g = probe_gradients(plan_of("3", d), x, 1e-5, 7).to_json();
  INFO(g.dump());
  CHECK(g["finite_difference"]["samples_used"] == 2.0);
  CHECK(mentions(g["notes"], "leading 2 of 3 samples"));
  CHECK(g["finite_difference"]["max_rel_error"].get<double>() < 1e-6);
}

TEST_CASE("other_spatial_size explains itself for the batch-free methods") {
  Dims d{2, 4, 6, 6};
  Array<float> x = normal_tensor(d, 11);
  Json ln = probe_invariance(plan_of("ln", d), x, 1e-5, 7).to_json()["other_spatial_size"];
  CHECK(ln["applicable"] == false);
  CHECK(ln["reason"] == "gamma, beta have shape (4, 6, 6), tied to H x W = 6 x 6; an input of 7 x 8 needs (4, 7, 8)");
  Json in = probe_invariance(plan_of("in", d), x, 1e-5, 7).to_json()["other_spatial_size"];
  CHECK(in["applicable"] == true);
  CHECK(in["reason"] ==
        "statistics are recomputed per sample at any size and parameters (4,) do not depend on H x W: any H x W works");
}

TEST_CASE("affine none and channel: the probes run, none reports zero parameter gradients") {
  Dims d{4, 4, 5, 6};
  Array<float> x = normal_tensor(d, 12);
  for (const std::string& id : kMethods) {
    INFO("method " << id);
    MethodPlan none = make_plan(parse_method(id, "t"), AffineMode::none, d);
    Json g = probe_gradients(none, x, 1e-5, 7).to_json();
    CHECK(g["dgamma_norm"] == 0.0);
    CHECK(g["dbeta_norm"] == 0.0);
    CHECK(g["finite_difference"]["gamma_coordinates"] == 0.0);
    CHECK(g["finite_difference"]["max_rel_error"].get<double>() < 1e-6);
    CHECK(mentions(g["notes"], "affine none"));
    Json v = probe_invariance(none, x, 1e-5, 7).to_json();
    CHECK(v["global_shift"] == v["global_shift_uniform_params"]);  // no parameters to be trained
    MethodPlan channel = make_plan(parse_method(id, "t"), AffineMode::channel, d);
    Json gc = probe_gradients(channel, x, 1e-5, 7).to_json();
    CHECK(gc["finite_difference"]["gamma_coordinates"] == 4.0);
    CHECK(gc["finite_difference"]["max_rel_error"].get<double>() < 1e-6);
    Json vc = probe_invariance(channel, x, 1e-5, 7).to_json();
    // Per-channel parameters: the transform's size dependence is the statistics' alone.
    CHECK(vc["other_spatial_size"]["applicable"] == (id != "1" && id != "2"));
  }
}

TEST_CASE("summarize_tensor: every moment against a plain float64 reference") {
  // Several channel blocks, S not a multiple of 8, S < 8, S = 1, N = 1; channel 1 constant.
  for (const Dims& d : {Dims{3, 70, 5, 7}, Dims{2, 5, 4, 4}, Dims{4, 9, 2, 3}, Dims{5, 3, 1, 1}, Dims{1, 4, 6, 6}}) {
    INFO("dims " << d.n << "x" << d.c << "x" << d.h << "x" << d.w);
    Array<float> z = normal_tensor(d, 21);
    for (std::size_t n = 0; n < d.n; ++n)
      for (std::size_t s = 0; s < d.s(); ++s) z.data()[(n * d.c + 1) * d.s() + s] = 4.5f;
    const TensorSummary want = plain_summary(z, d);
    const TensorSummary all = summarize_tensor(z, d, SummaryScope::everything);
    CHECK(all_close(all.channel_mean, want.channel_mean));
    CHECK(all_close(all.channel_var, want.channel_var, 1.0));
    CHECK(all.channel_var[1] == 0.0);
    CHECK(all.pattern_fraction[1] == 0.0);
    CHECK(all_close(all.pattern_fraction, want.pattern_fraction));
    CHECK(all_close(all.sample_mean, want.sample_mean, 1.0));
    CHECK(all_close(all.sample_var, want.sample_var));
    CHECK(all_close(all.location_mean, want.location_mean, 1.0));
    CHECK(all_close(all.location_var, want.location_var));
    CHECK(close(all.mean, want.mean, 1.0));
    CHECK(close(all.std, want.std));
    CHECK(all.min == want.min);
    CHECK(all.max == want.max);

    // The smaller scopes: what they compute and nothing else; the channels'
    // sums have one order whatever the blocks (compare's output probes read
    // x's channels from its channels_and_global summary), the others may be
    // blocked otherwise.
    const TensorSummary global = summarize_tensor(z, d, SummaryScope::channels_and_global);
    CHECK(global.channel_mean == all.channel_mean);
    CHECK(global.channel_var == all.channel_var);
    CHECK(global.pattern_fraction == all.pattern_fraction);
    CHECK(all_close(global.sample_var, want.sample_var));
    CHECK(close(global.mean, want.mean, 1.0));
    CHECK(close(global.std, want.std));
    CHECK((global.min == want.min && global.max == want.max));
    CHECK(global.location_mean.empty());
    const TensorSummary channels = summarize_tensor(z, d, SummaryScope::channels);
    CHECK(channels.channel_mean == all.channel_mean);
    CHECK(channels.channel_var == all.channel_var);
    CHECK(channels.pattern_fraction == all.pattern_fraction);
    CHECK(channels.sample_mean.empty());
    CHECK(channels.location_var.empty());
  }
}

TEST_CASE("summarize_tensor: the same bits for 1, 2 and 3 threads") {
  const Dims d{4, 130, 9, 9};  // 26 blocks of 5 channels
  const Array<float> z = normal_tensor(d, 22);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const TensorSummary one = summarize_tensor(z, d, SummaryScope::everything);
  omp_set_num_threads(2);
  const TensorSummary two = summarize_tensor(z, d, SummaryScope::everything);
  omp_set_num_threads(3);
  const TensorSummary three = summarize_tensor(z, d, SummaryScope::everything);
  omp_set_num_threads(saved);
  CHECK(same_bits(one, two));
  CHECK(same_bits(one, three));
}

TEST_CASE("probe_output's statistics are those of the forward's output, against a plain float64 reference") {
  const Dims d{4, 6, 5, 7};
  const Array<float> x = normal_tensor(d, 23);
  for (const std::string& id : kMethods) {
    INFO("method " << id);
    const MethodPlan plan = plan_of(id, d);
    const OutputProbe o = probe_output(plan, x, 1e-5);
    const TensorSummary y = plain_summary(forward_train(plan, x, identity_params<float>(plan), 1e-5, nullptr), d);
    const TensorSummary in = plain_summary(x, d);
    Deviation location, sample;
    for (std::size_t s = 0; s < d.s(); ++s) location.add(y.location_mean[s], y.location_var[s]);
    for (std::size_t n = 0; n < d.n; ++n) sample.add(y.sample_mean[n], y.sample_var[n]);
    CHECK(all_close(o.channel_mean, y.channel_mean, 1.0));
    CHECK(all_close(o.channel_var, y.channel_var, 1.0));
    CHECK(close(o.per_location.max_abs_mean, location.max_abs_mean, 1.0));
    CHECK(close(o.per_location.max_abs_var_minus_one, location.max_abs_var_minus_one, 1.0));
    CHECK(close(o.per_sample.max_abs_mean, sample.max_abs_mean, 1.0));
    CHECK(close(o.per_sample.max_abs_var_minus_one, sample.max_abs_var_minus_one, 1.0));
    CHECK(close(o.global_mean, y.mean, 1.0));
    CHECK(close(o.global_std, y.std));
    CHECK((o.global_min == y.min && o.global_max == y.max));
    double f_in = 0, f_out = 0;
    for (std::size_t c = 0; c < d.c; ++c) {
      f_in += in.pattern_fraction[c];
      f_out += y.pattern_fraction[c];
    }
    CHECK(close(o.pattern_fraction_input, f_in / double(d.c)));
    CHECK(close(o.pattern_fraction_output, f_out / double(d.c), 1.0));
  }
}

TEST_CASE("probe_gradients' norm and identities against a plain float64 reference over the engine's dx") {
  const Dims d{4, 6, 5, 7};
  for (bool constant_channel : {false, true}) {
    // A constant channel gives zero-variance statistics: sum_dx_xhat then uses eps itself.
    Array<float> x = normal_tensor(d, 24);
    if (constant_channel)
      for (std::size_t n = 0; n < d.n; ++n)
        for (std::size_t s = 0; s < d.s(); ++s) x.data()[(n * d.c + 2) * d.s() + s] = -1.25f;
    for (const std::string& id : kMethods) {
      INFO("method " << id << (constant_channel ? ", a constant channel" : ""));
      const MethodPlan plan = plan_of(id, d);
      const double eps = 1e-5;
      const GradientsProbe g = probe_gradients(plan, x, eps, 7);
      const Array<float> dy = upstream_gradient(d, 7);
      const Params<float> params = identity_params<float>(plan);
      const Statistics stats = batch_statistics(plan, x);
      CHECK(g.sum_dx_xhat_eps == (probe::zero_variance_count(stats) > 0 ? eps : 0.0));
      // max over statistics o of |sum_{S_o} v| / sum_{S_o} |v|
      auto max_rel = [&](const Array<float>& dx, double eps_xhat, bool times_xhat) {
        std::vector<double> sum(plan.num_stats, 0.0), abs_sum(plan.num_stats, 0.0);
        for (std::size_t n = 0; n < d.n; ++n)
          for (std::size_t c = 0; c < d.c; ++c)
            for (std::size_t s = 0; s < d.s(); ++s) {
              const std::size_t i = (n * d.c + c) * d.s() + s, o = plan.stat.base(n, c) + s * plan.stat.s_stride;
              const double xhat = (double(x.data()[i]) - stats.mean[o]) * (1.0 / std::sqrt(stats.var[o] + eps_xhat));
              const double v = times_xhat ? dx.data()[i] * xhat : dx.data()[i];
              sum[o] += v;
              abs_sum[o] += std::abs(v);
            }
        double worst = 0;
        for (std::size_t o = 0; o < plan.num_stats; ++o)
          if (abs_sum[o] > 0) worst = std::max(worst, std::abs(sum[o]) / abs_sum[o]);
        return worst;
      };
      const Array<float> dx = backward(plan, Mode::train, x, dy, params, stats, eps).dx;
      double dx_sq = 0;
      for (float v : dx) dx_sq += double(v) * double(v);
      CHECK(close(g.dx_norm, std::sqrt(dx_sq)));
      // The same terms summed per statistic in memory order: the same bits.
      CHECK(g.sum_dx_max_rel == max_rel(dx, 0.0, false));
      const Array<float> dx_xhat = backward(plan, Mode::train, x, dy, params, stats, g.sum_dx_xhat_eps).dx;
      CHECK(g.sum_dx_xhat_max_rel == max_rel(dx_xhat, g.sum_dx_xhat_eps, true));
    }
  }
}
