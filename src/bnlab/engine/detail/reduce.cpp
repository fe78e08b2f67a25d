#include "bnlab/engine/detail/reduce.hpp"

#include <algorithm>
#include <numeric>

#include "bnlab/engine/detail/fuse_threshold.hpp"

namespace bnlab::detail {

RunGroups group_runs(const Dims& dims, const std::vector<const IndexMap*>& maps) {
  const std::size_t runs = dims.n * dims.c, keys = maps.size(), S = dims.s();
  // Each run's base in every map, as a dense index: bases of a map that
  // follows s are multiples of S (its outputs are whole planes).
  std::vector<std::size_t> key(runs * keys);  // (N*C, maps)
  for (std::size_t r = 0; r < runs; ++r)
    for (std::size_t m = 0; m < keys; ++m) {
      const IndexMap& map = *maps[m];
      key[r * keys + m] = map.base(r / dims.c, r % dims.c) / (map.s_stride != 0 ? S : 1);
    }
  // Stable counting sorts by the last key, then the others (LSD radix): runs
  // ordered by their key tuples, ascending runs within equal keys. O(N*C).
  RunGroups groups;
  groups.run.resize(runs);
  std::iota(groups.run.begin(), groups.run.end(), std::size_t{0});
  std::vector<std::size_t> sorted(runs), count;
  for (std::size_t m = keys; m-- > 0;) {
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
  auto same_key = [&](std::size_t a, std::size_t b) {
    return std::equal(key.begin() + std::ptrdiff_t(a * keys), key.begin() + std::ptrdiff_t((a + 1) * keys),
                      key.begin() + std::ptrdiff_t(b * keys));
  };
  for (std::size_t i = 0; i < runs; ++i) {
    const std::size_t r = groups.run[i];
    if (i == 0 || !same_key(r, groups.run[i - 1])) {
      groups.base.push_back(keys ? maps[0]->base(r / dims.c, r % dims.c) : 0);
      groups.offset.push_back(i);
    }
  }
  groups.offset.push_back(runs);
  return groups;
}

Tiles make_tiles(const Dims& dims, const std::vector<const IndexMap*>& maps) {
  Tiles tiles;
  tiles.groups = group_runs(dims, maps);
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
  if (groups.size() < kMinUnits || dims.count() < fuse_min_elements()) return false;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::size_t first = groups.offset[g], count = groups.offset[g + 1] - first;
    const bool consecutive = groups.run[first + count - 1] - groups.run[first] == count - 1;  // runs ascend
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
