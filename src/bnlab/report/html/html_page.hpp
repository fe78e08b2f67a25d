#pragma once
// The frame every HTML report shares: doctype, inline style sheet, heading.
#include <string>

namespace bnlab::html {

// A complete page: <head> with the title and the style sheet, then `body`.
std::string page(const std::string& title, const std::string& body);

}  // namespace bnlab::html
