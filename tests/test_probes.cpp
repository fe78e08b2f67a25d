// The probes as an API: the exact JSON keys, determinism across runs and
// thread counts, degenerate shapes (H = W = 1, a constant channel), the
// finite-difference sub-batch of a large input, the shift set and the helpers.
// (The properties of docs/properties.md themselves are in test_properties.cpp.)
#include <catch2/catch.hpp>

#include <omp.h>

#include <cstring>
#include <string>

#include "bnlab/engine/engine.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/probes.hpp"
#include "test_helpers.hpp"

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

TEST_CASE("circular_shift, translate and their comparisons agree on the index convention") {
  Dims d{2, 3, 4, 5};
  Array<float> x = normal_tensor(d, 4);
  probe::Shift s{1, 2};
  Array<float> xs = probe::circular_shift(x, s, 0, 1);
  // out[n, c, (h + dh) % H, (w + dw) % W] = x[n, c, h, w], only sample 0.
  CHECK(xs(0, 1, 2, 4) == x(0, 1, 1, 2));
  CHECK(xs(0, 2, 0, 0) == x(0, 2, 3, 3));
  CHECK(xs(1, 2, 0, 0) == x(1, 2, 0, 0));
  probe::RelL2 acc;
  probe::add_shifted(acc, xs, x, s, 0, 1);
  probe::add_plain(acc, xs, x, 1, 2);
  CHECK(acc.value() == 0.0);
  Array<float> xt = probe::translate(x, s);
  CHECK(xt(1, 1, 0, 4) == 0.0f);
  CHECK(xt(1, 1, 3, 1) == 0.0f);
  CHECK(xt(1, 1, 3, 4) == x(1, 1, 2, 2));
  probe::RelL2 inside;
  probe::add_translated(inside, xt, x, s);
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
