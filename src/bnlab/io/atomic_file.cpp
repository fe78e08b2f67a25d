#include "bnlab/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bnlab/core/error.hpp"

namespace bnlab {
namespace {

[[noreturn]] void fail(const std::string& path, int error_number) {
  throw Error(path + ": cannot write: " + std::strerror(error_number));
}

// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
// Returns 0 or the errno of the failure.
int write_all(int fd, const std::string& bytes) {
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  return 0;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  // The temporary lives beside the destination (rename is only atomic within
  // one file system): "dir/.name.tmp-<pid>-<k>". O_EXCL makes it ours alone;
  // mode 0666 lets the umask decide the permissions, as for any new file.
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path target(path);
  int fd = -1;
  std::string temp;
  for (int attempt = 0; fd < 0; ++attempt) {
    temp = (target.parent_path() / ("." + target.filename().string() + ".tmp-" +
                                    std::to_string(::getpid()) + "-" +
                                    std::to_string(counter++)))
               .string();
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt >= 100)) fail(path, errno);
  }

  int error_number = write_all(fd, bytes);
  if (error_number == 0 && ::fsync(fd) != 0) error_number = errno;
  if (::close(fd) != 0 && error_number == 0) error_number = errno;
  if (error_number == 0 && std::rename(temp.c_str(), path.c_str()) != 0) error_number = errno;
  if (error_number != 0) {
    ::unlink(temp.c_str());
    fail(path, error_number);
  }
}

}  // namespace bnlab
