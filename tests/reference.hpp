#pragma once
// A brute-force float64 reference for every normalization, written plainly
// from the definitions in DESIGN.md: explicit loops over (n, c, h, w), one
// statistic key per element, no strides shared with the engine.
//
// Shapes: x, y, dy, dx: (N, C, H, W) flattened row-major;
//         gamma, beta: the natural (or channel) parameter shape, flattened.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace ref {

// Which axes a method reduces and which its parameters span, restated here
// from DESIGN.md independently of the library's table.
struct Spec {
  bool reduce_n, reduce_c, reduce_s;
  std::size_t groups;  // 0 unless GroupNorm
  bool param_c, param_s;
};

inline Spec spec_for(const std::string& id, const std::string& affine = "natural") {
  Spec s{};
  if (id == "1") s = {true, true, false, 0, false, true};
  else if (id == "2") s = {true, false, false, 0, true, true};
  else if (id == "3") s = {true, false, true, 0, true, false};
  else if (id == "ln") s = {false, true, true, 0, true, true};
  else if (id == "in") s = {false, false, true, 0, true, false};
  else if (id.rfind("gn:", 0) == 0) s = {false, true, true, std::stoul(id.substr(3)), true, false};
  if (affine == "channel") { s.param_c = true; s.param_s = false; }
  if (affine == "none") { s.param_c = false; s.param_s = false; }
  return s;
}

struct Dims {
  std::size_t n, c, h, w;
  std::size_t count() const { return n * c * h * w; }
  std::size_t at(std::size_t in, std::size_t ic, std::size_t ih, std::size_t iw) const {
    return ((in * c + ic) * h + ih) * w + iw;
  }
};

// The statistic an element belongs to: a mixed-radix number over the kept axes.
inline std::size_t stat_key(const Spec& s, const Dims& d, std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  std::size_t key = 0;
  if (!s.reduce_n) key = key * d.n + n;
  if (s.groups) key = key * s.groups + c / (d.c / s.groups);
  if (!s.reduce_c) key = key * d.c + c;
  if (!s.reduce_s) key = (key * d.h + h) * d.w + w;
  return key;
}

inline std::size_t num_stats(const Spec& s, const Dims& d) {
  std::size_t k = 1;
  if (!s.reduce_n) k *= d.n;
  if (s.groups) k *= s.groups;
  if (!s.reduce_c) k *= d.c;
  if (!s.reduce_s) k *= d.h * d.w;
  return k;
}

inline std::size_t param_key(const Spec& s, const Dims& d, std::size_t c, std::size_t h, std::size_t w) {
  std::size_t key = 0;
  if (s.param_c) key = key * d.c + c;
  if (s.param_s) key = (key * d.h + h) * d.w + w;
  return key;
}

inline std::size_t num_params(const Spec& s, const Dims& d) {
  return (s.param_c ? d.c : 1) * (s.param_s ? d.h * d.w : 1);
}

template <class F>
void for_each(const Dims& d, F f) {
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w) f(n, c, h, w, d.at(n, c, h, w));
}

struct Stats {
  std::vector<double> mean, var;  // biased variance
};

inline Stats batch_stats(const Spec& s, const Dims& d, const std::vector<double>& x) {
  std::size_t k = num_stats(s, d);
  Stats st{std::vector<double>(k, 0.0), std::vector<double>(k, 0.0)};
  std::vector<double> count(k, 0.0);
  for_each(d, [&](auto n, auto c, auto h, auto w, auto i) {
    std::size_t key = stat_key(s, d, n, c, h, w);
    st.mean[key] += x[i];
    count[key] += 1;
  });
  for (std::size_t j = 0; j < k; ++j) st.mean[j] /= count[j];
  for_each(d, [&](auto n, auto c, auto h, auto w, auto i) {
    std::size_t key = stat_key(s, d, n, c, h, w);
    st.var[key] += (x[i] - st.mean[key]) * (x[i] - st.mean[key]);
  });
  for (std::size_t j = 0; j < k; ++j) st.var[j] /= count[j];
  return st;
}

// y = (x - mean) / sqrt(var + eps) * gamma + beta (gamma, beta empty = affine none)
inline std::vector<double> forward(const Spec& s, const Dims& d, const std::vector<double>& x, const Stats& st,
                                   const std::vector<double>& gamma, const std::vector<double>& beta, double eps) {
  std::vector<double> y(d.count());
  for_each(d, [&](auto n, auto c, auto h, auto w, auto i) {
    std::size_t key = stat_key(s, d, n, c, h, w);
    double xhat = (x[i] - st.mean[key]) / std::sqrt(st.var[key] + eps);
    double g = gamma.empty() ? 1.0 : gamma[param_key(s, d, c, h, w)];
    double b = beta.empty() ? 0.0 : beta[param_key(s, d, c, h, w)];
    y[i] = xhat * g + b;
  });
  return y;
}

inline std::vector<double> forward_train(const Spec& s, const Dims& d, const std::vector<double>& x,
                                         const std::vector<double>& gamma, const std::vector<double>& beta,
                                         double eps) {
  return forward(s, d, x, batch_stats(s, d, x), gamma, beta, eps);
}

// Central finite difference of L = sum(y * dy) with respect to x[i], in double.
inline double fd_dx(const Spec& s, const Dims& d, std::vector<double> x, const std::vector<double>& gamma,
                    const std::vector<double>& beta, const std::vector<double>& dy, double eps, std::size_t i,
                    bool train, const Stats* fixed, double step = 1e-5) {
  auto loss = [&](const std::vector<double>& xv) {
    std::vector<double> y = train ? forward_train(s, d, xv, gamma, beta, eps) : forward(s, d, xv, *fixed, gamma, beta, eps);
    double l = 0;
    for (std::size_t j = 0; j < y.size(); ++j) l += y[j] * dy[j];
    return l;
  };
  double x0 = x[i];
  x[i] = x0 + step;
  double up = loss(x);
  x[i] = x0 - step;
  double down = loss(x);
  return (up - down) / (2 * step);
}

// dgamma[p] = sum dy * xhat, dbeta[p] = sum dy over the elements of parameter p.
inline void param_grads(const Spec& s, const Dims& d, const std::vector<double>& x, const Stats& st,
                        const std::vector<double>& dy, double eps, std::vector<double>& dgamma,
                        std::vector<double>& dbeta) {
  dgamma.assign(num_params(s, d), 0.0);
  dbeta.assign(num_params(s, d), 0.0);
  for_each(d, [&](auto n, auto c, auto h, auto w, auto i) {
    std::size_t key = stat_key(s, d, n, c, h, w);
    std::size_t p = param_key(s, d, c, h, w);
    double xhat = (x[i] - st.mean[key]) / std::sqrt(st.var[key] + eps);
    dgamma[p] += dy[i] * xhat;
    dbeta[p] += dy[i];
  });
}

}  // namespace ref
