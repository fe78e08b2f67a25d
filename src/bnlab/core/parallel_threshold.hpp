#pragma once
// When a pass over a tensor is worth sharing among threads: one number that
// the engine's kernels and the probes' passes both read.
#include <cstddef>

namespace bnlab {

// The tensor size from which a pass runs on more than one thread: 2^18
// elements (1 MiB of float32). Below it a pass is over in about a hundred
// microseconds or less, the order of what waking the other threads and
// meeting them at the barrier costs, and far less than a barrier costs when a
// busy neighbour holds the other core (measured with `bnlab bench --threads 1`
// and `--threads 2` on 2 shared cores: one thread was faster at 16x16x16x16
// for every method and pass, and still for 4 of the 6 passes at 16x16x32x32).
// The work items are the same either way (an `if` clause only chooses who
// runs them), so results do not depend on it. The engine's passes that do go
// parallel hand out their work items in 64 dynamic chunks, so a thread that
// another process delays holds up only its current chunk, not a static half.
inline constexpr std::size_t kMinParallelElements = std::size_t(1) << 18;

}  // namespace bnlab
