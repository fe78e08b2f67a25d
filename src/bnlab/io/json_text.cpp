#include "bnlab/io/json_text.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/io/regular_file.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::json;


// "[json.exception.parse_error.101] parse error at line 2, ..." -> "parse error at line 2, ..."
std::string parser_message(const std::string& what) {
  std::string message = what;
  if (message.rfind("[json.exception.", 0) == 0) {
    const std::size_t close = message.find("] ");
    if (close != std::string::npos) message = message.substr(close + 2);
  }
  return message;
}

// One open object or array: its keys so far (objects) or its next index (arrays).
struct Frame {
  bool is_object = false;
  std::set<std::string> keys;
  std::string current;  // the token of the value being parsed (key or index)
  std::size_t next_index = 0;
};

// Returning false stops the parse; `error` then holds the message.
class StrictSax {
 public:
  explicit StrictSax(const std::string& path) : path_(path) {}
  std::string error;

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(Json::number_integer_t) { return value(); }
  bool number_unsigned(Json::number_unsigned_t) { return value(); }
  bool number_float(Json::number_float_t number, const Json::string_t& text) {
    if (!value()) return false;
    const bool nonzero_digit = text.find_first_of("123456789") < text.find_first_of("eE");
    if (!std::isfinite(number) || (number == 0.0 && nonzero_digit) ||
        (number != 0.0 && std::fpclassify(number) == FP_SUBNORMAL)) {
      return fail(pointer(), quoted(text, 40) + " is not representable as a double (" +
                                 (std::isfinite(number) ? "underflows" : "overflows") + ")");
    }
    return true;
  }
  bool string(Json::string_t&) { return value(); }
  bool binary(Json::binary_t&) { return value(); }
  bool start_object(std::size_t) { return open(true); }
  bool key(Json::string_t& key) {
    Frame& frame = stack_.back();
    frame.current = pointer_token(key);
    if (!frame.keys.insert(key).second) return fail(pointer(), "duplicate key");
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(false); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error = path_ + ": invalid JSON: " + parser_message(e.what());
    return false;
  }

 private:
  // A value starts: in an array it takes the next index.
  bool value() {
    if (!stack_.empty() && !stack_.back().is_object) stack_.back().current = std::to_string(stack_.back().next_index++);
    return true;
  }
  bool open(bool is_object) {
    value();
    if (stack_.size() >= kMaxJsonDepth) {
      return fail(pointer(), "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (the limit)");
    }
    stack_.push_back(Frame{is_object, {}, {}, 0});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  // The pointer of the value being parsed, cut short when deep.
  std::string pointer() const {
    std::string out;
    for (const Frame& frame : stack_) out += "/" + frame.current;
    if (out.size() > 80) out = out.substr(0, 80) + "...";
    return out.empty() ? "/" : out;
  }
  bool fail(const std::string& where, const std::string& what) {
    error = path_ + ": " + where + ": " + what;
    return false;
  }

  const std::string& path_;
  std::vector<Frame> stack_;
};

}  // namespace

std::string read_text_file(const std::string& path) {
  // Only a regular file (io/regular_file.hpp): a FIFO would block, a device
  // (/dev/zero) never end. The cap still holds for a file that grows meanwhile.
  const RegularFile file(path, "cannot read (", ")");
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(file.fd(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(path + ": cannot read (" + std::strerror(errno) + ")");
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
    if (text.size() > kMaxJsonBytes) {
      throw Error(path + ": larger than " + std::to_string(kMaxJsonBytes >> 20) + " MiB, the limit for a JSON document");
    }
  }
  return text;
}

void check_json_text(std::string_view text, const std::string& path) {
  const std::size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    throw Error(path + ": byte " + std::to_string(nul) + " is a NUL byte (JSON text cannot contain one)");
  }
  StrictSax sax(path);
  bool ok = false;
  try {
    ok = Json::sax_parse(text, &sax);
  } catch (const Json::exception& e) {  // not expected: the SAX reports errors by return value
    throw Error(path + ": invalid JSON: " + parser_message(e.what()));
  }
  if (!ok) throw Error(sax.error.empty() ? path + ": invalid JSON" : sax.error);
}

std::string json_parser_message(const std::string& what) {
  std::string message = parser_message(what);
  for (char& ch : message) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return escape_control(message);
}

void throw_invalid_json(const std::string& path, const std::string& what) {
  throw Error(path + ": invalid JSON: " + json_parser_message(what));
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char ch : key) {
    if (ch == '~') out += "~0";
    else if (ch == '/') out += "~1";
    else out += ch;
  }
  return out;
}

}  // namespace bnlab
