// probe_maps: the (H, W) maps the HTML report draws in figures 3 to 5, for the
// channels of map_channels(x). Definitions (f = forward in train mode at
// kEpsConstantSafe, gamma = 1, beta = 0, so base = f(x); c a chosen channel):
//
//   input mean_over_n[c][h, w] = 1/N sum_n x[n, c, h, w]           (figure 3)
//   spatial_variance[c]        = the variance over (h, w) of that map: how much
//                                of channel c is a pattern all samples share
//   output_mean[c][h, w]       = 1/N sum_n base[n, c, h, w]          (figure 3)
//                                (Method 2 makes it 0: each activation's own
//                                mean over N is subtracted)
//   statistics                 sample 0's batch statistic of each element:
//                                mean[stat(0, c, h, w)], var[stat(0, c, h, w)]
//                                (figure 5). When neither H nor W is a statistic
//                                axis the map is constant per channel, so the
//                                (C) values are written instead.
//   shift                      s = the first shift of the invariance probes'
//                                set (probe_util.hpp), x' = x with sample 0
//                                circularly shifted by s, as per_sample_shift:
//                                difference[h, w] = f(x')[0, c, h, w]
//                                                   - f(x)[0, c, (h - dh) mod H, (w - dw) mod W]
//                                leakage[h, w]    = 1/(N-1) sum_{n >= 1} |f(x')[n, c, h, w] - f(x)[n, c, h, w]|
//                                (figure 4; c = the last chosen channel). Both are
//                                0 for Method 3: a channel's statistic pools the
//                                whole plane, which a circular shift only permutes.
//
// Every (H, W) plane is reduced to the MapGrid by block means and rounded (see
// round_to_scale). Plain serial loops in a fixed order: the same bytes for any
// thread count (the engine's forward is deterministic too).
//
// Shapes (legend: N batch, C channels, H, W spatial): x, base, ys: (N, C, H, W)
// float32; planes: (H, W) double; maps: (rows, cols) of the grid.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/detail/transformed_forward.hpp"
#include "bnlab/probes/probes.hpp"

namespace bnlab {
namespace {

using probe::Json;

Dims dims_of_array(const Array<float>& x) { return dims_from_shape(shape_of(x), "probe_maps input"); }

// v rounded to 4 significant digits of `scale` (the largest magnitude among
// the numbers it is shown with): v = m * 10^e with e = floor(log10 scale) - 3
// and m an integer, |m| <= 10^4. The decimal "mEe" is read back with strtod,
// so the JSON prints it as that short decimal. 0 when scale is 0 or not finite.
double round_to_scale(double v, double scale) {
  if (!(scale > 0) || !std::isfinite(scale) || !std::isfinite(v)) return 0.0;
  const int e = int(std::floor(std::log10(scale))) - 3;
  const long long m = std::llround(v / std::pow(10.0, e));
  if (m == 0) return 0.0;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lldE%d", m, e);
  return std::strtod(buf, nullptr);
}

double max_abs(const std::vector<double>& values) {
  double m = 0;
  for (double v : values) m = std::max(m, std::abs(v));
  return m;
}

std::vector<double> rounded(std::vector<double> values) {
  const double scale = max_abs(values);
  for (double& v : values) v = round_to_scale(v, scale);
  return values;
}

// An (H, W) plane, row-major, reduced to the grid by block means, then rounded.
Map downsample(const std::vector<double>& plane, const Dims& d, const MapGrid& g) {  // plane: (H, W)
  std::vector<double> cells(g.rows * g.cols, 0.0);  // (rows, cols)
  std::vector<double> count(g.rows * g.cols, 0.0);
  for (std::size_t h = 0; h < d.h; ++h)
    for (std::size_t w = 0; w < d.w; ++w) {
      const std::size_t cell = (h / g.block_h) * g.cols + w / g.block_w;
      cells[cell] += plane[h * d.w + w];
      count[cell] += 1;
    }
  for (std::size_t i = 0; i < cells.size(); ++i) cells[i] /= count[i];
  cells = rounded(std::move(cells));
  Map map(g.rows);
  for (std::size_t i = 0; i < g.rows; ++i)
    map[i].assign(cells.begin() + std::ptrdiff_t(i * g.cols), cells.begin() + std::ptrdiff_t((i + 1) * g.cols));
  return map;
}

// 1/N sum_n t[n, c, h, w]: (H, W).
std::vector<double> mean_over_n(const Array<float>& t, const Dims& d, std::size_t c) {
  std::vector<double> plane(d.s(), 0.0);  // (H, W)
  for (std::size_t n = 0; n < d.n; ++n) {
    const float* run = t.data() + (n * d.c + c) * d.s();
    for (std::size_t s = 0; s < d.s(); ++s) plane[s] += run[s];
  }
  for (double& v : plane) v /= double(d.n);
  return plane;
}

// The variance over (h, w) of a plane (two passes).
double spatial_variance(const std::vector<double>& plane) {
  double mean = 0;
  for (double v : plane) mean += v;
  mean /= double(plane.size());
  double sq = 0;
  for (double v : plane) sq += (v - mean) * (v - mean);
  return sq / double(plane.size());
}

// The grid's keys "block" and "size", added to a block.
void add_grid(const MapGrid& g, Json& block) {
  block["block"] = Json::array({g.block_h, g.block_w});
  block["size"] = Json::array({g.rows, g.cols});
}

// A maps block's opening: the channels shown and the grid they are drawn on.
Json maps_block(const std::vector<std::size_t>& channels, const MapGrid& g) {
  Json block;
  block["channels"] = channels;
  add_grid(g, block);
  return block;
}

Json maps_json(const std::vector<Map>& maps) {
  Json out = Json::array();
  for (const Map& m : maps) out.push_back(m);
  return out;
}

// Four significant digits, for the few scalars of the block.
double short_number(double v) { return round_to_scale(v, std::abs(v)); }

void shift_maps(const MethodPlan& plan, const Array<float>& x, const Array<float>& base, MapsProbe& result) {
  const Dims& d = plan.dims;
  const std::vector<probe::Shift> shifts = probe::shift_set(d);
  if (shifts.empty()) {
    result.shift_applicable = false;
    result.shift_reason = "H = W = 1: no spatial shift exists";
    return;
  }
  const probe::Shift s = shifts.front();
  const std::size_t c = result.channels.back(), H = d.h, W = d.w;
  // x' = x with sample 0 shifted: its statistics (one read of x), then f(x')
  // of channel c of each sample, computed from x (transformed_forward.hpp).
  const probe::InputTransform shifted = probe::InputTransform::circular(s, 0, 1);
  const Statistics stats = probe::transformed_statistics(plan, x.data(), {shifted}).front();  // (num_stats)
  const Params<float> unit = identity_params<float>(plan);
  std::vector<float> out(d.s());  // (H, W) f(x')[n, c]
  auto output_of = [&](std::size_t n) {
    probe::transformed_run_output(plan, x.data(), shifted, stats, unit, kEpsConstantSafe, n, c, out.data());
    return static_cast<const float*>(out.data());
  };
  std::vector<double> difference(d.s()), leakage(d.s(), 0.0);  // (H, W)
  const float* own = output_of(0);                             // f(x')[0, c]
  const float* ref = base.data() + c * d.s();                  // f(x)[0, c]
  for (std::size_t h = 0; h < H; ++h)
    for (std::size_t w = 0; w < W; ++w)
      difference[h * W + w] = double(own[h * W + w]) - double(ref[((h + H - s.dh) % H) * W + (w + W - s.dw) % W]);
  for (std::size_t n = 1; n < d.n; ++n) {
    const float* a = output_of(n);
    const float* b = base.data() + (n * d.c + c) * d.s();
    for (std::size_t i = 0; i < d.s(); ++i) leakage[i] += std::abs(double(a[i]) - double(b[i]));
  }
  result.shift_applicable = true;
  result.shift_dh = s.dh;
  result.shift_dw = s.dw;
  result.shift_channel = c;
  result.shift_difference = downsample(difference, d, result.grid);
  result.max_abs_difference = short_number(max_abs(difference));
  if (d.n > 1) {
    for (double& v : leakage) v /= double(d.n - 1);
    result.leakage = downsample(leakage, d, result.grid);
    result.max_leakage = short_number(max_abs(leakage));
  } else {
    result.notes.push_back("N = 1: no other sample for the shift to leak into");
  }
}

}  // namespace

MapGrid map_grid(const Dims& d) {
  MapGrid g;
  g.block_h = (d.h + kMapMaxSide - 1) / kMapMaxSide;
  g.block_w = (d.w + kMapMaxSide - 1) / kMapMaxSide;
  g.rows = (d.h + g.block_h - 1) / g.block_h;
  g.cols = (d.w + g.block_w - 1) / g.block_w;
  return g;
}

std::vector<std::size_t> map_channels(const Array<float>& x) {
  const Dims d = dims_of_array(x);
  std::size_t best = 0;
  double best_variance = 0;
  for (std::size_t c = 0; c < d.c; ++c) {
    const double v = spatial_variance(mean_over_n(x, d, c));
    if (v > best_variance) best = c, best_variance = v;
  }
  if (best == 0) return {0};
  return {0, best};
}

InputMaps probe_input_maps(const Array<float>& x) {
  const Dims d = dims_of_array(x);
  InputMaps result;
  result.channels = map_channels(x);
  result.grid = map_grid(d);
  for (std::size_t c : result.channels) {
    const std::vector<double> plane = mean_over_n(x, d, c);  // (H, W)
    result.mean_over_n.push_back(downsample(plane, d, result.grid));
    result.spatial_variance.push_back(short_number(spatial_variance(plane)));
  }
  return result;
}

nlohmann::ordered_json InputMaps::to_json() const {
  Json block = maps_block(channels, grid);
  block["mean_over_n"] = maps_json(mean_over_n);
  block["spatial_variance"] = spatial_variance;
  return block;
}

MapsProbe probe_maps(const MethodPlan& plan, const Array<float>& x, const Array<float>& base) {
  MethodContext context = method_context(plan, x, "probe_maps");
  if (shape_of(base) != shape_of(x)) throw Error("probe_maps: base must have the shape of x");
  context.base = base;
  return probe_maps(context, x);
}

MapsProbe probe_maps(const MethodContext& context, const Array<float>& x) {
  const MethodPlan& plan = context.plan;
  const Dims& d = plan.dims;
  const Array<float>& base = context.base;  // (N, C, H, W) f(x)
  MapsProbe result;
  result.channels = map_channels(x);
  result.grid = map_grid(d);
  for (std::size_t c : result.channels) result.output_mean.push_back(downsample(mean_over_n(base, d, c), d, result.grid));

  // Sample 0's statistics: element (0, c, s) uses statistic stat.base(0, c) + s * s_stride.
  const Statistics& stats = context.stats;  // (num_stats)
  result.stat_axes = plan.stat_axes();
  result.spatial_statistics = std::any_of(result.stat_axes.begin(), result.stat_axes.end(),
                                          [](const std::string& a) { return a == "H" || a == "W"; });
  const IndexMap& map = plan.stat;
  if (result.spatial_statistics) {
    for (std::size_t c : result.channels) {
      std::vector<double> mean(d.s()), var(d.s());  // (H, W)
      for (std::size_t s = 0; s < d.s(); ++s) {
        mean[s] = stats.mean[map.base(0, c) + s * map.s_stride];
        var[s] = stats.var[map.base(0, c) + s * map.s_stride];
      }
      result.stat_mean.push_back(downsample(mean, d, result.grid));
      result.stat_var.push_back(downsample(var, d, result.grid));
    }
  } else {
    for (std::size_t c = 0; c < d.c; ++c) {
      result.channel_mean.push_back(stats.mean[map.base(0, c)]);  // (C)
      result.channel_var.push_back(stats.var[map.base(0, c)]);
    }
    result.channel_mean = rounded(std::move(result.channel_mean));
    result.channel_var = rounded(std::move(result.channel_var));
  }
  shift_maps(plan, x, base, result);
  if (d.h == 1 && d.w == 1) result.notes.push_back("H = W = 1: every map is a single value");
  return result;
}

nlohmann::ordered_json MapsProbe::to_json() const {
  Json block = maps_block(channels, grid);
  block["output_mean"] = maps_json(output_mean);
  Json statistics;
  statistics["stat_axes"] = stat_axes;
  statistics["spatial"] = spatial_statistics;
  statistics["sample"] = 0;
  if (spatial_statistics) {
    statistics["mean"] = maps_json(stat_mean);
    statistics["var"] = maps_json(stat_var);
  } else {
    statistics["channel_mean"] = channel_mean;
    statistics["channel_var"] = channel_var;
  }
  block["statistics"] = statistics;
  Json shift;
  shift["applicable"] = shift_applicable;
  if (!shift_applicable) {
    shift["reason"] = shift_reason;
  } else {
    shift["shift"] = Json::array({shift_dh, shift_dw});
    shift["sample"] = 0;
    shift["channel"] = shift_channel;
    shift["difference"] = shift_difference;
    shift["max_abs_difference"] = max_abs_difference;
    shift["leakage"] = leakage ? Json(*leakage) : Json(nullptr);
    shift["max_leakage"] = leakage ? Json(max_leakage) : Json(nullptr);
  }
  block["shift"] = shift;
  block["eps"] = eps;
  block["notes"] = notes;
  return block;
}

}  // namespace bnlab
