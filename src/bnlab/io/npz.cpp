#include "bnlab/io/npz.hpp"

#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <set>

#include "bnlab/core/error.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/io/file_kind.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/io/regular_file.hpp"

namespace bnlab {
namespace {

constexpr const char* kNpySuffix = ".npy";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

}  // namespace

std::string printable_name(const std::string& name) {
  std::string out;
  for (char ch : name) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += ch;
    }
  }
  return out;
}

namespace {

std::vector<std::string> member_names(zip_t* zip) {
  std::vector<std::string> names;
  const zip_int64_t count = zip_get_num_entries(zip, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* name = zip_get_name(zip, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS);
    names.push_back(name ? name : "");
  }
  return names;
}

}  // namespace

struct NpzArchive::Zip {
  zip_t* handle = nullptr;
  ~Zip() {
    if (handle) zip_discard(handle);  // read-only: nothing to write back
  }
};

namespace {

constexpr std::uint64_t kLocalHeaderBytes = 30;   // a zip local file header without its name and extra field
constexpr std::uint64_t kHeaderInflateBytes = 4096;  // inflated first for a member's .npy header (numpy's: 128)
constexpr std::uint64_t kMaxNpyHeaderBytes = std::uint64_t{1} << 20;  // a longer .npy header is not read from an .npz

// The archive opened without libzip's consistency checks, only to say what a
// refused archive is: a torch.save file, or which name is repeated. nullptr
// when libzip cannot open it that way either.
zip_t* open_lax(int fd) {
  const int copy = ::dup(fd);
  if (copy < 0) return nullptr;
  int code = 0;
  zip_t* zip = zip_fdopen(copy, 0, &code);
  if (!zip) ::close(copy);
  return zip;
}

// The first name that two members share, or nullopt.
std::optional<std::string> repeated_name(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) return name;
  }
  return std::nullopt;
}

// Why libzip refused to open an archive (ZIP_CHECKCONS), in words.
[[noreturn]] void refuse_archive(const std::string& path, int fd, int code) {
  if (zip_t* lax = open_lax(fd)) {
    const std::vector<std::string> names = member_names(lax);
    zip_discard(lax);
    if (is_torch_archive(names)) throw Error(path + ": this is a PyTorch archive (torch.save); " + kTorchSaveHowTo);
    if (const std::optional<std::string> name = repeated_name(names)) {
      throw Error(path + ": two members are named \"" + printable_name(*name) +
                  "\" (numpy.savez writes each name once; which one is meant?)");
    }
    // Read as a zip without the checks, refused with them: the checks failed.
    if (code == ZIP_ER_INCONS) {
      throw Error(path + ": inconsistent .npz (zip) archive: a member's local header disagrees with the central "
                         "directory (name, sizes or method)");
    }
    if (code == ZIP_ER_NOZIP) {
      throw Error(path + ": inconsistent .npz (zip) archive: a member's data extends past the central directory "
                         "(members that share or overlap data, or sizes that lie)");
    }
  }
  throw Error(path + ": cannot read as an .npz (zip) archive: " + zip_error_text(code));
}

}  // namespace

NpzArchive::NpzArchive(const std::string& path) : path_(path), zip_(std::make_unique<Zip>()) {
  // Only a regular file (io/regular_file.hpp); libzip reads the descriptor opened here.
  RegularFile file(path);
  const std::uint64_t archive_bytes = file.size();
  int code = 0;
  // ZIP_CHECKCONS: every local header is read and compared with its central
  // directory entry (name, sizes, method), members must end before the
  // central directory, and a repeated name is an error.
  zip_->handle = zip_fdopen(file.fd(), ZIP_CHECKCONS, &code);
  if (!zip_->handle) refuse_archive(path, file.fd(), code);
  file.release();  // libzip closes it now
  const std::vector<std::string> names = member_names(zip_->handle);
  if (is_torch_archive(names)) throw Error(path + ": this is a PyTorch archive (torch.save); " + kTorchSaveHowTo);
  if (const std::optional<std::string> name = repeated_name(names)) {
    throw Error(path + ": two members are named \"" + printable_name(*name) +
                "\" (numpy.savez writes each name once; which one is meant?)");
  }

  // The declared sizes, checked against the file before anything is inflated.
  std::uint64_t claimed = 0;  // local headers and compressed data, which do not overlap in an honest archive
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string where = path + ":" + printable_name(names[i]);
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(zip_->handle, i, 0, &stat) != 0) throw Error(where + ": cannot read: " + zip_strerror(zip_->handle));
    const bool known = (stat.valid & ZIP_STAT_SIZE) && (stat.valid & ZIP_STAT_COMP_SIZE) && (stat.valid & ZIP_STAT_COMP_METHOD);
    if (!known) throw Error(where + ": the archive does not declare the member's sizes");
    if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) && stat.encryption_method != ZIP_EM_NONE) {
      throw Error(where + ": an encrypted member (numpy.savez never encrypts)");
    }
    if (stat.comp_method == ZIP_CM_STORE && stat.size != stat.comp_size) {
      throw Error(where + ": a stored member declares " + std::to_string(stat.size) + " bytes uncompressed but " +
                  std::to_string(stat.comp_size) + " stored");
    }
    if (stat.comp_method != ZIP_CM_STORE && stat.comp_method != ZIP_CM_DEFLATE) {
      throw Error(where + ": compression method " + std::to_string(stat.comp_method) +
                  " (numpy.savez stores members, numpy.savez_compressed deflates them; bnlab reads those two)");
    }
    if (stat.comp_method == ZIP_CM_DEFLATE && stat.size / kDeflateMaxRatio > stat.comp_size + 1) {
      throw Error(where + ": declares " + std::to_string(stat.size) + " bytes uncompressed from " +
                  std::to_string(stat.comp_size) + " compressed, more than deflate can produce (" +
                  std::to_string(kDeflateMaxRatio) + ":1)");
    }
    const char* raw_name = zip_get_name(zip_->handle, i, ZIP_FL_ENC_RAW);  // as stored (the guess may be longer UTF-8)
    const std::uint64_t name_bytes = raw_name ? std::strlen(raw_name) : 0;
    if (stat.comp_size <= archive_bytes) claimed += kLocalHeaderBytes + name_bytes + stat.comp_size;
    if (stat.comp_size > archive_bytes || claimed > archive_bytes) {
      throw Error(path + ": the members' declared sizes add up to more than the archive's " +
                  std::to_string(archive_bytes) + " bytes (members that share or overlap data, or sizes that lie; "
                  "numpy.savez writes neither)");
    }
    // numpy.savez writes one "<key>.npy" per array, in the order given.
    if (!ends_with(names[i], kNpySuffix)) continue;  // not an array (numpy.load skips it too)
    NpzEntry entry;
    entry.name = names[i].substr(0, names[i].size() - std::string(kNpySuffix).size());
    members_.push_back(Member{static_cast<std::uint64_t>(i), stat.size});
    entries_.push_back(entry);
  }
  // Each header from the member's first bytes: the data is inflated only when read.
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const std::uint64_t size = members_[i].size;
    std::string head = member_bytes(i, std::min(size, kHeaderInflateBytes), false);
    const std::uint64_t end = npy_header_end(head);
    if (end > head.size() && end <= std::min(size, kMaxNpyHeaderBytes)) head = member_bytes(i, end, false);
    const NpyHeader header = parse_npy_header(head, member_path(entries_[i]));
    entries_[i].descr = header.descr;
    entries_[i].shape = header.shape;
  }
}

NpzArchive::~NpzArchive() = default;

const NpzEntry* NpzArchive::find(const std::string& name) const {
  for (const NpzEntry& entry : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::string NpzArchive::member_bytes(std::size_t index, std::uint64_t count, bool whole) const {
  const std::string where = member_path(entries_.at(index));
  const Member& member = members_.at(index);
  zip_file_t* file = zip_fopen_index(zip_->handle, member.index, 0);
  if (!file) throw Error(where + ": cannot read: " + zip_strerror(zip_->handle));
  count = whole ? member.size : std::min(count, member.size);
  std::string bytes;
  std::string error;
  // Memory grows with the bytes that arrive, not with the declared size: a
  // member that declares 256 MiB and ends after 1 KiB costs 1 KiB (the
  // reservation, capped, touches no page until written).
  constexpr std::uint64_t kPiece = 1 << 20, kMaxReserve = std::uint64_t{256} << 20;
  try {
    bytes.reserve(static_cast<std::size_t>(std::min(count, kMaxReserve)));
    std::uint64_t have = 0;
    // In pieces, never past `count`: libzip 1.7 inflates past the declared
    // size if the data goes on, so the declared size is enforced here.
    while (have < count && error.empty()) {
      const std::uint64_t piece = std::min(count - have, kPiece);
      bytes.resize(static_cast<std::size_t>(have + piece));
      const zip_int64_t got = zip_fread(file, bytes.data() + have, piece);
      if (got < 0) error = zip_file_strerror(file);  // includes a CRC mismatch at the end of the member
      else if (got == 0) error = "the member ends after " + std::to_string(have) + " of the " +
                                 std::to_string(member.size) + " bytes the archive declares";
      else have += static_cast<std::uint64_t>(got);
      bytes.resize(static_cast<std::size_t>(have));
    }
  } catch (const std::bad_alloc&) {
    zip_fclose(file);
    throw Error(where + ": cannot hold its " + std::to_string(count) + " bytes in memory");
  }
  if (error.empty() && whole) {
    char extra = 0;
    const zip_int64_t got = zip_fread(file, &extra, 1);
    if (got > 0) error = "the member inflates to more than the " + std::to_string(member.size) + " bytes the archive declares";
    else if (got < 0) error = zip_file_strerror(file);
  }
  zip_fclose(file);
  if (!error.empty()) throw Error(where + ": cannot read: " + error);
  return bytes;
}

Array<float> NpzArchive::read(const NpzEntry& entry) const {
  const std::size_t index = static_cast<std::size_t>(&entry - entries_.data());
  return parse_npy(member_bytes(index, members_.at(index).size, true), member_path(entry));
}

std::string NpzArchive::contents() const {
  if (entries_.empty()) return "no arrays";
  constexpr std::size_t kMaxListed = 12;  // keeps the message one readable line
  std::string text;
  for (std::size_t i = 0; i < entries_.size() && i < kMaxListed; ++i) {
    if (i) text += ", ";
    text += printable_name(entries_[i].name) + " " + shape_to_string(entries_[i].shape) + " " +
            printable_name(entries_[i].descr);
  }
  if (entries_.size() > kMaxListed) text += ", and " + std::to_string(entries_.size() - kMaxListed) + " more";
  return text;
}

Array<float> read_feature_map_or_layer(const std::string& path, const std::optional<std::string>& layer,
                                       DataLayout layout, const std::string& what) {
  if (!file_starts_like_zip(path)) {
    if (layer) throw Error(what + ": " + path + " is not an .npz archive (" + what + " chooses an array of an .npz)");
    return read_feature_map(path, layout);
  }
  const NpzArchive archive(path);
  if (!layer) {
    throw Error(path + ": an .npz archive of " + std::to_string(archive.entries().size()) +
                " arrays: choose one with " + what + " NAME (it holds: " + archive.contents() + ")");
  }
  const NpzEntry* entry = archive.find(*layer);
  if (!entry) {
    throw Error(what + ": " + path + " holds no array named \"" + printable_name(*layer) + "\" (it holds: " +
                archive.contents() + ")");
  }
  return as_feature_map(archive.read(*entry), layout, archive.member_path(*entry));
}

bool starts_like_zip(const std::string& bytes) {
  return bytes.compare(0, 4, std::string("PK\3\4", 4)) == 0 || bytes.compare(0, 4, std::string("PK\5\6", 4)) == 0;
}

bool file_starts_like_zip(const std::string& path) {
  // Through RegularFile: a FIFO or device is not an archive (its reader then
  // refuses it by type), and opening it never blocks.
  try {
    const RegularFile file(path);
    char head[4];
    ssize_t got = 0;
    do got = ::pread(file.fd(), head, sizeof head, 0);
    while (got < 0 && errno == EINTR);
    return got > 0 && starts_like_zip(std::string(head, static_cast<std::size_t>(got)));
  } catch (const Error&) {
    return false;
  }
}

std::optional<std::vector<std::string>> zip_member_names(const std::string& bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) return std::nullopt;
  zip_t* zip = zip_open_from_source(source, ZIP_RDONLY, &error);
  zip_error_fini(&error);
  if (!zip) {
    zip_source_free(source);
    return std::nullopt;
  }
  std::vector<std::string> names = member_names(zip);
  zip_discard(zip);  // frees the source too
  return names;
}

bool is_torch_archive(const std::vector<std::string>& member_names) {
  for (const std::string& name : member_names) {
    const std::size_t slash = name.find('/');
    if (name == "data.pkl" || (slash != std::string::npos && name.substr(slash + 1) == "data.pkl")) return true;
  }
  return false;
}

}  // namespace bnlab
