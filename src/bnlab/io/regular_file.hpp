#pragma once
// Opening an input file: only a regular file. A FIFO would block bnlab
// forever (its open(2) waits for a writer, its read(2) for data), a device
// (/dev/zero, /dev/urandom) never ends, a directory has no bytes to read.
// Every reader of a file the user names (.npy, .npz, IDX, JSON configs and
// reports) opens it here: open(2) with O_NONBLOCK (a FIFO's open returns at
// once) and fstat(2) on the descriptor (no window between the check and the
// read), so the type is refused before a byte is read.
#include <sys/types.h>

#include <cstddef>
#include <string>

namespace bnlab {

// An open, read-only descriptor of a regular file; closed with the object.
class RegularFile {
 public:
  // Throws Error "<path>: <open_words><strerror>" when open(2) fails (the
  // caller's words: "cannot open: " for .npy, "cannot read (" ... for JSON,
  // see `open_words_close`), and Error not_regular_file_message(path, kind)
  // for a directory, FIFO, device or socket.
  explicit RegularFile(const std::string& path, const std::string& open_words = "cannot open: ",
                       const std::string& open_words_close = "");
  ~RegularFile();
  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&&) = delete;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;

  int fd() const { return fd_; }
  std::size_t size() const { return size_; }  // at open time
  // Hands the descriptor to a library that closes it (zip_fdopen, gzdopen).
  int release();

 private:
  int fd_ = -1;
  std::size_t size_ = 0;
};

// What a file of this mode (from stat(2), links followed) is when it is not a
// regular file, for messages: "a directory", "a FIFO", "a character device",
// "a block device", "a socket"; `otherwise` for any other type.
const char* non_regular_kind(mode_t mode, const char* otherwise);

// "<path>: not a regular file (a FIFO); bnlab reads only regular files, not
// directories, devices or pipes".
std::string not_regular_file_message(const std::string& path, const std::string& kind);

// Whether `path` names a regular file (following symbolic links), without
// opening it: for a quick look that must never block (is this an archive?).
bool is_regular_file(const std::string& path);

}  // namespace bnlab
