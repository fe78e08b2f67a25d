#pragma once
// Outputs checked before any work: the pre-flight of io/atomic_file.hpp.
// Every --output, --html and --out-dir of every subcommand goes through
// check_outputs (or check_output_directory) before a tensor is read or a
// model trained, so a destination that cannot be written is one line at once,
// not minutes of training wasted and an error after the progress lines.
//
// A destination is refused when
//   - its name is empty, or longer than its file system allows (NAME_MAX,
//     PATH_MAX);
//   - it is a symbolic link loop or a dangling link, a directory, a FIFO, a
//     device or a socket, or a file without write permission;
//   - its directory is missing, not a directory, not writable, or on a file
//     system with no space left (or read-only);
//   - it is the same file as an input or as another output: compared by
//     st_dev/st_ino when the file exists, by normalized absolute path (links
//     resolved) otherwise.
// Errors: "<option>: cannot write \"<path>\": <reason>", one line.
#include <string>
#include <optional>
#include <utility>
#include <vector>

namespace bnlab {

// A file named on the command line (or in a config file) and the option
// that named it, for messages: {"--output", "report.json"}.
struct NamedPath {
  std::string option;
  std::string path;
};

// An empty path as "not given" (an option whose default is "").
inline std::optional<std::string> nonempty(const std::string& path) {
  return path.empty() ? std::nullopt : std::optional<std::string>(path);
}

// The files that were given, each with the option naming it; an unset one
// is left out: given({{"--output", config.output}, {"--html", html}}).
std::vector<NamedPath> given(const std::vector<std::pair<std::string, std::optional<std::string>>>& named);

// Where write_file_atomically / OutputGroup put a file given as `path`.
struct Destination {
  std::string target;  // `path`, or the target of the symbolic link `path` is
  bool exists = false;
  unsigned mode = 0666;  // the permission bits of the existing file
};

// The destination of `path`, or the reason it cannot be one ("is a FIFO;
// bnlab writes only regular files"), the subject being the path: "" when it
// can. One rule for the pre-flight and for the atomic write itself.
std::string destination_problem(const std::string& path, Destination& destination);

// Checks every output as above, against each other and against `inputs`.
// Throws Error naming the option and the path.
void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs = {});

// The same for a directory of outputs (normalize --out-dir), created when
// missing: it must be a directory or creatable, and each of `file_names`
// in it a valid destination that is none of `inputs`.
void check_output_directory(const NamedPath& directory, const std::vector<std::string>& file_names,
                            const std::vector<NamedPath>& inputs);

}  // namespace bnlab
