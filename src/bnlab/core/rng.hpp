#pragma once
// A deterministic random generator: the same seed gives the same bytes on
// every machine, compiler and standard library.
//
// Why each piece is portable:
//   - mt19937_64: its seeding and output sequence are fixed by the C++
//     standard ([rand.eng.mers], [rand.predef]: the 10000th output of a
//     default-constructed engine is 9981545732273789042). Mt19937_64 below
//     writes it out (std::mt19937_64's exact sequence, tested against it) so
//     that it can twist and temper a block of 312 outputs at a time.
//   - uniform(): 53 bits of one draw, (u >> 11) * 2^-53, exact in double.
//     (std::uniform_real_distribution / std::normal_distribution are NOT used:
//     their algorithms differ between libstdc++, libc++ and MSVC.)
//   - normal(): Marsaglia's polar method, written here; its only non-basic
//     operations are std::sqrt (correctly rounded by IEEE 754) and det_log
//     below (basic operations only, no libm).
//   - det_log, det_exp, det_cos_turns: hand-written from +, -, *, /, floor,
//     frexp and ldexp, all exact or correctly rounded in IEEE 754, so they
//     do not depend on the platform's libm (whose log/exp/cos may differ in
//     the last bit). Accuracy: a few ulp, checked against std:: in the tests.
// Assumptions, checked or stated: IEEE 754 binary64 with FLT_EVAL_METHOD == 0
// (static_assert in rng.cpp: no x87 excess precision), and no contraction of
// a*b+c into one FMA: GCC contracts by default even with -std=c++20 and
// -march=native offers FMA, so rng.cpp and synth.cpp forbid it by pragma
// (`#pragma GCC optimize("fp-contract=off")`, Clang: `STDC FP_CONTRACT OFF`).
// Never compile them with -ffast-math.
#include <cstddef>
#include <cstdint>

namespace bnlab {

// The 64-bit Mersenne Twister, output for output std::mt19937_64 (same
// seeding, twist and tempering; the standard fixes all three). One call to
// refill() twists the whole state and tempers the next 312 outputs at once,
// loops the compiler vectorizes, so a draw is an array read.
class Mt19937_64 {
 public:
  static constexpr std::size_t kStateSize = 312;  // n: 64-bit words of state

  explicit Mt19937_64(std::uint64_t seed);

  std::uint64_t operator()() {
    if (next_ == kStateSize) refill();
    return block_[next_++];
  }

  // The next outputs in place, for a consumer that reads several at once:
  // peek() points at the next available() >= 1 of them (refilling first if
  // none is left); skip(k), k <= available(), consumes the first k.
  const std::uint64_t* peek() {
    if (next_ == kStateSize) refill();
    return block_ + next_;
  }
  std::size_t available() const { return kStateSize - next_; }
  void skip(std::size_t k) { next_ += k; }

 private:
  void refill();  // state_ <- its next twist; block_ <- tempered state_; next_ <- 0

  std::uint64_t state_[kStateSize];
  std::uint64_t block_[kStateSize] = {};  // the next outputs: block_[next_], block_[next_ + 1], ...
  std::size_t next_ = kStateSize;    // kStateSize: block_ used up (or not made yet)
};

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // The raw mt19937_64 output (that of std::mt19937_64 seeded alike).
  std::uint64_t next_u64() { return engine_(); }

  // Uniform in [0, 1) on the grid k * 2^-53: one draw, its top 53 bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, bound), bound >= 1: floor(uniform() * bound), one draw.
  std::uint64_t below(std::uint64_t bound);

  // Standard normal N(0, 1) by Marsaglia's polar method. Each accepted pair
  // (u, v) yields two normals: the first is returned, the second is cached
  // and returned by the next call (the stream is a fixed sequence of pairs).
  double normal();

  // Exactly `count` successive normal() values (same bits, same draws of the
  // engine, same spare left behind), several times faster (about 6x with
  // AVX-512): the accept/reject loop runs in stream order, then the accepted
  // pairs are transformed eight at a time.
  void fill_normal(double* out, std::size_t count);

 private:
  Mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Portable elementary functions (see the header comment): a few ulp of
// std::log, std::exp and std::cos(2*pi*t), identical bits everywhere.
double det_log(double x);        // natural logarithm; -inf at 0, NaN below
// y[i] = det_log(x[i]) for i < count, the same bits, eight at a time (x, y: (count)).
void det_log_n(const double* x, double* y, std::size_t count);
double det_exp(double x);        // e^x
double det_cos_turns(double t);  // cos(2*pi*t), t in turns (any finite t)

}  // namespace bnlab
