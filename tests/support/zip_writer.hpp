#pragma once
// A small zip writer for tests that craft .npz archives numpy would never
// write: members stored or deflated (raw deflate, zlib), and the lies a
// hostile archive tells: a declared size that is not the data's, a local
// header whose name differs from the central directory's, a central entry
// that points at another member's data, two members of one name.
#include <zlib.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace testing {

struct ZipMember {
  std::string name;
  std::string data;                            // the uncompressed bytes
  bool deflate = false;                        // method 8 (else 0, stored)
  std::optional<std::uint32_t> declared_size{}; // the uncompressed size both headers declare (default: data's)
  std::optional<std::string> local_name{};     // the local header's name (default: name)
  std::optional<std::size_t> share_with{};     // point the central entry at member K's local header; no data of its own
  std::optional<std::uint64_t> zip64_size{};   // declare this uncompressed size in a zip64 extra field (both headers)
};

// The zip64 extended-information extra field: uncompressed and compressed sizes.
inline std::string zip64_extra(std::uint64_t size, std::uint64_t compressed) {
  std::string out;
  out += char(1), out += char(0), out += char(16), out += char(0);
  for (std::uint64_t v : {size, compressed})
    for (int i = 0; i < 8; ++i) out += char((v >> (8 * i)) & 0xff);
  return out;
}

inline std::string raw_deflate(const std::string& data) {
  z_stream stream{};
  if (deflateInit2(&stream, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&stream, data.size()) + 16, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

inline void put16(std::string& out, std::uint32_t v) {
  out += char(v & 0xff);
  out += char((v >> 8) & 0xff);
}
inline void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

inline std::string zip_bytes(const std::vector<ZipMember>& members) {
  std::string out, central;
  std::vector<std::uint32_t> offsets;
  struct Sizes {
    std::uint32_t crc, comp, size;
  };
  std::vector<Sizes> sizes;
  for (const ZipMember& m : members) {
    const std::string body = m.deflate ? raw_deflate(m.data) : m.data;
    const std::uint32_t crc =
        crc32(0, reinterpret_cast<const Bytef*>(m.data.data()), static_cast<uInt>(m.data.size()));
    const Sizes s{crc, static_cast<std::uint32_t>(body.size()), m.declared_size.value_or(static_cast<std::uint32_t>(m.data.size()))};
    if (m.share_with) {
      offsets.push_back(offsets.at(*m.share_with));
      sizes.push_back(sizes.at(*m.share_with));
      continue;
    }
    offsets.push_back(static_cast<std::uint32_t>(out.size()));
    sizes.push_back(s);
    const std::string local_name = m.local_name.value_or(m.name);
    const std::string extra = m.zip64_size ? zip64_extra(*m.zip64_size, s.comp) : "";
    put32(out, 0x04034b50);
    put16(out, m.zip64_size ? 45 : 20);
    put16(out, 0);
    put16(out, m.deflate ? 8 : 0);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, s.crc);
    put32(out, m.zip64_size ? 0xffffffffu : s.comp);
    put32(out, m.zip64_size ? 0xffffffffu : s.size);
    put16(out, static_cast<std::uint32_t>(local_name.size()));
    put16(out, static_cast<std::uint32_t>(extra.size()));
    out += local_name + extra + body;
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    const ZipMember& m = members[i];
    const bool deflated = m.share_with ? members.at(*m.share_with).deflate : m.deflate;
    const std::string extra = m.zip64_size ? zip64_extra(*m.zip64_size, sizes[i].comp) : "";
    put32(central, 0x02014b50);
    put16(central, m.zip64_size ? 45 : 20);
    put16(central, m.zip64_size ? 45 : 20);
    put16(central, 0);
    put16(central, deflated ? 8 : 0);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, sizes[i].crc);
    put32(central, m.zip64_size ? 0xffffffffu : sizes[i].comp);
    put32(central, m.zip64_size ? 0xffffffffu : sizes[i].size);
    put16(central, static_cast<std::uint32_t>(m.name.size()));
    put16(central, static_cast<std::uint32_t>(extra.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, 0);
    put32(central, offsets[i]);
    central += m.name + extra;
  }
  const std::uint32_t central_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint32_t>(members.size()));
  put16(out, static_cast<std::uint32_t>(members.size()));
  put32(out, static_cast<std::uint32_t>(central.size()));
  put32(out, central_offset);
  put16(out, 0);
  return out;
}

}  // namespace testing
