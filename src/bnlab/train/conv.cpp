#include "bnlab/train/conv.hpp"

#include <algorithm>
#include <cmath>

#include "bnlab/core/error.hpp"
#include "bnlab/core/shape.hpp"

namespace bnlab::train {
namespace {

struct Geometry {
  std::size_t n, c, h, w, ho, wo, k, stride, pad;
  std::size_t patch() const { return c * k * k; }  // K
  std::size_t plane() const { return ho * wo; }     // P
};

// col (K, P) of one sample x_n (C, H, W); zero where the window leaves the image.
void im2col(const float* x, const Geometry& g, float* col) {
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t a = 0; a < g.k; ++a) {
      for (std::size_t b = 0; b < g.k; ++b) {
        float* row = col + ((c * g.k + a) * g.k + b) * g.plane();
        for (std::size_t i = 0; i < g.ho; ++i) {
          const std::ptrdiff_t r = std::ptrdiff_t(i * g.stride + a) - std::ptrdiff_t(g.pad);
          float* out = row + i * g.wo;
          if (r < 0 || r >= std::ptrdiff_t(g.h)) {
            std::fill(out, out + g.wo, 0.0f);
            continue;
          }
          const float* in = x + (c * g.h + std::size_t(r)) * g.w;
          for (std::size_t j = 0; j < g.wo; ++j) {
            const std::ptrdiff_t s = std::ptrdiff_t(j * g.stride + b) - std::ptrdiff_t(g.pad);
            out[j] = (s < 0 || s >= std::ptrdiff_t(g.w)) ? 0.0f : in[s];
          }
        }
      }
    }
  }
}

// dx_n (C, H, W) += col2im(dcol (K, P)), the transpose of im2col. Runs in a
// fixed order: the same bits for any thread count.
void col2im_add(const float* dcol, const Geometry& g, float* dx) {
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t a = 0; a < g.k; ++a) {
      for (std::size_t b = 0; b < g.k; ++b) {
        const float* row = dcol + ((c * g.k + a) * g.k + b) * g.plane();
        for (std::size_t i = 0; i < g.ho; ++i) {
          const std::ptrdiff_t r = std::ptrdiff_t(i * g.stride + a) - std::ptrdiff_t(g.pad);
          if (r < 0 || r >= std::ptrdiff_t(g.h)) continue;
          float* out = dx + (c * g.h + std::size_t(r)) * g.w;
          for (std::size_t j = 0; j < g.wo; ++j) {
            const std::ptrdiff_t s = std::ptrdiff_t(j * g.stride + b) - std::ptrdiff_t(g.pad);
            if (s >= 0 && s < std::ptrdiff_t(g.w)) out[s] += row[i * g.wo + j];
          }
        }
      }
    }
  }
}

// out (M, P) = A (M, K) · B (K, P). Four output rows at a time share each
// load of a B row; the innermost loop runs along P and vectorizes. Every
// out[m, j] is the sum over q in increasing order: the blocking changes no bit.
void matmul(const float* a, const float* b, std::size_t m, std::size_t k, std::size_t p, float* out) {
  std::size_t row = 0;
  for (; row + 4 <= m; row += 4) {
    float* o0 = out + row * p;
    float* o1 = o0 + p;
    float* o2 = o1 + p;
    float* o3 = o2 + p;
    std::fill(o0, o0 + 4 * p, 0.0f);
    for (std::size_t q = 0; q < k; ++q) {
      const float a0 = a[row * k + q], a1 = a[(row + 1) * k + q], a2 = a[(row + 2) * k + q], a3 = a[(row + 3) * k + q];
      const float* bq = b + q * p;
      for (std::size_t j = 0; j < p; ++j) {
        const float v = bq[j];
        o0[j] += a0 * v;
        o1[j] += a1 * v;
        o2[j] += a2 * v;
        o3[j] += a3 * v;
      }
    }
  }
  for (; row < m; ++row) {
    float* o = out + row * p;
    std::fill(o, o + p, 0.0f);
    for (std::size_t q = 0; q < k; ++q) {
      const float coefficient = a[row * k + q];
      const float* bq = b + q * p;
      for (std::size_t j = 0; j < p; ++j) o[j] += coefficient * bq[j];
    }
  }
}

// out (K, P) = Aᵀ · B with A (M, K) and B (M, P): out[q, :] = sum_m A[m, q] B[m, :],
// the sum over m in increasing order. One out row stays in cache while the
// rows of B stream past.
void matmul_at_b(const float* a, const float* b, std::size_t m, std::size_t k, std::size_t p, float* out) {
  for (std::size_t q = 0; q < k; ++q) {
    float* o = out + q * p;
    std::fill(o, o + p, 0.0f);
    std::size_t row = 0;
    for (; row < m; ++row) {
      const float coefficient = a[row * k + q];
      const float* br = b + row * p;
      for (std::size_t j = 0; j < p; ++j) o[j] += coefficient * br[j];
    }
  }
}

// out (P, K) = in (K, P) transposed.
void transpose(const float* in, std::size_t k, std::size_t p, float* out) {
  for (std::size_t q = 0; q < k; ++q) {
    for (std::size_t j = 0; j < p; ++j) out[j * k + q] = in[q * p + j];
  }
}

// rows[r, :] += sum_j dy_r[j] * col_t[j, :] for the `count` (<= 4) rows r of
// one sample: dy_r (P) are rows of dy, col_t is (P, K). Each load of a col_t
// row serves every output row; the inner loop runs along K and vectorizes.
// The sum over j runs in increasing order.
void accumulate_outer(const float* const* dy, std::size_t count, const float* col_t, std::size_t p, std::size_t k,
                      float* const* rows) {
  for (std::size_t j = 0; j < p; ++j) {
    const float* c = col_t + j * k;
    for (std::size_t r = 0; r < count; ++r) {
      const float d = dy[r][j];
      float* out = rows[r];
      for (std::size_t q = 0; q < k; ++q) out[q] += d * c[q];
    }
  }
}

}  // namespace

Conv2d::Conv2d(const ConvShape& shape, Rng& rng) : shape_(shape) {
  weight = Array<float>::from_shape({shape.out_channels, shape.in_channels, shape.kernel, shape.kernel});
  const double bound = 1.0 / std::sqrt(double(shape.fan_in()));
  for (float& v : weight) v = float((2.0 * rng.uniform() - 1.0) * bound);
  dweight = xt::zeros<float>(weight.shape());
}

Array<float> Conv2d::forward(const Array<float>& x) {
  if (x.dimension() != 4 || x.shape()[1] != shape_.in_channels) {
    throw Error("conv: expected (N, " + std::to_string(shape_.in_channels) + ", H, W) input, got " +
                shape_to_string(shape_of(x)));
  }
  const Geometry g{x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3], shape_.out_extent(x.shape()[2]),
                   shape_.out_extent(x.shape()[3]), shape_.kernel, shape_.stride, shape_.pad};
  input_shape_ = {g.n, g.c, g.h, g.w};
  cols_.resize(g.n * g.patch() * g.plane());
  auto y = Array<float>::from_shape({g.n, shape_.out_channels, g.ho, g.wo});  // (N, C_out, H_out, W_out)
  const long samples = long(g.n);
#pragma omp parallel for schedule(static)
  for (long n = 0; n < samples; ++n) {
    float* col = cols_.data() + std::size_t(n) * g.patch() * g.plane();
    im2col(x.data() + std::size_t(n) * g.c * g.h * g.w, g, col);
    matmul(weight.data(), col, shape_.out_channels, g.patch(), g.plane(),
           y.data() + std::size_t(n) * shape_.out_channels * g.plane());
  }
  return y;
}

Array<float> Conv2d::backward(const Array<float>& dy, bool need_dx) {
  const Geometry g{input_shape_[0], input_shape_[1], input_shape_[2], input_shape_[3],
                   shape_.out_extent(input_shape_[2]), shape_.out_extent(input_shape_[3]),
                   shape_.kernel, shape_.stride, shape_.pad};
  const std::size_t out_channels = shape_.out_channels, patch = g.patch(), plane = g.plane();
  if (dy.size() != g.n * out_channels * plane) throw Error("conv: gradient shape does not match the forward");

  // dW[o, q] = sum_n sum_p dy[n, o, p] * col_n[q, p], with col_n transposed to
  // (P, K) so that the inner loop runs along q. Threads take blocks of four
  // output channels; each sample's float sum is added to a double total, in
  // sample order.
  std::vector<float> cols_t(g.n * plane * patch);  // (N, P, K)
  const long samples_for_t = long(g.n);
#pragma omp parallel for schedule(static)
  for (long n = 0; n < samples_for_t; ++n) {
    transpose(cols_.data() + std::size_t(n) * patch * plane, patch, plane, cols_t.data() + std::size_t(n) * plane * patch);
  }
  const long blocks = long((out_channels + 3) / 4);
#pragma omp parallel for schedule(static)
  for (long block = 0; block < blocks; ++block) {
    const std::size_t first = std::size_t(block) * 4, count = std::min<std::size_t>(4, out_channels - first);
    std::vector<double> totals(count * patch, 0.0);
    std::vector<float> partial(count * patch);
    for (std::size_t n = 0; n < g.n; ++n) {
      std::fill(partial.begin(), partial.end(), 0.0f);
      const float* dy_rows[4];
      float* rows[4];
      for (std::size_t r = 0; r < count; ++r) {
        dy_rows[r] = dy.data() + (n * out_channels + first + r) * plane;
        rows[r] = partial.data() + r * patch;
      }
      accumulate_outer(dy_rows, count, cols_t.data() + n * plane * patch, plane, patch, rows);
      for (std::size_t i = 0; i < totals.size(); ++i) totals[i] += partial[i];
    }
    for (std::size_t i = 0; i < totals.size(); ++i) dweight.data()[first * patch + i] = float(totals[i]);
  }
  if (!need_dx) return Array<float>::from_shape({0});

  auto dx = Array<float>::from_shape(input_shape_);  // (N, C_in, H, W)
  const long samples = long(g.n);
#pragma omp parallel
  {
    std::vector<float> dcol(patch * plane);
#pragma omp for schedule(static)
    for (long n = 0; n < samples; ++n) {
      matmul_at_b(weight.data(), dy.data() + std::size_t(n) * out_channels * plane, out_channels, patch, plane,
                  dcol.data());
      float* dxn = dx.data() + std::size_t(n) * g.c * g.h * g.w;
      std::fill(dxn, dxn + g.c * g.h * g.w, 0.0f);
      col2im_add(dcol.data(), g, dxn);
    }
  }
  return dx;
}

}  // namespace bnlab::train
