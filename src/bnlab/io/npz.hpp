#pragma once
// NumPy .npz archives: what numpy.savez and numpy.savez_compressed write, a
// zip file holding one NAME.npy per array (stored, or deflated by
// savez_compressed). Read with libzip (Debian's libzip-dev), never a
// hand-written zip parser.
//
// A torch.save file is a zip too (it holds a pickled object in
// "<name>/data.pkl" and raw storages), and is refused with a message saying
// how to save the tensor for bnlab instead.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/core/tensor.hpp"
#include "bnlab/io/npy.hpp"

namespace bnlab {

// One array of an archive, as its header describes it (the data is not checked).
struct NpzEntry {
  std::string name;    // the key given to numpy.savez: the member name without ".npy"
  std::string descr;   // dtype, e.g. '<f2'
  Shape shape;
};

// `name` with control characters shown as \xNN, fit for a one-line message.
std::string printable_name(const std::string& name);

class NpzArchive {
 public:
  // Opens the archive and reads every array's header (inflating only the
  // header's first bytes of each member). Throws Error naming `path`: cannot
  // open, not a regular file, not a zip archive, a torch.save archive, a
  // member whose header is malformed ("acts.npz:conv1: ..."), and an archive
  // bnlab does not trust (numpy.savez never writes one):
  //   - two members of the same name (numpy.load would return one of them);
  //   - a member whose local header disagrees with the central directory
  //     (name, sizes, method: libzip's ZIP_CHECKCONS);
  //   - members that share or overlap data (their declared compressed sizes
  //     and headers add up to more than the archive);
  //   - a declared uncompressed size deflate cannot produce from the
  //     compressed size (more than kDeflateMaxRatio:1), or a stored member
  //     whose two sizes differ, or another compression method or encryption.
  explicit NpzArchive(const std::string& path);
  ~NpzArchive();
  NpzArchive(const NpzArchive&) = delete;
  NpzArchive& operator=(const NpzArchive&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<NpzEntry>& entries() const { return entries_; }  // in archive order
  const NpzEntry* find(const std::string& name) const;               // nullptr if absent

  // The array as read_npy reads a file (float32, C order; float16 widened);
  // errors name it "<path>:<name>". Only this member is inflated, and never
  // beyond the size the archive declares for it (a member that inflates to
  // more is refused as soon as the extra bytes arrive).
  Array<float> read(const NpzEntry& entry) const;

  // "conv1 (8, 64, 32, 32) <f2, labels (8,) <i8": what the archive holds, for
  // messages (the first 12 arrays, then ", and N more").
  std::string contents() const;

  // "<path>:<name>", how a member is named in messages and reports.
  std::string member_path(const NpzEntry& entry) const { return path_ + ":" + printable_name(entry.name); }

 private:
  struct Zip;
  struct Member {
    std::uint64_t index = 0;  // libzip's index
    std::uint64_t size = 0;   // declared uncompressed size
  };
  // The first `count` bytes of member `index` inflated (at most its declared
  // size); `whole`: all of it, checked to end there (no byte more).
  std::string member_bytes(std::size_t index, std::uint64_t count, bool whole) const;
  std::string path_;
  std::unique_ptr<Zip> zip_;
  std::vector<NpzEntry> entries_;
  std::vector<Member> members_;  // the zip member of each entry
};

// Deflate's largest expansion: a 258-byte match costs at least 2 bits, so
// one compressed byte gives at most 1032 bytes (zlib's technical notes).
inline constexpr std::uint64_t kDeflateMaxRatio = 1032;

// The feature map of read_feature_map from a .npy file, or from the array
// `layer` of an .npz archive (named "<path>:<layer>" in errors). `what` is
// how the caller names the layer ("--layer" on the command line). Errors:
//   "--layer: acts.npz holds no array named \"x\" (it holds: ...)"
//   "acts.npz: an .npz archive of 5 arrays: choose one with --layer NAME (it holds: ...)"
//   "--layer: x.npy is not an .npz archive (--layer chooses an array of an .npz)"
Array<float> read_feature_map_or_layer(const std::string& path, const std::optional<std::string>& layer,
                                       DataLayout layout, const std::string& what);

// True when `bytes` starts like a zip archive ("PK\3\4", or "PK\5\6" when empty).
bool starts_like_zip(const std::string& bytes);

// True when the file at `path` starts like a zip archive (false if unreadable).
bool file_starts_like_zip(const std::string& path);

// The names of the members of a zip archive held in memory; nullopt when
// libzip cannot open it.
std::optional<std::vector<std::string>> zip_member_names(const std::string& bytes);

// True when member names show a torch.save archive ("data.pkl" in the root or
// one folder down).
bool is_torch_archive(const std::vector<std::string>& member_names);

}  // namespace bnlab
