#include "bnlab/io/output_check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/io/regular_file.hpp"

namespace bnlab {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const NamedPath& named, const std::string& reason) {
  throw Error(named.option + ": cannot write " + bnlab::quoted(named.path) + ": " + reason);
}

fs::path directory_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// The errno of reserving one block in `directory` for an anonymous file (a
// full or read-only file system, a quota), or 0. The file vanishes when
// closed. Where O_TMPFILE or the reservation is not supported: what
// statvfs(3) says (read-only, or not one block free).
int probe_space(const fs::path& directory) {
  const int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return errno;
    struct statvfs status {};
    if (::statvfs(directory.c_str(), &status) != 0) return 0;
    if (status.f_flag & ST_RDONLY) return EROFS;
    return status.f_bfree == 0 ? ENOSPC : 0;
  }
  const int reserved = ::posix_fallocate(fd, 0, 4096);
  ::close(fd);
  return reserved == EOPNOTSUPP || reserved == EINVAL ? 0 : reserved;
}

// A directory files are written into: exists, is one, writable, has room.
void check_directory(const NamedPath& output, const fs::path& directory) {
  const std::string shown = bnlab::quoted(directory.string());
  struct stat status {};
  if (::stat(directory.c_str(), &status) != 0) {
    if (errno == ENOENT) refuse(output, "directory " + shown + " does not exist");
    refuse(output, "directory " + shown + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(status.st_mode)) refuse(output, shown + " is not a directory");
  if (::access(directory.c_str(), W_OK) != 0) refuse(output, "directory " + shown + " is not writable");
  if (const int error_number = probe_space(directory)) {
    refuse(output, "cannot write in directory " + shown + ": " + std::strerror(error_number));
  }
}

// A name the file system can hold: each component at most NAME_MAX bytes
// (of the directory's file system where it exists), the whole below PATH_MAX.
void check_name_length(const NamedPath& named) {
  if (named.path.size() >= PATH_MAX) {
    refuse(named, "its path is " + std::to_string(named.path.size()) + " bytes, more than the limit of " +
                      std::to_string(PATH_MAX - 1));
  }
  fs::path so_far;
  for (const fs::path& component : fs::path(named.path)) {
    const std::string name = component.string();
    if (!name.empty() && name != "/") {
      long name_max = ::pathconf(so_far.empty() ? "." : so_far.c_str(), _PC_NAME_MAX);
      if (name_max <= 0) name_max = NAME_MAX;
      if (name.size() > static_cast<std::size_t>(name_max)) {
        refuse(named, "the name " + bnlab::quoted(name, 24) + " is " + std::to_string(name.size()) +
                          " bytes, more than the " + std::to_string(name_max) + " its file system allows");
      }
    }
    so_far /= component;
  }
}

// Which file `path` is: its device and inode when it exists, else its
// absolute path with links resolved and "." and ".." removed.
std::string identity(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0) {
    return "inode " + std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
  }
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  fs::path normal = fs::weakly_canonical(absolute, ec);
  return "path " + (ec ? absolute.lexically_normal() : normal.lexically_normal()).string();
}

// No output is an input or another output.
void check_distinct(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  std::vector<std::string> input_ids, output_ids;
  for (const NamedPath& input : inputs) input_ids.push_back(identity(input.path));
  for (const NamedPath& output : outputs) {
    const std::string id = identity(output.path);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (input_ids[i] == id) {
        refuse(output, "is the same file as " + inputs[i].option + " " + bnlab::quoted(inputs[i].path) +
                           "; bnlab does not write over its input");
      }
    }
    for (std::size_t k = 0; k < output_ids.size(); ++k) {
      if (output_ids[k] == id) {
        refuse(output, "is the same file as " + outputs[k].option + " " + bnlab::quoted(outputs[k].path) +
                           "; each output needs a file of its own");
      }
    }
    output_ids.push_back(id);
  }
}

}  // namespace

std::string destination_problem(const std::string& path, Destination& destination) {
  destination = Destination{};
  destination.target = path;
  if (path.empty()) return "is an empty path";
  struct stat link_status {};
  if (::lstat(path.c_str(), &link_status) == 0 && S_ISLNK(link_status.st_mode)) {
    std::error_code ec;
    const fs::path target = fs::canonical(path, ec);
    if (ec) {
      struct stat status {};
      const bool loop = ::stat(path.c_str(), &status) != 0 && errno == ELOOP;
      return loop ? "is a symbolic link loop (bnlab writes through a link to its target)"
                  : "is a dangling symbolic link (bnlab writes through a link to its target)";
    }
    destination.target = target.string();
  }
  struct stat status {};
  if (::stat(destination.target.c_str(), &status) == 0) {
    if (!S_ISREG(status.st_mode)) {
      return std::string("is not a regular file (") + non_regular_kind(status.st_mode, "not a file bnlab can replace") +
             "); bnlab writes only regular files";
    }
    if ((status.st_mode & 0222) == 0) return "is read-only; bnlab does not replace a file without write permission";
    destination.exists = true;
    destination.mode = status.st_mode & 07777;
  } else if (errno != ENOENT && errno != ENOTDIR) {  // a missing file, or a parent that is no directory: checked with the directory
    return std::string("cannot write: ") + std::strerror(errno);
  }
  return "";
}

void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  for (const NamedPath& output : outputs) {
    if (output.path.empty()) throw Error(output.option + ": expected a path, got \"\"");
    check_name_length(output);
    Destination destination;
    const std::string problem = destination_problem(output.path, destination);
    if (!problem.empty()) refuse(output, problem);
    check_directory(output, directory_of(destination.target));
  }
  check_distinct(outputs, inputs);
}

void check_output_directory(const NamedPath& directory, const std::vector<std::string>& file_names,
                            const std::vector<NamedPath>& inputs) {
  if (directory.path.empty()) throw Error(directory.option + ": expected a directory, got \"\"");
  check_name_length(directory);
  std::vector<NamedPath> files;
  for (const std::string& name : file_names) {
    files.push_back({directory.option, (fs::path(directory.path) / name).string()});
  }
  struct stat status {};
  if (::stat(directory.path.c_str(), &status) == 0) {
    if (!S_ISDIR(status.st_mode)) refuse(directory, "is not a directory");
    check_directory(directory, directory.path);
    for (const NamedPath& file : files) {
      Destination destination;
      const std::string problem = destination_problem(file.path, destination);
      if (!problem.empty()) refuse(file, problem);
    }
  } else if (errno == ENOENT) {  // created by the run: its nearest existing ancestor takes it
    std::error_code ec;
    fs::path ancestor = fs::absolute(directory.path, ec).parent_path();
    while (!ancestor.empty() && ::stat(ancestor.c_str(), &status) != 0 && ancestor != ancestor.parent_path()) {
      ancestor = ancestor.parent_path();
    }
    check_directory(directory, ancestor);
  } else {
    refuse(directory, std::string("cannot create it: ") + std::strerror(errno));
  }
  check_distinct(files, inputs);
}

std::vector<NamedPath> given(const std::vector<std::pair<std::string, std::optional<std::string>>>& named) {
  std::vector<NamedPath> paths;
  for (const auto& [option, path] : named)
    if (path) paths.push_back({option, *path});
  return paths;
}

}  // namespace bnlab
