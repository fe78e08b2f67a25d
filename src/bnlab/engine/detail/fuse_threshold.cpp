#include "bnlab/engine/detail/fuse_threshold.hpp"

#include <utility>

#include "bnlab/engine/detail/reduce.hpp"

namespace bnlab::detail {
namespace {

std::size_t threshold = kFuseMinElements;  // what fuse_min_elements() returns

}  // namespace

std::size_t fuse_min_elements() { return threshold; }

std::size_t set_fuse_min_elements_for_tests(std::size_t min_elements) { return std::exchange(threshold, min_elements); }

}  // namespace bnlab::detail
