#pragma once
// Shared by the HTML tests: temporary directories, running the binary, and
// the pages under test (the default report and an awkward one).
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "bnlab/report/compare.hpp"
#include "bnlab/synth/synth.hpp"

namespace html_test {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "bnlab_test_html_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
};

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Run {
  int code = -1;
  std::string out, err;
};

// Runs a shell command; stdout read through a pipe, stderr through a file.
inline Run run(const std::string& command) {
  TempDir dir;
  const std::string err_file = (dir.path / "stderr.txt").string();
  Run r;
  FILE* pipe = popen((command + " 2>" + err_file).c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, got);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_text(err_file);
  return r;
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
