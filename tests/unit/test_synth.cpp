// The deterministic generator (rng.hpp) and the synthetic feature maps
// (synth.hpp): reproducibility, the moments of each distribution, and the
// structure conv-like promises (channel scales, a shared spatial pattern,
// correlated neighbours). Tolerances are about 5 standard errors of the
// statistic at the stated sample size; each test prints what it saw.
// Shapes: x (N, C, H, W).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/rng.hpp"
#include "bnlab/synth/synth.hpp"

using namespace bnlab;

namespace {

const std::vector<Distribution> kDists = {Distribution::normal, Distribution::conv_like, Distribution::offset};

bool same_bytes(const Array<float>& a, const Array<float>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

double at(const Array<float>& x, const Dims& d, std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  return static_cast<double>(x.data()[((n * d.c + c) * d.h + h) * d.w + w]);
}

struct Moments {
  double mean = 0, var = 0;
};

// Two-pass mean and (biased) variance of one channel over (N, H, W).
Moments channel_moments(const Array<float>& x, const Dims& d, std::size_t c) {
  double sum = 0;
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t s = 0; s < d.s(); ++s) sum += at(x, d, n, c, s / d.w, s % d.w);
  double m = d.n * d.s();
  Moments r;
  r.mean = sum / m;
  double ss = 0;
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t s = 0; s < d.s(); ++s) {
      double dev = at(x, d, n, c, s / d.w, s % d.w) - r.mean;
      ss += dev * dev;
    }
  r.var = ss / m;
  return r;
}

Moments all_moments(const Array<float>& x) {
  double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += x.data()[i];
  Moments r;
  r.mean = sum / static_cast<double>(x.size());
  double ss = 0;
  for (std::size_t i = 0; i < x.size(); ++i) ss += (x.data()[i] - r.mean) * (x.data()[i] - r.mean);
  r.var = ss / static_cast<double>(x.size());
  return r;
}

// Per channel: variance over (h, w) of the batch mean, divided by the mean over
// (h, w) of the variance over the batch. With no shared pattern this is ~1/N.
double pattern_ratio(const Array<float>& x, const Dims& d, std::size_t c) {
  std::vector<double> mean_s(d.s(), 0.0), var_s(d.s(), 0.0);
  for (std::size_t s = 0; s < d.s(); ++s) {
    for (std::size_t n = 0; n < d.n; ++n) mean_s[s] += at(x, d, n, c, s / d.w, s % d.w);
    mean_s[s] /= static_cast<double>(d.n);
    for (std::size_t n = 0; n < d.n; ++n) {
      double dev = at(x, d, n, c, s / d.w, s % d.w) - mean_s[s];
      var_s[s] += dev * dev / static_cast<double>(d.n);
    }
  }
  double grand = 0;
  for (double m : mean_s) grand += m / static_cast<double>(d.s());
  double between = 0, within = 0;
  for (std::size_t s = 0; s < d.s(); ++s) {
    between += (mean_s[s] - grand) * (mean_s[s] - grand) / static_cast<double>(d.s());
    within += var_s[s] / static_cast<double>(d.s());
  }
  return between / within;
}

// Correlation of the residual (x minus its batch mean at (c, h, w)) with its
// circular neighbour at (h + dh, w + dw), pooled over n, h, w; one channel.
double neighbour_correlation(const Array<float>& x, const Dims& d, std::size_t c, std::size_t dh, std::size_t dw) {
  std::vector<double> mean_s(d.s(), 0.0);
  for (std::size_t s = 0; s < d.s(); ++s) {
    for (std::size_t n = 0; n < d.n; ++n) mean_s[s] += at(x, d, n, c, s / d.w, s % d.w);
    mean_s[s] /= static_cast<double>(d.n);
  }
  double sab = 0, saa = 0;
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t h = 0; h < d.h; ++h)
      for (std::size_t w = 0; w < d.w; ++w) {
        std::size_t h2 = (h + dh) % d.h, w2 = (w + dw) % d.w;
        double a = at(x, d, n, c, h, w) - mean_s[h * d.w + w];
        double b = at(x, d, n, c, h2, w2) - mean_s[h2 * d.w + w2];
        sab += a * b;
        saa += a * a;
      }
  return sab / saa;  // both factors have the same pooled variance (circular)
}

}  // namespace

// ---- the generator ----------------------------------------------------------

TEST_CASE("rng: next_u64 is the std::mt19937_64 sequence fixed by the standard") {
  Rng rng(0);
  std::mt19937_64 reference(0);
  for (int i = 0; i < 1000; ++i) REQUIRE(rng.next_u64() == reference());

  // [rand.predef]: the 10000th output of a default-constructed mt19937_64
  // (seed 5489) is 9981545732273789042.
  Rng standard(std::mt19937_64::default_seed);
  std::uint64_t value = 0;
  for (int i = 0; i < 10000; ++i) value = standard.next_u64();
  CHECK(value == 9981545732273789042ULL);
}

TEST_CASE("rng: uniform is the top 53 bits of one draw and lies in 0 <= u < 1") {
  Rng rng(7);
  std::mt19937_64 reference(7);
  double sum = 0;
  const int count = 100000;
  for (int i = 0; i < count; ++i) {
    double u = rng.uniform();
    REQUIRE(u == static_cast<double>(reference() >> 11) * 0x1.0p-53);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  // Largest possible value: (2^53 - 1) / 2^53 < 1.
  CHECK(static_cast<double>(~std::uint64_t{0} >> 11) * 0x1.0p-53 < 1.0);
  double mean = sum / count;
  INFO("mean=" << mean << " (tolerance 0.005, 5 standard errors)");
  CHECK(std::abs(mean - 0.5) < 0.005);
}

TEST_CASE("rng: below(k) stays below k and is uniform") {
  Rng rng(3);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    std::uint64_t k = rng.below(7);
    REQUIRE(k < 7);
    ++counts[k];
  }
  for (int k = 0; k < 7; ++k) {
    INFO("value " << k << " seen " << counts[k] << " times (expected 10000 +- 465, 5 sd)");
    CHECK(std::abs(counts[k] - 10000) < 465);
  }
  CHECK(rng.below(1) == 0);
  CHECK_THROWS_AS(rng.below(0), Error);
}

TEST_CASE("rng: normal has the moments of a standard normal over 1e5 draws") {
  Rng rng(11);
  const int count = 100000;
  std::vector<double> z(count);
  for (auto& v : z) v = rng.normal();
  double mean = 0;
  for (double v : z) mean += v / count;
  double var = 0, m4 = 0, inside = 0;
  for (double v : z) {
    double d = v - mean;
    var += d * d / count;
    m4 += d * d * d * d / count;
    inside += std::abs(v) < 1.0 ? 1.0 / count : 0.0;
  }
  double kurtosis = m4 / (var * var);
  INFO("mean=" << mean << " var=" << var << " kurtosis=" << kurtosis << " P(|z|<1)=" << inside);
  // 5 standard errors: mean 5/sqrt(n), var 5*sqrt(2/n), kurtosis 5*sqrt(24/n), P 5*sqrt(p(1-p)/n).
  CHECK(std::abs(mean) < 0.016);
  CHECK(std::abs(var - 1.0) < 0.023);
  CHECK(std::abs(kurtosis - 3.0) < 0.08);
  CHECK(std::abs(inside - 0.682689) < 0.0074);
}

TEST_CASE("rng: fill_normal continues the same stream as repeated normal()") {
  Rng a(5), b(5);
  std::vector<double> from_a;
  from_a.push_back(a.normal());  // leaves a spare cached
  std::vector<double> chunk(5);
  a.fill_normal(chunk.data(), 5);  // uses the spare, leaves another
  from_a.insert(from_a.end(), chunk.begin(), chunk.end());
  from_a.push_back(a.normal());
  chunk.assign(4, 0.0);
  a.fill_normal(chunk.data(), 4);
  from_a.insert(from_a.end(), chunk.begin(), chunk.end());
  a.fill_normal(chunk.data(), 0);
  a.fill_normal(chunk.data(), 1);
  from_a.push_back(chunk[0]);
  for (std::size_t i = 0; i < from_a.size(); ++i) {
    INFO("draw " << i);
    CHECK(from_a[i] == b.normal());
  }
}

// ---- fill_normal's fast path against the plain algorithm ---------------------

namespace {

// The generator as its description reads, one value at a time, on the
// standard library's engine: uniform = (draw >> 11) 2^-53; Marsaglia's polar
// method: u = 2 uniform - 1, v = 2 uniform - 1, s = u^2 + v^2, retried while
// s >= 1 or s == 0; f = sqrt(-2 ln s / s) with det_log; u f is returned, v f
// kept for the next call.
class ReferenceRng {
 public:
  explicit ReferenceRng(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next_u64() { return engine_(); }
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0, v = 0.0, s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = std::sqrt(-2.0 * det_log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

std::uint64_t bits_of(double x) {
  std::uint64_t b = 0;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// A small LCG picks the schedule of calls (not the generator under test).
struct Schedule {
  std::uint64_t state;
  std::uint64_t next(std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  }
};

}  // namespace

TEST_CASE("rng: Mt19937_64 is std::mt19937_64, call by call and through peek/skip") {
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{5489}, std::uint64_t{0x123456789abcdefULL},
                             ~std::uint64_t{0}}) {
    INFO("seed " << seed);
    Mt19937_64 engine(seed);
    std::mt19937_64 reference(seed);
    Schedule schedule{seed};
    for (int call = 0; call < 3000; ++call) {  // about 16 refills, odd and even offsets
      if (schedule.next(3) == 0) {
        const std::uint64_t* block = engine.peek();
        const std::size_t available = engine.available();
        REQUIRE(available >= 1);
        REQUIRE(available <= Mt19937_64::kStateSize);
        const std::size_t take = schedule.next(available + 1);
        for (std::size_t j = 0; j < take; ++j) REQUIRE(block[j] == reference());
        engine.skip(take);
      } else {
        REQUIRE(engine() == reference());
      }
    }
  }
}

TEST_CASE("rng: fill_normal gives the plain polar method's bits for every count, spare and interleaving") {
  const std::vector<std::size_t> counts = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 255, 256, 257, 511, 512, 513, 1000, 4095, 4096, 4097, 100003};
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{5}, std::uint64_t{987654321}, ~std::uint64_t{0}}) {
    for (std::size_t count : counts) {
      for (int lead : {0, 1, 2}) {  // draws before: none, one normal (a spare waits), one uniform (odd offset)
        INFO("seed " << seed << ", count " << count << ", lead " << lead);
        Rng rng(seed);
        ReferenceRng reference(seed);
        if (lead == 1) REQUIRE(bits_of(rng.normal()) == bits_of(reference.normal()));
        if (lead == 2) REQUIRE(rng.uniform() == reference.uniform());
        std::vector<double> out(count + 1, -7.0);  // one past the end must stay untouched
        rng.fill_normal(out.data(), count);
        std::size_t mismatches = 0;
        for (std::size_t j = 0; j < count; ++j) mismatches += bits_of(out[j]) != bits_of(reference.normal());
        CHECK(mismatches == 0);
        CHECK(out[count] == -7.0);
        // The spare and the engine are left as the reference leaves them.
        CHECK(bits_of(rng.normal()) == bits_of(reference.normal()));
        CHECK(bits_of(rng.normal()) == bits_of(reference.normal()));
        CHECK(rng.next_u64() == reference.next_u64());
      }
    }
  }
}

TEST_CASE("rng: fill_normal interleaved with uniform, normal, below and next_u64 stays the plain stream") {
  for (std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{11}, std::uint64_t{2026}}) {
    INFO("seed " << seed);
    Rng rng(seed);
    ReferenceRng reference(seed);
    Schedule schedule{seed};
    std::vector<double> out;
    std::size_t values = 0, mismatches = 0;
    for (int call = 0; call < 4000; ++call) {
      switch (schedule.next(6)) {
        case 0: mismatches += rng.uniform() != reference.uniform(); break;
        case 1: mismatches += rng.next_u64() != reference.next_u64(); break;
        case 2: mismatches += bits_of(rng.normal()) != bits_of(reference.normal()); break;
        case 3: mismatches += rng.below(1000) != static_cast<std::uint64_t>(reference.uniform() * 1000.0); break;
        default: {
          const std::size_t count = schedule.next(2) == 0 ? schedule.next(20) : schedule.next(800);
          out.assign(count, 0.0);
          rng.fill_normal(out.data(), count);
          for (double z : out) mismatches += bits_of(z) != bits_of(reference.normal());
          values += count;
        }
      }
    }
    INFO(values << " values from fill_normal");
    CHECK(values > 100000);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("rng: det_log_n (eight lanes at a time) has det_log's bits, edge cases included") {
  const double inf = std::numeric_limits<double>::infinity();
  const double tiny = std::numeric_limits<double>::denorm_min();
  const double smallest = std::numeric_limits<double>::min();
  std::vector<double> x = {1.0, 0.5, 2.0, 0.0, -0.0, -1.0, inf, -inf, std::numeric_limits<double>::quiet_NaN(),
                           tiny, smallest, std::nextafter(smallest, 0.0), std::numeric_limits<double>::max(),
                           0x1.0p-104, 0x1.0p-52, std::nextafter(1.0, 0.0), std::nextafter(1.0, 2.0)};
  // Both sides of the m < sqrt(1/2) fold, in several binades.
  for (int e = -60; e <= 60; e += 7) {
    const double edge = std::ldexp(0.70710678118654752440, e);
    for (double y : {edge, std::nextafter(edge, 0.0), std::nextafter(edge, inf)}) x.push_back(y);
  }
  // s of the polar method: u^2 + v^2 of grid points, across (0, 1).
  for (std::uint64_t k = 1; k < 20000; ++k) x.push_back(static_cast<double>(k * k) * 0x1.0p-30);
  std::mt19937_64 bits(17);
  for (int j = 0; j < 20000; ++j) {  // any bit pattern: signs, subnormals, inf and NaN of every kind
    const std::uint64_t b = bits();
    double y = 0;
    std::memcpy(&y, &b, sizeof y);
    x.push_back(y);
  }
  for (int j = 0; j < 20000; ++j) x.push_back(std::ldexp(0.5 + 0.5 * static_cast<double>(bits() >> 11) * 0x1.0p-53, int(bits() % 2000) - 1000));
  // Every offset, so each special value is seen in every lane and in the scalar tail.
  for (std::size_t offset = 0; offset < 9; ++offset) {
    const std::size_t count = x.size() - offset;
    std::vector<double> y(count);
    det_log_n(x.data() + offset, y.data(), count);
    std::size_t mismatches = 0;
    for (std::size_t j = 0; j < count; ++j) {
      const bool same = bits_of(y[j]) == bits_of(det_log(x[offset + j]));
      if (!same && mismatches++ < 5) UNSCOPED_INFO("x = " << x[offset + j] << ": " << y[j] << " vs " << det_log(x[offset + j]));
    }
    INFO("offset " << offset);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("rng: det_log det_exp and det_cos_turns agree with the libm to a few ulp") {
  const double ulp = std::numeric_limits<double>::epsilon();
  double worst_log = 0, worst_exp = 0, worst_cos = 0;
  for (double x = 1e-300; x < 1e300; x *= 1.0371) {
    double ref = std::log(x);
    worst_log = std::max(worst_log, std::abs(det_log(x) - ref) / std::max(std::abs(ref), 1e-300));
  }
  for (double x = 0.5; x < 2.0; x += 0.000123) {  // near 1, where ln x is small
    double ref = std::log(x);
    if (ref != 0.0) worst_log = std::max(worst_log, std::abs(det_log(x) - ref) / std::abs(ref));
  }
  for (double x = -700; x < 700; x += 0.0137) {
    double ref = std::exp(x);
    worst_exp = std::max(worst_exp, std::abs(det_exp(x) - ref) / ref);
  }
  for (double t = -3; t < 3; t += 0.000731) {
    worst_cos = std::max(worst_cos, std::abs(det_cos_turns(t) - std::cos(6.283185307179586 * t)));
  }
  INFO("relative error: log " << worst_log / ulp << " ulp, exp " << worst_exp / ulp
                              << " ulp; cos absolute error " << worst_cos);
  CHECK(worst_log < 4 * ulp);
  CHECK(worst_exp < 4 * ulp);
  CHECK(worst_cos < 1e-14);  // std::cos(2*pi*t) itself carries the rounding of 2*pi*t
  CHECK(det_log(1.0) == 0.0);
  CHECK(det_log(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(det_log(-1.0)));
  CHECK(det_exp(0.0) == 1.0);
  CHECK(det_cos_turns(0.0) == 1.0);
  CHECK(det_cos_turns(0.5) == -1.0);
  CHECK(det_cos_turns(0.25) == 0.0);
}

// ---- names --------------------------------------------------------------------

TEST_CASE("distribution names round-trip and each has a description") {
  for (Distribution dist : kDists) {
    INFO(to_string(dist));
    CHECK(parse_distribution(to_string(dist), "--dist") == dist);
    CHECK(describe(dist).size() > 20);
  }
  CHECK(to_string(Distribution::conv_like) == "conv-like");
}

TEST_CASE("parse_distribution: an unknown name is an error that names it and lists the valid ones") {
  CHECK(parse_distribution("Normal", "--dist") == Distribution::normal);  // case-insensitive, like every enumeration
  CHECK(parse_distribution("CONV-LIKE", "--dist") == Distribution::conv_like);
  for (std::string bad : {"foo", "conv_like", ""}) {
    INFO("input \"" << bad << "\"");
    try {
      parse_distribution(bad, "--dist");
      FAIL("no error");
    } catch (const Error& e) {
      std::string message = e.what();
      INFO(message);
      CHECK(message == "--dist: unknown distribution \"" + bad + "\" (valid: normal, conv-like, offset)");
    }
  }
}

// ---- determinism --------------------------------------------------------------

TEST_CASE("synthesize: the same spec gives the same bytes") {
  for (Distribution dist : kDists) {
    INFO(to_string(dist));
    SynthSpec spec{Dims{3, 5, 7, 6}, dist, 42};
    Array<float> a = synthesize(spec), b = synthesize(spec);
    CHECK(a.shape() == std::vector<std::size_t>{3, 5, 7, 6});
    CHECK(same_bytes(a, b));
  }
}

TEST_CASE("synthesize: another seed or distribution gives other values") {
  for (Distribution dist : kDists) {
    INFO(to_string(dist));
    Array<float> a = synthesize({Dims{2, 3, 4, 5}, dist, 0});
    Array<float> b = synthesize({Dims{2, 3, 4, 5}, dist, 1});
    std::size_t equal = 0;
    for (std::size_t i = 0; i < a.size(); ++i) equal += a.data()[i] == b.data()[i];
    INFO(equal << " of " << a.size() << " elements equal");
    CHECK(equal < a.size() / 10);
  }
  CHECK_FALSE(same_bytes(synthesize({Dims{2, 3, 4, 5}, Distribution::normal, 0}),
                         synthesize({Dims{2, 3, 4, 5}, Distribution::conv_like, 0})));
}

TEST_CASE("synthesize: a smaller batch is the prefix of a larger one (same seed)") {
  for (Distribution dist : kDists) {
    INFO(to_string(dist));
    Array<float> small = synthesize({Dims{2, 3, 5, 4}, dist, 9});
    Array<float> large = synthesize({Dims{5, 3, 5, 4}, dist, 9});
    CHECK(std::memcmp(small.data(), large.data(), small.size() * sizeof(float)) == 0);
  }
}

// ---- the distributions ----------------------------------------------------------

TEST_CASE("synthesize normal: mean 0 and variance 1 in every channel") {
  Dims d{16, 4, 16, 16};  // 16384 elements, 4096 per channel
  Array<float> x = synthesize({d, Distribution::normal, 1});
  Moments all = all_moments(x);
  INFO("mean=" << all.mean << " var=" << all.var << " (tolerances 0.04, 0.055: 5 standard errors)");
  CHECK(std::abs(all.mean) < 0.04);
  CHECK(std::abs(all.var - 1.0) < 0.055);
  for (std::size_t c = 0; c < d.c; ++c) {
    Moments m = channel_moments(x, d, c);
    INFO("channel " << c << " mean=" << m.mean << " var=" << m.var);
    CHECK(std::abs(m.mean) < 0.08);
    CHECK(std::abs(m.var - 1.0) < 0.11);
  }
}

TEST_CASE("synthesize offset: mean 1e4 and std 1") {
  Dims d{8, 4, 32, 32};  // 32768 elements
  Array<float> x = synthesize({d, Distribution::offset, 2});
  Moments all = all_moments(x);
  INFO("mean=" << all.mean << " std=" << std::sqrt(all.var)
               << " (tolerances 0.03 and 0.02: 5 standard errors, plus the float ulp 0.001 at 1e4)");
  CHECK(std::abs(all.mean - 1e4) < 0.03);
  CHECK(std::abs(std::sqrt(all.var) - 1.0) < 0.02);
}

TEST_CASE("synthesize conv-like: channel scales span more than two decades") {
  for (std::size_t channels : {2, 3, 8, 64}) {
    Dims d{8, channels, 8, 8};
    Array<float> x = synthesize({d, Distribution::conv_like, 3});
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (std::size_t c = 0; c < d.c; ++c) {
      double s = std::sqrt(channel_moments(x, d, c).var);
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    INFO("C=" << channels << ": channel std from " << lo << " to " << hi << ", ratio " << hi / lo
              << " (scales differ by 1000x; the pattern adds a factor in [0.8, 1.25])");
    CHECK(hi / lo > 100);
    CHECK(hi / lo < 3000);
  }
}

TEST_CASE("synthesize conv-like: C = 1 is one channel of scale 1") {
  Dims d{64, 1, 16, 16};
  Array<float> x = synthesize({d, Distribution::conv_like, 4});
  double s = std::sqrt(channel_moments(x, d, 0).var);
  INFO("std=" << s << " (expected sqrt(1 + pattern RMS^2) in [1.12, 1.41], +-0.1 sampling)");
  CHECK(s > 1.0);
  CHECK(s < 1.5);
}

TEST_CASE("synthesize conv-like: a spatial mean pattern is shared by all samples") {
  // between / within is ~1/N without a pattern, and pattern RMS^2 >= 0.25 with one.
  Dims d{32, 6, 12, 12};
  Array<float> conv = synthesize({d, Distribution::conv_like, 5});
  Array<float> white = synthesize({d, Distribution::normal, 5});
  for (std::size_t c = 0; c < d.c; ++c) {
    double with = pattern_ratio(conv, d, c), without = pattern_ratio(white, d, c);
    INFO("channel " << c << ": var_hw(batch mean) / mean_hw(batch var) = " << with << " (normal: " << without
                    << ", 1/N = " << 1.0 / d.n << ")");
    CHECK(with > 0.2);
    CHECK(without < 2.0 / d.n);
  }
}

TEST_CASE("synthesize conv-like: neighbouring pixels are positively correlated") {
  // The 3x3 box shares 6 of its 9 pixels with a neighbour's: correlation 2/3.
  Dims d{16, 4, 16, 16};
  Array<float> conv = synthesize({d, Distribution::conv_like, 6});
  Array<float> white = synthesize({d, Distribution::normal, 6});
  for (std::size_t c = 0; c < d.c; ++c) {
    double across_w = neighbour_correlation(conv, d, c, 0, 1), across_h = neighbour_correlation(conv, d, c, 1, 0);
    double far = neighbour_correlation(conv, d, c, 0, 3), control = neighbour_correlation(white, d, c, 0, 1);
    INFO("channel " << c << ": corr(w, w+1)=" << across_w << " corr(h, h+1)=" << across_h
                    << " corr(w, w+3)=" << far << " normal corr(w, w+1)=" << control);
    CHECK(across_w > 0.55);
    CHECK(across_w < 0.78);
    CHECK(across_h > 0.55);
    CHECK(across_h < 0.78);
    CHECK(std::abs(far) < 0.1);  // beyond the box: independent
    CHECK(std::abs(control) < 0.1);
  }
}

// ---- shapes and errors ------------------------------------------------------------

TEST_CASE("synthesize: awkward shapes (N = 1; H = W = 1; odd sizes) are filled with finite values") {
  const std::vector<Dims> shapes = {{1, 1, 1, 1}, {1, 3, 5, 7}, {4, 5, 1, 1}, {1, 2, 1, 9},
                                    {3, 1, 2, 2}, {2, 3, 7, 2}, {1, 64, 3, 3}};
  for (Distribution dist : kDists) {
    for (const Dims& d : shapes) {
      INFO(to_string(dist) << " " << shape_to_string(d.to_vector()));
      Array<float> x = synthesize({d, dist, 8});
      REQUIRE(x.shape() == d.to_vector());
      bool finite = true;
      for (std::size_t i = 0; i < x.size(); ++i) finite = finite && std::isfinite(x.data()[i]);
      CHECK(finite);
      CHECK(same_bytes(x, synthesize({d, dist, 8})));
    }
  }
}

TEST_CASE("synthesize conv-like: H = W = 1 still has channels of different scales") {
  Dims d{256, 4, 1, 1};
  Array<float> x = synthesize({d, Distribution::conv_like, 10});
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (std::size_t c = 0; c < d.c; ++c) {
    double s = std::sqrt(channel_moments(x, d, c).var);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  INFO("channel std from " << lo << " to " << hi);
  CHECK(hi / lo > 100);
}

TEST_CASE("synthesize: a zero extent is an error naming the shape") {
  try {
    synthesize({Dims{2, 0, 4, 4}, Distribution::normal, 0});
    FAIL("no error");
  } catch (const Error& e) {
    std::string message = e.what();
    INFO(message);
    CHECK(message.find("(2, 0, 4, 4)") != std::string::npos);
  }
}
