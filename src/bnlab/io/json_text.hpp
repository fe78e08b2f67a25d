#pragma once
// Reading JSON documents strictly (config files, reports for `bnlab check`).
// nlohmann's parser alone would accept what bnlab must refuse:
//   - text after a NUL byte (its lexer stops there: the rest is ignored);
//   - a repeated key (the last one silently wins);
//   - a number that underflows to 0 (1e-400) or overflows;
//   - nesting deep enough that printing or comparing the value, each a
//     recursion, overflows the stack (20,000 nested arrays).
// check_json_text runs one SAX pass over the text that refuses each of these
// with one line naming the file and the JSON pointer; after it, nlohmann's
// parse cannot fail and the value is at most kMaxJsonDepth deep.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bnlab {

// Objects and arrays nested deeper than this are refused (a config is 2 deep,
// a compare report 7).
inline constexpr std::size_t kMaxJsonDepth = 64;

// A JSON document larger than this is refused (a compare report is ~40 KB).
inline constexpr std::size_t kMaxJsonBytes = std::size_t{64} << 20;

// The bytes of a regular file, at most kMaxJsonBytes. Throws Error
// "<path>: cannot read (<reason>)", "<path>: not a regular file (a FIFO); ..."
// (io/regular_file.hpp) for a directory, device or pipe, and "<path>: larger
// than 64 MiB, ..." beyond the cap.
std::string read_text_file(const std::string& path);

// Throws Error "<path>: invalid JSON: <parser message>", "<path>: byte K is a
// NUL byte (...)", "<path>: <pointer>: duplicate key", "<path>: <pointer>:
// nested deeper than 64 levels (...)", "<path>: <pointer>: 1e-400 is not
// representable as a double (underflows to 0)".
void check_json_text(std::string_view text, const std::string& path);

// "[json.exception.parse_error.101] text" -> "text", on one line, escaped.
std::string json_parser_message(const std::string& what);

// Throws Error "<path>: invalid JSON: <json_parser_message(what)>".
[[noreturn]] void throw_invalid_json(const std::string& path, const std::string& what);

// The one strict JSON reader of bnlab: every JSON document it reads (compare
// configs, train configs, saved reports for render and check) goes through
// these. check_json_text first, then nlohmann's parse, which can no longer
// fail (a message naming `path` if it ever does). Json: nlohmann::json or
// nlohmann::ordered_json (reports keep their key order).
template <class Json = nlohmann::json>
Json parse_json_text(std::string_view text, const std::string& path);
template <class Json = nlohmann::json>
Json parse_json_file(const std::string& path) {
  return parse_json_text<Json>(read_text_file(path), path);
}

// A JSON value as it appears in a message: compact, one line, invalid UTF-8
// replaced, cut after 60 characters with "...". (Any nlohmann json type.)
template <class Json>
std::string json_preview(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

template <class Json>
Json parse_json_text(std::string_view text, const std::string& path) {
  check_json_text(text, path);
  try {
    return Json::parse(text);
  } catch (const typename Json::exception& e) {  // check_json_text already refused what nlohmann refuses
    throw_invalid_json(path, e.what());
  }
}

// One key as a JSON pointer (RFC 6901) token: "~" -> "~0", "/" -> "~1".
std::string pointer_token(const std::string& key);

}  // namespace bnlab
