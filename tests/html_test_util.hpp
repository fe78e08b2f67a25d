#pragma once
// Shared by the HTML tests: the pages under test (an awkward report), and
// test_helpers.hpp's temporary directories and binary runner.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bnlab/report/compare.hpp"
#include "bnlab/synth/synth.hpp"
#include "test_helpers.hpp"

namespace html_test {

namespace fs = std::filesystem;

using testing::read_text;
using testing::Run;
using testing::run;
using testing::TempDir;

// Every element closed in order (HTML void elements and self-closed SVG
// elements aside); returns the first problem, or "" when the page is well formed.
inline std::string nesting_problem(const std::string& page) {
  // A plain scan of "<name ...>", "</name>" and "<name .../>" (std::regex
  // recurses per character and overflows the stack on long SVG paths under
  // AddressSanitizer).
  static const std::vector<std::string> kVoid = {"meta", "br", "img", "hr", "link", "input"};
  std::vector<std::string> open;
  auto is_name_char = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  for (std::size_t at = page.find('<'); at != std::string::npos; at = page.find('<', at + 1)) {
    std::size_t i = at + 1;
    const bool closing = i < page.size() && page[i] == '/';
    if (closing) ++i;
    if (i >= page.size() || !std::isalpha(static_cast<unsigned char>(page[i]))) continue;  // "<!DOCTYPE", "< 3"
    const std::size_t name_start = i;
    while (i < page.size() && is_name_char(page[i])) ++i;
    const std::string name = page.substr(name_start, i - name_start);
    const std::size_t end = page.find('>', i);
    if (end == std::string::npos) return "<" + name + " never ends";
    const bool self = page[end - 1] == '/';
    if (self || std::find(kVoid.begin(), kVoid.end(), name) != kVoid.end()) continue;
    if (!closing) {
      open.push_back(name);
    } else if (open.empty() || open.back() != name) {
      return "</" + name + "> closes <" + (open.empty() ? std::string("nothing") : open.back()) + ">";
    } else {
      open.pop_back();
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> never closed";
}

// Six methods on a small tensor whose channel 3 is 0 everywhere (a dead channel). (N, C, H, W)
inline nlohmann::ordered_json awkward_report() {
  bnlab::CompareConfig config;
  config.shape = {8, 6, 5, 4};
  config.methods = {"1", "2", "3", "ln", "in", "gn:3"};
  bnlab::Array<float> x = bnlab::synthesize(bnlab::SynthSpec{config.shape, bnlab::Distribution::conv_like, 3});
  const bnlab::Dims d = config.shape;
  for (std::size_t n = 0; n < d.n; ++n) std::fill_n(x.data() + (n * d.c + 3) * d.s(), d.s(), 0.0f);
  return bnlab::build_compare_report(config, x);
}

}  // namespace html_test
