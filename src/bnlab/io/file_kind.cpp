#include "bnlab/io/file_kind.hpp"

#include <optional>
#include <vector>

#include "bnlab/io/npz.hpp"

namespace bnlab {
namespace {

// torch.save's legacy (pre-1.6, non-zip) format opens with a pickled magic
// number, 0x1950a86a20f9469cfc6c, after the PROTO 2 opcode: 0x80 0x02, then
// LONG1 (0x8a) of 10 bytes, little-endian.
const std::string kTorchLegacyMagic("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14);

bool starts_with(const std::string& bytes, const std::string& prefix) { return bytes.compare(0, prefix.size(), prefix) == 0; }

std::string joined_npy_keys(const std::vector<std::string>& names) {
  std::string keys;
  std::size_t count = 0;
  for (const std::string& name : names) {
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) continue;
    if (count++) keys += ", ";
    keys.append(name, 0, name.size() - 4);
  }
  std::string text = std::to_string(count) + (count == 1 ? " array" : " arrays");
  if (count) text += " (" + keys + ")";
  return text;
}

}  // namespace

std::string describe_non_npy(const std::string& bytes) {
  const std::optional<std::vector<std::string>> names =
      starts_like_zip(bytes) ? zip_member_names(bytes) : std::nullopt;  // nullopt: not a readable zip
  if (names) {
    if (is_torch_archive(*names)) return std::string("this is a PyTorch archive (torch.save); ") + kTorchSaveHowTo;
    return "this is an .npz archive (numpy.savez) holding " + joined_npy_keys(*names) +
           ", not a .npy file; save the one array wanted here with numpy.save";
  }
  if (starts_with(bytes, kTorchLegacyMagic)) {
    return std::string("this is a PyTorch file (torch.save, legacy format); ") + kTorchSaveHowTo;
  }
  if (bytes.size() >= 2 && bytes[0] == '\x80' && bytes[1] >= 2 && bytes[1] <= 5) {
    return "this is a Python pickle, not a .npy file; save arrays with numpy.save(path, array)";
  }
  return "not a .npy file (bad magic)";
}

}  // namespace bnlab
