#include "bnlab/io/npz.hpp"

#include <cstdio>
#include <zip.h>

#include "bnlab/core/error.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/io/file_kind.hpp"
#include "bnlab/io/npy.hpp"

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

NpzArchive::NpzArchive(const std::string& path) : path_(path), zip_(std::make_unique<Zip>()) {
  int code = 0;
  zip_->handle = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (!zip_->handle) throw Error(path + ": cannot read as an .npz (zip) archive: " + zip_error_text(code));
  const std::vector<std::string> names = member_names(zip_->handle);
  if (is_torch_archive(names)) throw Error(path + ": this is a PyTorch archive (torch.save); " + kTorchSaveHowTo);

  // numpy.savez writes one "<key>.npy" per array, in the order given.
  for (const std::string& member : names) {
    if (!ends_with(member, kNpySuffix)) continue;  // not an array (numpy.load skips it too)
    NpzEntry entry;
    entry.name = member.substr(0, member.size() - std::string(kNpySuffix).size());
    members_.push_back(member);
    entries_.push_back(entry);
  }
  // Each header, from the member's bytes (released before the next member is read).
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const NpyHeader header = parse_npy_header(member_bytes(i), member_path(entries_[i]));
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

std::string NpzArchive::member_bytes(std::size_t index) const {
  const std::string where = member_path(entries_.at(index));
  zip_file_t* file = zip_fopen(zip_->handle, members_.at(index).c_str(), 0);
  if (!file) throw Error(where + ": cannot read: " + zip_strerror(zip_->handle));
  std::string bytes;
  char buffer[1 << 16];
  zip_int64_t got = 0;
  while ((got = zip_fread(file, buffer, sizeof buffer)) > 0) bytes.append(buffer, static_cast<std::size_t>(got));
  const bool failed = got < 0;  // includes a CRC mismatch at the end of the member
  const std::string error = failed ? zip_file_strerror(file) : "";
  zip_fclose(file);
  if (failed) throw Error(where + ": cannot read: " + error);
  return bytes;
}

Array<float> NpzArchive::read(const NpzEntry& entry) const {
  const std::size_t index = static_cast<std::size_t>(&entry - entries_.data());
  return parse_npy(member_bytes(index), member_path(entry));
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
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  char head[4];
  const std::size_t got = std::fread(head, 1, sizeof head, file);
  std::fclose(file);
  return starts_like_zip(std::string(head, got));
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
