#include "bnlab/engine/detail/reduce.hpp"

#include <algorithm>
#include <list>
#include <memory>
#include <mutex>
#include <numeric>
#include <utility>

#include "bnlab/engine/detail/fuse_threshold.hpp"

namespace bnlab::detail {

namespace {

constexpr std::size_t kRunGroupsCacheEntries = 8;
constexpr std::size_t kRunGroupsCacheBytes = std::size_t(32) << 20;

// What a grouping depends on: N, C, S and every map's fields.
std::vector<std::size_t> grouping_key(const Dims& dims, const std::vector<const IndexMap*>& maps) {
  std::vector<std::size_t> key{dims.n, dims.c, dims.s()};
  for (const IndexMap* map : maps)
    key.insert(key.end(), {map->n_stride, map->group_stride, map->channel_stride, map->s_stride,
                           map->channels_per_group});
  return key;
}

std::size_t bytes_of(const RunGroups::Arrays& arrays) {
  return (arrays.base.size() + arrays.offset.size() + arrays.run.size()) * sizeof(std::size_t);
}

// The last groupings computed, newest first.
struct RunGroupsCache {
  std::mutex mutex;
  std::list<std::pair<std::vector<std::size_t>, std::shared_ptr<const RunGroups::Arrays>>> entries;
  std::size_t bytes = 0;
};

RunGroupsCache& run_groups_cache() {
  static RunGroupsCache cache;
  return cache;
}

RunGroups::Arrays compute_group_runs(const Dims& dims, const std::vector<const IndexMap*>& maps) {
  const std::size_t runs = dims.n * dims.c, keys = maps.size(), S = dims.s();
  // Each run's base in every map, as a dense index: bases of a map that
  // follows s are multiples of S (its outputs are whole planes), divided by
  // S. Written without a division per run (IndexMap::base has two, and the
  // run index two more): base(n, c) = n * n_stride + per_channel[c]. On
  // small planes (256x64x14x14: 16384 runs of 196 elements) the divisions
  // had cost a third of a kernel call.
  std::vector<std::size_t> key(runs * keys);  // (N*C, maps)
  std::vector<std::size_t> per_channel(dims.c);  // (C)
  for (std::size_t m = 0; m < keys; ++m) {
    const IndexMap& map = *maps[m];
    std::size_t unit = map.s_stride != 0 ? S : 1;  // what the bases are divided by
    std::size_t n_stride = map.n_stride;
    for (std::size_t c = 0; c < dims.c; ++c) per_channel[c] = map.base(0, c);
    // Every term a multiple of S (the usual case): divide the terms once.
    const bool terms_divide = n_stride % unit == 0 &&
                              std::all_of(per_channel.begin(), per_channel.end(),
                                          [&](std::size_t b) { return b % unit == 0; });
    if (terms_divide) {
      n_stride /= unit;
      for (std::size_t& b : per_channel) b /= unit;
      unit = 1;
    }
    for (std::size_t n = 0, r = 0; n < dims.n; ++n) {
      const std::size_t from_n = n * n_stride;
      if (unit == 1) {  // no division (a 64-bit division per run was most of this function's time)
        for (std::size_t c = 0; c < dims.c; ++c, ++r) key[r * keys + m] = from_n + per_channel[c];
      } else {
        for (std::size_t c = 0; c < dims.c; ++c, ++r) key[r * keys + m] = (from_n + per_channel[c]) / unit;
      }
    }
  }
  // Run a's key tuple against run b's (one map: a plain comparison).
  auto same_key = [&](std::size_t a, std::size_t b) {
    if (keys == 1) return key[a] == key[b];
    return std::equal(key.begin() + std::ptrdiff_t(a * keys), key.begin() + std::ptrdiff_t((a + 1) * keys),
                      key.begin() + std::ptrdiff_t(b * keys));
  };
  auto key_below = [&](std::size_t a, std::size_t b) {
    if (keys == 1) return key[a] < key[b];
    return std::lexicographical_compare(key.begin() + std::ptrdiff_t(a * keys),
                                        key.begin() + std::ptrdiff_t((a + 1) * keys),
                                        key.begin() + std::ptrdiff_t(b * keys),
                                        key.begin() + std::ptrdiff_t((b + 1) * keys));
  };
  // Stable counting sorts by the last key, then the others (LSD radix): runs
  // ordered by their key tuples, ascending runs within equal keys. O(N*C).
  // Skipped where the runs are in that order already (ln, in, gn: the key
  // tuples do not decrease from run to run).
  RunGroups::Arrays groups;
  groups.run.resize(runs);
  std::iota(groups.run.begin(), groups.run.end(), std::size_t{0});
  bool in_order = true;
  for (std::size_t r = 1; r < runs && in_order; ++r) in_order = !key_below(r, r - 1);
  std::vector<std::size_t> sorted(in_order ? 0 : runs), count;
  for (std::size_t m = in_order ? 0 : keys; m-- > 0;) {
    count.assign(1, 0);
    for (std::size_t r = 0; r < runs; ++r) {
      const std::size_t k = key[r * keys + m];
      if (k + 2 > count.size()) count.resize(k + 2, 0);
      ++count[k + 1];
    }
    for (std::size_t k = 1; k < count.size(); ++k) count[k] += count[k - 1];
    for (std::size_t r : groups.run) sorted[count[key[r * keys + m]]++] = r;
    groups.run.swap(sorted);
  }
  groups.base.reserve(runs);
  groups.offset.reserve(runs + 1);
  for (std::size_t i = 0; i < runs; ++i) {
    const std::size_t r = groups.run[i];
    if (i == 0 || !same_key(r, groups.run[i - 1])) {
      groups.base.push_back(keys ? key[r * keys] * (maps[0]->s_stride != 0 ? S : 1) : 0);
      groups.offset.push_back(i);
    }
  }
  groups.offset.push_back(runs);
  return groups;
}

}  // namespace

RunGroups group_runs(const Dims& dims, const std::vector<const IndexMap*>& maps) {
  const std::vector<std::size_t> key = grouping_key(dims, maps);
  RunGroupsCache& cache = run_groups_cache();
  {
    const std::lock_guard<std::mutex> lock(cache.mutex);
    for (auto it = cache.entries.begin(); it != cache.entries.end(); ++it) {
      if (it->first != key) continue;
      cache.entries.splice(cache.entries.begin(), cache.entries, it);  // the newest now
      return RunGroups(it->second);
    }
  }
  auto arrays = std::make_shared<const RunGroups::Arrays>(compute_group_runs(dims, maps));
  const std::size_t bytes = bytes_of(*arrays);
  if (bytes <= kRunGroupsCacheBytes / kRunGroupsCacheEntries) {
    const std::lock_guard<std::mutex> lock(cache.mutex);
    cache.entries.emplace_front(key, arrays);
    cache.bytes += bytes;
    while (cache.entries.size() > kRunGroupsCacheEntries || cache.bytes > kRunGroupsCacheBytes) {
      cache.bytes -= bytes_of(*cache.entries.back().second);
      cache.entries.pop_back();
    }
  }
  return RunGroups(std::move(arrays));
}

Tiles make_tiles(const Dims& dims, const std::vector<const IndexMap*>& maps) {
  Tiles tiles{group_runs(dims, maps)};
  tiles.blocks = (dims.s() + kBlock - 1) / kBlock;
  tiles.block = ((dims.s() + tiles.blocks - 1) / tiles.blocks + 15) / 16 * 16;
  std::size_t min_rows = dims.n * dims.c;  // rows of the smallest group
  for (std::size_t g = 0; g < tiles.groups.size(); ++g)
    min_rows = std::min(min_rows, tiles.groups.offset[g + 1] - tiles.groups.offset[g]);
  const std::size_t tiles_unsplit = tiles.groups.size() * tiles.blocks;
  tiles.splits = std::clamp((kMinTiles + tiles_unsplit - 1) / tiles_unsplit, std::size_t{1}, std::max<std::size_t>(min_rows, 1));
  return tiles;
}

bool inner_fits(const RunGroups& groups, const Dims& dims, std::size_t bytes_per_element) {
  if (groups.size() < kMinUnits) return false;
  const bool small = dims.count() < fuse_min_elements();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::size_t first = groups.offset[g], count = groups.offset[g + 1] - first;
    const bool consecutive = groups.run[first + count - 1] - groups.run[first] == count - 1;  // runs ascend
    if (small && !consecutive) return false;
    const std::size_t budget = consecutive ? kFuseContiguousBytes : kFuseBytes;
    if (count * dims.s() * bytes_per_element > budget) return false;
  }
  return true;
}

bool leading_fits(const Tiles& tiles, std::size_t bytes_per_element) {
  if (tiles.splits != 1 || tiles.size() < kMinUnits) return false;
  for (std::size_t g = 0; g < tiles.groups.size(); ++g) {
    if ((tiles.groups.offset[g + 1] - tiles.groups.offset[g]) * tiles.block * bytes_per_element > kFuseBytes) return false;
  }
  return true;
}

}  // namespace bnlab::detail
