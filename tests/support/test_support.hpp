#pragma once
// The helpers shared by the tests (tests/unit, cli, parity, browser): seeded
// data, conversions, error norms, a temporary directory, running a command,
// hand-made .npy files, method plans; for the HTML tests, a well-formedness
// scan of a page and the awkward report they render.
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/core/tensor.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/synth/synth.hpp"

namespace testing {

// Seeded standard normals (Box-Muller over mt19937_64: reproducible everywhere).
inline std::vector<double> normals(std::size_t count, std::uint64_t seed, double mean = 0.0, double std = 1.0) {
  std::mt19937_64 gen(seed);
  auto uniform = [&] { return (double(gen() >> 11) + 0.5) * 0x1.0p-53; };
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    double r = std::sqrt(-2.0 * std::log(uniform()));
    out[i] = mean + std * r * std::cos(6.283185307179586 * uniform());
  }
  return out;
}

// Values in [lo, hi): for gammas and running variances.
inline std::vector<double> uniforms(std::size_t count, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 gen(seed);
  std::vector<double> out(count);
  for (auto& v : out) v = lo + (hi - lo) * double(gen() >> 11) * 0x1.0p-53;
  return out;
}

template <class T>
bnlab::Array<T> to_array(const std::vector<double>& values, const std::vector<std::size_t>& shape) {
  auto a = bnlab::Array<T>::from_shape(shape);
  for (std::size_t i = 0; i < values.size(); ++i) a.data()[i] = T(values[i]);
  return a;
}

// The double values a float array holds (so the reference sees exactly the engine's input).
template <class T>
std::vector<double> to_doubles(const bnlab::Array<T>& a) {
  return std::vector<double>(a.data(), a.data() + a.size());
}

inline std::vector<double> rounded_to_float(std::vector<double> v) {
  for (auto& x : v) x = double(float(x));
  return v;
}

// ||a - b|| / max(||b||, tiny): the relative L2 error of a against reference b.
template <class A>
double rel_l2(const A& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    double d = double(a[i]) - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-300);
}

template <class A>
double max_abs_diff(const A& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < b.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

// A fresh directory under the system's temporary one ("bnlab-test-NAME-XXXXXX",
// unique even when test executables run in parallel), removed with its
// contents at the end of the scope (read-only entries made writable first).
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name = "tmp") {
    std::string pattern = (std::filesystem::temp_directory_path() / ("bnlab-test-" + name + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a directory like " + pattern);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The full path of `name` in the directory.
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  // Writes `text` to `name` (creating subdirectories); returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path file = path / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  // The number of entries directly in the directory.
  std::size_t entries() const {
    return std::size_t(std::distance(std::filesystem::directory_iterator(path), std::filesystem::directory_iterator()));
  }
};

// A whole file as bytes ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Run {
  int code = -1;  // exit code (run(): -1 when killed by a signal)
  std::string out, err;
};

// Runs a shell command, e.g. std::string(BNLAB_BINARY) + " compare --shape 2,2,2,2":
// stdout through a pipe (not a terminal), stderr through a file. A command that
// redirects its own stderr ("... 2>err.txt") keeps that redirection (err is then "").
inline Run run(const std::string& command) {
  TempDir dir("run");
  const std::string err_file = dir / "stderr.txt";
  Run r;
  FILE* pipe = popen(("( " + command + " ) 2>" + err_file).c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  char buf[4096];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, got);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_text(err_file);
  return r;
}

// A hand-made .npy 1.0 file: the preamble, `header` padded with spaces and a
// newline to a multiple of 64 bytes (as numpy writes it), then raw `data`.
inline std::string padded_npy(const std::string& header, const std::string& data) {
  std::string text = header;
  while ((10 + text.size() + 1) % 64 != 0) text += ' ';
  text += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(text.size() & 0xff));
  out.push_back(static_cast<char>(text.size() >> 8));
  return out + text + data;
}

// The plan of method `id` (spelled as on the command line: "3", "gn:2") for
// an input of dims d, with the method's natural affine parameters.
inline bnlab::MethodPlan plan_of(const std::string& id, const bnlab::Dims& d) {
  return bnlab::make_plan(bnlab::parse_method(id, "test"), bnlab::AffineMode::natural, d);
}

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

}  // namespace testing
