#pragma once
// The tensor size from which the fused traversals apply (inner_fits in
// reduce.cpp): kFuseMinElements (reduce.hpp). Results never depend on it; it
// can be changed only so that tests can run the fused code on small shapes.
//
// Internal header: included by reduce.cpp (and the kernel and engine tests) only.
#include <cstddef>

namespace bnlab::detail {

// The threshold in force: kFuseMinElements unless a test lowered it.
std::size_t fuse_min_elements();

// For tests only: sets the threshold (0: the fused traversals apply to every
// tensor with enough groups or tiles) and returns the one it replaces, for
// the test to put back.
std::size_t set_fuse_min_elements_for_tests(std::size_t min_elements);

}  // namespace bnlab::detail
