#include "bnlab/io/npz_write.hpp"

#include <zip.h>

#include <cstdio>

#include "bnlab/core/error.hpp"
#include "bnlab/io/atomic_file.hpp"
#include "bnlab/io/npy.hpp"

namespace bnlab {

namespace {
[[noreturn]] void fail(const std::string& what, zip_error_t* error) {
  const std::string message = "cannot build the .npz archive: " + what + ": " + zip_error_strerror(error);
  zip_error_fini(error);
  throw Error(message);
}
}  // namespace

std::string npz_bytes(const std::vector<std::pair<std::string, Array<float>>>& arrays) {
  // The members' bytes must outlive zip_close, which is when libzip reads them.
  std::vector<std::string> members;
  members.reserve(arrays.size());
  for (const auto& [name, array] : arrays) members.push_back(npy_bytes(array));

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (buffer == nullptr) fail("buffer", &error);
  zip_source_keep(buffer);  // zip_close writes into it; we read it back after
  zip_t* zip = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (zip == nullptr) {
    zip_source_free(buffer);
    fail("open", &error);
  }
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    zip_source_t* member = zip_source_buffer(zip, members[i].data(), members[i].size(), 0);
    const std::string name = arrays[i].first + ".npy";
    const zip_int64_t index = member == nullptr ? -1 : zip_file_add(zip, name.c_str(), member, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      if (member != nullptr) zip_source_free(member);
      zip_discard(zip);
      zip_source_free(buffer);
      throw Error("cannot build the .npz archive: member " + name + ": " + zip_strerror(zip));
    }
    zip_set_file_compression(zip, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);  // numpy.savez stores too
  }
  if (zip_close(zip) != 0) {
    const std::string reason = zip_strerror(zip);
    zip_discard(zip);
    zip_source_free(buffer);
    throw Error("cannot build the .npz archive: " + reason);
  }
  std::string bytes;
  if (zip_source_open(buffer) == 0) {
    zip_source_seek(buffer, 0, SEEK_END);
    const zip_int64_t size = zip_source_tell(buffer);
    zip_source_seek(buffer, 0, SEEK_SET);
    if (size > 0) {
      bytes.resize(static_cast<std::size_t>(size));
      if (zip_source_read(buffer, bytes.data(), static_cast<zip_uint64_t>(size)) != size) bytes.clear();
    }
    zip_source_close(buffer);
  }
  zip_source_free(buffer);
  if (bytes.empty()) throw Error("cannot build the .npz archive: reading it back failed");
  return bytes;
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, Array<float>>>& arrays) {
  write_file_atomically(path, npz_bytes(arrays));
}

}  // namespace bnlab
