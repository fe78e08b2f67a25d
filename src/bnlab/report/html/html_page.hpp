#pragma once
// The frame every HTML report shares: doctype, inline style sheet, heading.
#include <cstddef>
#include <string>

namespace bnlab::html {

// The largest page bnlab writes. Its own reports draw far less (the .npz
// layers page stops its figures at 1.8 MB; a training page of 7 methods with
// a loss point every step of 10 epochs is about 1 MB); a report edited to
// hold, say, a loss curve of a million points is refused by render instead
// of becoming a page no browser opens comfortably.
inline constexpr std::size_t kMaxPageBytes = std::size_t{4} << 20;

// A complete page: <head> with the title and the style sheet, then `body`.
std::string page(const std::string& title, const std::string& body);

}  // namespace bnlab::html
