#pragma once
// How a kernel sees the data that is not the tensor itself: per-statistic
// arrays (mean, rstd, ...) and per-parameter arrays (gamma, beta), each a
// Source (the data and its element -> entry IndexMap). Along one run of S
// contiguous elements such data either follows s (stride 1) or stays put
// (stride 0); Side and Bundle read it either way, and dispatch() compiles
// each kernel once per combination, so that its inner loop knows which.
//
// Internal header: included by the engine's .cpp files only.
#include <cstddef>
#include <type_traits>
#include <vector>

#include "bnlab/engine/detail/reduce.hpp"
#include "bnlab/engine/method.hpp"

namespace bnlab::detail {

// A per-statistic or per-parameter array as the kernels see it: the data and
// the element -> entry map. unit<T>() is a single 1 with an all-zero map (the
// gamma of affine none, or the weight of plain, unweighted sums).
template <class U>
struct Source {
  const U* data = nullptr;
  IndexMap map;
  bool varies() const { return map.s_stride != 0; }  // follows s along a run
};

template <class T>
Source<T> unit() {
  static const T one(1);
  return {&one, IndexMap{}};
}

template <class T>
Source<T> zero() {
  static const T nothing(0);
  return {&nothing, IndexMap{}};
}

// Calls f(flags...) with one std::bool_constant per bool, so that each inner
// loop is compiled with its index pattern known: an index that follows s
// (stride 1) or stays put along the run (stride 0).
template <class F>
void dispatch(F&& f) {
  f();
}
template <class F, class... Rest>
void dispatch(F&& f, bool first, Rest... rest) {
  if (first) dispatch([&](auto... flags) { f(std::true_type{}, flags...); }, rest...);
  else dispatch([&](auto... flags) { f(std::false_type{}, flags...); }, rest...);
}

// Per-statistic or per-parameter data seen from one piece of a run: when it
// follows s, element i of the piece reads data[base + s_begin + i] (as the
// tag's type); otherwise the run's single entry data[base], read once.
template <bool Varies, class U>
struct Side;
template <class U>
struct Side<true, U> {
  const U* p;
  template <class V>
  V operator()(V tag, std::size_t i) const { return load(tag, p + i); }
};
template <class U>
struct Side<false, U> {
  double value;
  template <class V>
  double operator()(V, std::size_t) const { return value; }
};
template <bool Varies, class U>
Side<Varies, U> side(const U* data, std::size_t base, std::size_t s_begin) {
  if constexpr (Varies) return {data + base + s_begin};
  else return {double(data[base])};
}
template <bool Varies, class U>
Side<Varies, U> side(const Source<U>& source, std::size_t n, std::size_t c, std::size_t s_begin) {
  return side<Varies>(source.data, source.map.base(n, c), s_begin);
}

// The same for a bundle of rows (Rows) over one piece. When the data
// follows s, every row of the bundle reads the same block (tiles group rows
// that way): at(tag, i) loads it once and row(v, r) hands it to each row.
// Otherwise each row has its own single entry: at() loads nothing and
// row(v, r) returns row r's entry.
template <bool Varies, class U>
struct Bundle;
template <class U>
struct Bundle<true, U> {
  const U* p;
  template <class V>
  V at(V tag, std::size_t i) const { return load(tag, p + i); }
  template <class V>
  V row(V v, std::size_t) const { return v; }
};
template <class U>
struct Bundle<false, U> {
  double value[kRows];
  template <class V>
  double at(V, std::size_t) const { return 0.0; }
  template <class V>
  double row(V, std::size_t r) const { return value[r]; }
};
template <bool Varies, class U>
Bundle<Varies, U> bundle(const Source<U>& source, const Dims& dims, const Rows& rows, std::size_t s_begin) {
  auto base = [&](std::size_t r) { return source.map.base(rows.run[r] / dims.c, rows.run[r] % dims.c); };
  if constexpr (Varies) {
    return {source.data + base(0) + s_begin};
  } else {
    Bundle<false, U> b{};
    for (std::size_t r = 0; r < rows.count; ++r) b.value[r] = double(source.data[base(r)]);
    return b;
  }
}

// The maps among the statistics and `sources` whose data follows s: an
// elementwise pass walks tiles grouped by them (none: runs in memory order).
template <class... Sources>
std::vector<const IndexMap*> followed_maps(const MethodPlan& plan, const Sources&... sources) {
  std::vector<const IndexMap*> maps;
  if (plan.stat.s_stride != 0) maps.push_back(&plan.stat);
  ((sources.varies() ? maps.push_back(&sources.map) : void()), ...);
  return maps;
}

// Whether two maps give every run the same base (the leading reductions need
// the data they read per s to be grouped like their outputs).
inline bool same_bases(const Dims& dims, const IndexMap& a, const IndexMap& b) {
  for (std::size_t n = 0; n < dims.n; ++n)
    for (std::size_t c = 0; c < dims.c; ++c)
      if (a.base(n, c) != b.base(n, c)) return false;
  return true;
}

}  // namespace bnlab::detail
