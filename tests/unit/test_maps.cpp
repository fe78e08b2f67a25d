// probe_maps and probe_input_maps (the data of the HTML figures 3 to 5)
// against plain double computations written out from their definitions: the
// channel choice, the block-mean downsampling, the output mean maps, sample
// 0's statistics, the shift difference and leakage; Method 3's shift map is
// zero while Method 1's and 2's are not; the same bytes for any thread count.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/reference.hpp"
#include "bnlab/probes/probes.hpp"
#include "support/test_support.hpp"

using namespace bnlab;
using Json = nlohmann::ordered_json;

namespace {

const std::vector<std::string> kMethods = {"1", "2", "3", "ln", "in", "gn:2"};

using testing::plan_of;

// N(0.5, 1) noise plus a fixed spatial pattern in channel `pattern_channel`
// (amplitude 3, the same in every sample), so the maps choose it. (N, C, H, W)
std::vector<double> patterned(const Dims& d, std::size_t pattern_channel, std::uint64_t seed) {
  std::vector<double> v = testing::normals(d.count(), seed, 0.5, 1.0);
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t h = 0; h < d.h; ++h)
      for (std::size_t w = 0; w < d.w; ++w)
        v[((n * d.c + pattern_channel) * d.h + h) * d.w + w] += 3.0 * std::sin(0.9 * double(h)) * std::cos(0.5 * double(w));
  return v;
}

std::size_t at(const Dims& d, std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  return ((n * d.c + c) * d.h + h) * d.w + w;
}

// The reference block mean of an (H, W) plane over cell (i, j) of blocks (bh, bw).
double block_mean(const std::vector<double>& plane, const Dims& d, std::size_t bh, std::size_t bw, std::size_t i,
                  std::size_t j) {
  double sum = 0, count = 0;
  for (std::size_t h = i * bh; h < std::min(d.h, (i + 1) * bh); ++h)
    for (std::size_t w = j * bw; w < std::min(d.w, (j + 1) * bw); ++w) sum += plane[h * d.w + w], count += 1;
  return sum / count;
}

// A map (rounded to 4 significant digits of its largest magnitude) against the
// reference plane's block means: within half a rounding step, 5e-4 of the largest.
void require_map_near(const Map& map, const std::vector<double>& plane, const Dims& d, const MapGrid& g) {
  REQUIRE(map.size() == g.rows);
  double largest = 0;
  for (std::size_t i = 0; i < g.rows; ++i)
    for (std::size_t j = 0; j < g.cols; ++j)
      largest = std::max(largest, std::abs(block_mean(plane, d, g.block_h, g.block_w, i, j)));
  for (std::size_t i = 0; i < g.rows; ++i) {
    REQUIRE(map[i].size() == g.cols);
    for (std::size_t j = 0; j < g.cols; ++j) {
      INFO("cell (" << i << ", " << j << ")");
      CHECK(std::abs(map[i][j] - block_mean(plane, d, g.block_h, g.block_w, i, j)) <= 5e-4 * largest + 1e-6);
    }
  }
}

// Does element (n, c, h, w) share the statistic of element (0, c0, h0, w0)? From the method's axes.
bool shares(const Method& m, const Dims& d, std::size_t n, std::size_t c, std::size_t h, std::size_t w,
            std::size_t c0, std::size_t h0, std::size_t w0) {
  const std::size_t per_group = m.groups ? d.c / m.groups : d.c;
  const bool same_n = m.reduce_n || n == 0;
  const bool same_c = m.reduce_c ? c / per_group == c0 / per_group : c == c0;
  const bool same_s = m.reduce_s || (h == h0 && w == w0);
  return same_n && same_c && same_s;
}

}  // namespace

TEST_CASE("map_grid: blocks of ceil(H / 32) x ceil(W / 32) pixels, at most 32 x 32 cells") {
  const MapGrid small = map_grid(Dims{2, 3, 16, 5});
  CHECK((small.block_h == 1 && small.block_w == 1 && small.rows == 16 && small.cols == 5));
  const MapGrid large = map_grid(Dims{2, 3, 64, 33});
  CHECK((large.block_h == 2 && large.block_w == 2 && large.rows == 32 && large.cols == 17));
  const MapGrid odd = map_grid(Dims{1, 1, 100, 1});
  CHECK((odd.block_h == 4 && odd.rows == 25 && odd.block_w == 1 && odd.cols == 1));
}

TEST_CASE("map_channels: channel 0 and the channel with the strongest shared spatial pattern") {
  const Dims d{4, 5, 6, 7};
  const Array<float> x = testing::to_array<float>(patterned(d, 3, 11), d.to_vector());
  CHECK(map_channels(x) == std::vector<std::size_t>{0, 3});
  const Array<float> zero_first = testing::to_array<float>(patterned(d, 0, 11), d.to_vector());
  CHECK(map_channels(zero_first) == std::vector<std::size_t>{0});  // channel 0 itself: shown once
  const Dims one{3, 4, 1, 1};  // no spatial pattern anywhere
  CHECK(map_channels(testing::to_array<float>(testing::normals(one.count(), 2), one.to_vector())) ==
        std::vector<std::size_t>{0});
}

TEST_CASE("probe_input_maps: the input's mean over N, block means of a plane larger than 32") {
  const Dims d{3, 4, 40, 35};  // blocks of 2 x 2: a 20 x 18 grid, the last column one pixel wide
  const std::vector<double> v = patterned(d, 2, 5);
  const InputMaps maps = probe_input_maps(testing::to_array<float>(v, d.to_vector()));
  REQUIRE(maps.channels == std::vector<std::size_t>{0, 2});
  CHECK((maps.grid.rows == 20 && maps.grid.cols == 18));
  for (std::size_t k = 0; k < maps.channels.size(); ++k) {
    std::vector<double> plane(d.s(), 0.0);  // (H, W)
    for (std::size_t n = 0; n < d.n; ++n)
      for (std::size_t s = 0; s < d.s(); ++s) plane[s] += double(float(v[(n * d.c + maps.channels[k]) * d.s() + s])) / d.n;
    require_map_near(maps.mean_over_n[k], plane, d, maps.grid);
  }
  const Json j = maps.to_json();
  CHECK(j["size"] == Json::array({20, 18}));
  CHECK(j["block"] == Json::array({2, 2}));
}

TEST_CASE("probe_maps against a plain double computation, every method") {
  const Dims d{4, 4, 5, 6};
  const std::vector<double> v = patterned(d, 2, 9);
  const Array<float> x = testing::to_array<float>(v, d.to_vector());
  Array<double> xd = testing::to_array<double>(v, d.to_vector());
  for (std::size_t i = 0; i < xd.size(); ++i) xd.data()[i] = double(x.data()[i]);  // the float32 input, widened
  for (const std::string& id : kMethods) {
    INFO("method " << id);
    const MethodPlan plan = plan_of(id, d);
    const Array<float> base = forward_train(plan, x, identity_params<float>(plan), kEpsConstantSafe, nullptr);
    const MapsProbe maps = probe_maps(plan, x, base);
    REQUIRE(maps.channels == std::vector<std::size_t>{0, 2});

    // Output mean over N, from the float64 reference engine.
    const Array<double> ref =
        reference::forward_train(plan, xd, identity_params<double>(plan), kEpsConstantSafe, nullptr);
    for (std::size_t k = 0; k < 2; ++k) {
      std::vector<double> plane(d.s(), 0.0);
      for (std::size_t n = 0; n < d.n; ++n)
        for (std::size_t h = 0; h < d.h; ++h)
          for (std::size_t w = 0; w < d.w; ++w) plane[h * d.w + w] += ref.data()[at(d, n, maps.channels[k], h, w)] / d.n;
      require_map_near(maps.output_mean[k], plane, d, maps.grid);
    }

    // Sample 0's statistics, by brute force over the elements that share them.
    const auto statistic = [&](std::size_t c0, std::size_t h0, std::size_t w0) {
      double sum = 0, count = 0;
      for (std::size_t n = 0; n < d.n; ++n)
        for (std::size_t c = 0; c < d.c; ++c)
          for (std::size_t h = 0; h < d.h; ++h)
            for (std::size_t w = 0; w < d.w; ++w)
              if (shares(plan.method, d, n, c, h, w, c0, h0, w0)) sum += xd.data()[at(d, n, c, h, w)], count += 1;
      const double mean = sum / count;
      double sq = 0;
      for (std::size_t n = 0; n < d.n; ++n)
        for (std::size_t c = 0; c < d.c; ++c)
          for (std::size_t h = 0; h < d.h; ++h)
            for (std::size_t w = 0; w < d.w; ++w)
              if (shares(plan.method, d, n, c, h, w, c0, h0, w0))
                sq += (xd.data()[at(d, n, c, h, w)] - mean) * (xd.data()[at(d, n, c, h, w)] - mean);
      return std::pair<double, double>{mean, sq / count};
    };
    CHECK(maps.spatial_statistics == (id == "1" || id == "2"));
    if (maps.spatial_statistics) {
      for (std::size_t k = 0; k < 2; ++k) {
        std::vector<double> mean(d.s()), var(d.s());
        for (std::size_t h = 0; h < d.h; ++h)
          for (std::size_t w = 0; w < d.w; ++w)
            std::tie(mean[h * d.w + w], var[h * d.w + w]) = statistic(maps.channels[k], h, w);
        require_map_near(maps.stat_mean[k], mean, d, maps.grid);
        require_map_near(maps.stat_var[k], var, d, maps.grid);
      }
    } else {
      REQUIRE(maps.channel_mean.size() == d.c);
      double largest_mean = 0, largest_var = 0;
      for (std::size_t c = 0; c < d.c; ++c) {
        largest_mean = std::max(largest_mean, std::abs(statistic(c, 0, 0).first));
        largest_var = std::max(largest_var, statistic(c, 0, 0).second);
      }
      for (std::size_t c = 0; c < d.c; ++c) {
        CHECK(std::abs(maps.channel_mean[c] - statistic(c, 0, 0).first) <= 5e-4 * largest_mean + 1e-6);
        CHECK(std::abs(maps.channel_var[c] - statistic(c, 0, 0).second) <= 5e-4 * largest_var + 1e-6);
      }
    }

    // The shift: sample 0 alone moved by the first shift of the set, (1, 0).
    REQUIRE(maps.shift_applicable);
    CHECK((maps.shift_dh == 1 && maps.shift_dw == 0 && maps.shift_channel == 2));
    Array<double> xs = xd;  // (N, C, H, W): sample 0 shifted down one row
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w) xs.data()[at(d, 0, c, h, w)] = xd.data()[at(d, 0, c, (h + d.h - 1) % d.h, w)];
    const Array<double> ys =
        reference::forward_train(plan, xs, identity_params<double>(plan), kEpsConstantSafe, nullptr);
    std::vector<double> difference(d.s()), leakage(d.s(), 0.0);
    for (std::size_t h = 0; h < d.h; ++h)
      for (std::size_t w = 0; w < d.w; ++w) {
        difference[h * d.w + w] = ys.data()[at(d, 0, 2, h, w)] - ref.data()[at(d, 0, 2, (h + d.h - 1) % d.h, w)];
        for (std::size_t n = 1; n < d.n; ++n)
          leakage[h * d.w + w] += std::abs(ys.data()[at(d, n, 2, h, w)] - ref.data()[at(d, n, 2, h, w)]) / (d.n - 1);
      }
    require_map_near(maps.shift_difference, difference, d, maps.grid);
    REQUIRE(maps.leakage);
    require_map_near(*maps.leakage, leakage, d, maps.grid);
    const double largest = *std::max_element(difference.begin(), difference.end(), [](double a, double b) {
      return std::abs(a) < std::abs(b);
    });
    if (id == "1" || id == "2") {
      CHECK(std::abs(largest) > 0.01);  // the statistics live on the grid: a shift changes them
      CHECK(maps.max_abs_difference > 0.01);
      CHECK(maps.max_leakage > 1e-4);
    } else {
      // Method 3 and the per-sample methods pool the whole plane, which a circular shift permutes: 0.
      CHECK(maps.max_abs_difference == 0.0);
      for (const auto& row : maps.shift_difference)
        for (double cell : row) CHECK(cell == 0.0);
    }
  }
}

TEST_CASE("probe_maps: N = 1, H = W = 1, a dead channel, bad base") {
  SECTION("N = 1: no leakage, said so") {
    const Dims d{1, 3, 4, 4};
    const Array<float> x = testing::to_array<float>(patterned(d, 1, 3), d.to_vector());
    const MethodPlan plan = plan_of("3", d);
    const MapsProbe maps = probe_maps(plan, x, forward_train(plan, x, identity_params<float>(plan), kEpsConstantSafe, nullptr));
    CHECK(maps.shift_applicable);
    CHECK_FALSE(maps.leakage);
    CHECK(maps.to_json()["shift"]["leakage"].is_null());
    CHECK(maps.notes.size() == 1);
  }
  SECTION("H = W = 1: one-cell maps, the shift does not apply") {
    const Dims d{5, 3, 1, 1};
    const Array<float> x = testing::to_array<float>(testing::normals(d.count(), 4), d.to_vector());
    const MethodPlan plan = plan_of("1", d);
    const MapsProbe maps = probe_maps(plan, x, forward_train(plan, x, identity_params<float>(plan), kEpsConstantSafe, nullptr));
    CHECK(maps.output_mean.at(0).size() == 1);
    CHECK_FALSE(maps.shift_applicable);
    const Json j = maps.to_json();
    CHECK(j["shift"]["applicable"] == false);
    CHECK(j["shift"]["reason"].get<std::string>().find("H = W = 1") != std::string::npos);
  }
  SECTION("a dead channel: its maps are 0, never NaN") {
    const Dims d{4, 4, 4, 5};
    std::vector<double> v = patterned(d, 1, 8);
    for (std::size_t n = 0; n < d.n; ++n)
      for (std::size_t s = 0; s < d.s(); ++s) v[(n * d.c + 0) * d.s() + s] = 0.0;  // channel 0 dead
    const Array<float> x = testing::to_array<float>(v, d.to_vector());
    for (const std::string& id : kMethods) {
      const MethodPlan plan = plan_of(id, d);
      const MapsProbe maps = probe_maps(plan, x, forward_train(plan, x, identity_params<float>(plan), kEpsConstantSafe, nullptr));
      const std::string dumped = maps.to_json().dump();
      CHECK(dumped.find("null") == std::string::npos);
      if (id == "3" || id == "2" || id == "in")
        for (const auto& row : maps.output_mean.at(0))
          for (double cell : row) CHECK(cell == 0.0);
    }
  }
  SECTION("base of another shape") {
    const Dims d{2, 2, 3, 3};
    const Array<float> x = testing::to_array<float>(testing::normals(d.count(), 4), d.to_vector());
    const Array<float> other = testing::to_array<float>(testing::normals(8, 4), {2, 2, 2, 1});
    CHECK_THROWS_AS(probe_maps(plan_of("3", d), x, other), Error);
  }
}

TEST_CASE("probe_maps: the same bytes whatever the thread count") {
  const Dims d{6, 5, 40, 36};
  const Array<float> x = testing::to_array<float>(patterned(d, 4, 21), d.to_vector());
  const auto dump = [&] {
    std::string out = probe_input_maps(x).to_json().dump();
    for (const std::string& id : kMethods) {
      const MethodPlan plan = plan_of(id == "gn:2" ? "gn:5" : id, d);
      out += probe_maps(plan, x, forward_train(plan, x, identity_params<float>(plan), kEpsConstantSafe, nullptr))
                 .to_json()
                 .dump();
    }
    return out;
  };
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::string one = dump();
  omp_set_num_threads(std::max(2, threads));
  const std::string many = dump();
  omp_set_num_threads(threads);
  CHECK(one == many);
  CHECK(one.find("nan") == std::string::npos);
}
