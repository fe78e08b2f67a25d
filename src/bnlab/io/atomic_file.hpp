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
//   - fsync(2) before it becomes visible (FileSync::fsync, the default), so
//     after a power cut or an OS crash the destination holds either the old
//     or the whole new content. FileSync::none skips it (and the directory's
//     fsync): a crash or kill of bnlab still leaves nothing partial, only a
//     power cut may. Measured on an ext4 disk under KVM: 0.06-0.10 s per
//     200 MB file, about what writing it into the page cache costs.
//   - Then it is given a name (linkat) and rename(2)d over the destination,
//     which replaces it in one step; the directory is fsynced after.
//   - An OutputGroup (normalize's y, mean, var, ..., summary.json) stages every
//     file first and renames them only when all were written: all or nothing.
//     A rename failing half-way (it cannot for the reasons checked up front)
//     removes the files of the group that did not exist before.
// Destinations, decided and checked before anything is written (the same
// rule as the check of every output before any work, io/output_check.hpp):
//   - a symbolic link is followed: its target is replaced, the link stays
//     (a dangling link or a link loop is an error);
//   - an existing file keeps its permission bits; one without any write
//     permission bit (read-only) is refused, not replaced;
//   - anything but a regular file (a directory, a device such as /dev/null,
//     a FIFO) is refused.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bnlab {

enum class FileSync { fsync, none };

// For the handler of a fatal signal (async-signal-safe: unlink(2) and
// rmdir(2) only): removes every named temporary still staged, then every
// directory registered below that is empty. The handlers bnlab installs for
// SIGINT, SIGTERM, SIGHUP and SIGQUIT call it, and so does a mapped input's
// SIGBUS (io/mapped_file.hpp).
void remove_leftovers_from_signal_handler() noexcept;

// While it lives, `path`, a directory bnlab created for its outputs, is
// removed (if it is empty) when bnlab dies of a signal it catches.
class DirectoryRemovedOnSignal {
 public:
  explicit DirectoryRemovedOnSignal(const std::string& path);
  ~DirectoryRemovedOnSignal();
  DirectoryRemovedOnSignal(const DirectoryRemovedOnSignal&) = delete;
  DirectoryRemovedOnSignal& operator=(const DirectoryRemovedOnSignal&) = delete;

 private:
  int slot_;
};

// Writes `bytes` to `path` as above, fsynced. Throws bnlab::Error "<path>:
// cannot write: <reason>" (or "<path>: is read-only ..." etc.), leaving
// `path` as it was.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Several outputs that appear together or not at all.
class OutputGroup {
 public:
  explicit OutputGroup(FileSync sync = FileSync::fsync);
  ~OutputGroup();  // discards whatever was staged and not committed
  OutputGroup(const OutputGroup&) = delete;
  OutputGroup& operator=(const OutputGroup&) = delete;

  // Checks the destination and writes `bytes` to a staged temporary.
  // Nothing appears at `path` before commit(). Throws Error like above.
  void add(const std::string& path, const std::string& bytes);

  // The same for a file made of `pieces` one after the other (a header and
  // an array's bytes), written from where they are: nothing is copied in
  // user space. The pieces need to live only during the call.
  void add(const std::string& path, const std::vector<std::string_view>& pieces);

  // The same for a file of `header` followed by `data_bytes` that fill(data)
  // writes in place: the file's blocks are reserved (posix_fallocate: a full
  // disk is an error here) and mapped, so the data goes straight into the
  // page cache, without a buffer and a copy (where the file system cannot
  // reserve or map, fill writes a buffer that is then written). An exception
  // from fill discards the file.
  void add_filled(const std::string& path, std::string_view header, std::size_t data_bytes,
                  const std::function<void(char* data)>& fill);

  // Moves every staged file to its destination.
  void commit();

 private:
  struct Staged;
  std::unique_ptr<Staged> stage(const std::string& path);
  void add_written(std::unique_ptr<Staged> staged, const std::vector<std::string_view>& pieces);
  FileSync sync_;
  std::vector<std::unique_ptr<Staged>> staged_;
};

}  // namespace bnlab
