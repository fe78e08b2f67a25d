#include "bnlab/reduce.hpp"

#include <numeric>

namespace bnlab::detail {

RunGroups group_runs(const Dims& dims, const IndexMap& map) {
  const std::size_t runs = dims.n * dims.c;
  std::vector<std::size_t> run_base(runs);  // (N*C)
  for (std::size_t n = 0; n < dims.n; ++n)
    for (std::size_t c = 0; c < dims.c; ++c) run_base[n * dims.c + c] = map.base(n, c);

  RunGroups groups;
  groups.run.resize(runs);
  std::iota(groups.run.begin(), groups.run.end(), std::size_t{0});
  std::stable_sort(groups.run.begin(), groups.run.end(),
                   [&](std::size_t a, std::size_t b) { return run_base[a] < run_base[b]; });
  for (std::size_t i = 0; i < runs; ++i) {
    std::size_t base = run_base[groups.run[i]];
    if (groups.base.empty() || groups.base.back() != base) {
      groups.base.push_back(base);
      groups.offset.push_back(i);
    }
  }
  groups.offset.push_back(runs);
  return groups;
}

}  // namespace bnlab::detail
