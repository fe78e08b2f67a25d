#include "bnlab/io/regular_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "bnlab/core/error.hpp"

namespace bnlab {
const char* non_regular_kind(mode_t mode, const char* otherwise) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return otherwise;
}

std::string not_regular_file_message(const std::string& path, const std::string& kind) {
  return path + ": not a regular file (" + kind + "); bnlab reads only regular files, not directories, devices or pipes";
}

RegularFile::RegularFile(const std::string& path, const std::string& open_words, const std::string& open_words_close) {
  // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a
  // writer (it is then refused below); it changes nothing for a regular file.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw Error(path + ": " + open_words + std::strerror(errno) + open_words_close);
  struct stat status {};
  if (::fstat(fd_, &status) != 0) {
    const int error_number = errno;
    ::close(fd_);
    throw Error(path + ": " + open_words + std::strerror(error_number) + open_words_close);
  }
  if (!S_ISREG(status.st_mode)) {
    ::close(fd_);
    throw Error(not_regular_file_message(path, non_regular_kind(status.st_mode, "not a file")));
  }
  // Back to blocking reads (a regular file ignores the flag; a library
  // handed the descriptor sees the usual semantics).
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  size_ = static_cast<std::size_t>(status.st_size);
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

RegularFile::RegularFile(RegularFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

int RegularFile::release() { return std::exchange(fd_, -1); }

bool is_regular_file(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode);
}

}  // namespace bnlab
