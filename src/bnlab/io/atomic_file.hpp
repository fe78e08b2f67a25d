#pragma once
// Atomic file output: a failure (full disk, missing directory, an unwritable
// destination, a crash or a kill mid-write) never leaves a half-written file
// at a destination, nor a temporary file beside it.
//
// How:
//   - Each file is first written to an anonymous file in the destination's
//     directory (open(O_TMPFILE)): a SIGKILL mid-write leaves nothing behind,
//     the kernel frees the inode. On a file system without O_TMPFILE, to a
//     named ".<name>.tmp-<pid>-<k>" removed on every exit path bnlab can catch
//     (an error, SIGINT, SIGTERM, SIGHUP, SIGQUIT; not SIGKILL).
//   - fsync(2) before it becomes visible, so after a power cut the
//     destination holds either the old or the whole new content (measured:
//     about 0.06 s per 200 MB on an ext4 SSD, small next to computing it).
//   - Then it is given a name (linkat) and rename(2)d over the destination,
//     which replaces it in one step; the directory is fsynced after.
//   - An OutputGroup (normalize's y, mean, var, ..., summary.json) stages every
//     file first and renames them only when all were written: all or nothing.
//     A rename failing half-way (it cannot for the reasons checked up front)
//     removes the files of the group that did not exist before.
// Destinations, decided and checked before anything is written:
//   - a symbolic link is followed: its target is replaced, the link stays
//     (a dangling link is an error);
//   - an existing file keeps its permission bits; one without any write
//     permission bit (read-only) is refused, not replaced;
//   - anything but a regular file (a directory, a device such as /dev/null,
//     a FIFO) is refused.
#include <memory>
#include <string>
#include <vector>

namespace bnlab {

// Writes `bytes` to `path` as above. Throws bnlab::Error "<path>: cannot
// write: <reason>" (or "<path>: is read-only ..." etc.), leaving `path` as it was.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Several outputs that appear together or not at all.
class OutputGroup {
 public:
  OutputGroup();
  ~OutputGroup();  // discards whatever was staged and not committed
  OutputGroup(const OutputGroup&) = delete;
  OutputGroup& operator=(const OutputGroup&) = delete;

  // Checks the destination and writes `bytes` to a staged temporary.
  // Nothing appears at `path` before commit(). Throws Error like above.
  void add(const std::string& path, const std::string& bytes);

  // Moves every staged file to its destination.
  void commit();

 private:
  struct Staged;
  std::vector<std::unique_ptr<Staged>> staged_;
};

}  // namespace bnlab
