#pragma once
// Atomic file output: a failure (full disk, missing directory, a crash
// mid-write) never leaves a half-written file at the destination.
#include <string>

namespace bnlab {

// Writes `bytes` to `path` via a temporary file in the same directory, then
// rename(2), which replaces `path` in one step. On failure the temporary file
// is removed and bnlab::Error "<path>: cannot write: <strerror>" is thrown.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace bnlab
