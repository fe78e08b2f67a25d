// The source tree reads as levels (docs/architecture.md, "Layout"): an include in
// src/bnlab/<folder>/ or apps/ names only its own folder or a lower level, and
// a folder's detail/ headers are included from that folder alone (and tests).
//   apps -> experiment -> report, check, explain, bench, normalize, train, audit -> probes
//        -> engine, io, synth -> core
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The level of each folder of src/bnlab (apps/ sits above them all).
const std::map<std::string, int> kLevel = {
    {"core", 0},   {"engine", 1}, {"io", 1},        {"synth", 1},     {"probes", 2}, {"report", 3},
    {"check", 3},  {"explain", 3}, {"bench", 3},    {"normalize", 3}, {"train", 3},  {"audit", 3},
    {"experiment", 2}, {"apps", 5},
};

struct Include {
  std::string file;  // path relative to the source root
  int line;
  std::string target;  // "bnlab/engine/detail/reduce.hpp"
};

std::vector<Include> includes_in(const fs::path& file) {
  static const std::regex pattern(R"re(^\s*#\s*include\s*"(bnlab/[^"]+)")re");
  std::vector<Include> out;
  std::ifstream in(file);
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    std::smatch m;
    if (std::regex_search(text, m, pattern)) out.push_back({file.generic_string(), line, m[1]});
  }
  return out;
}

// "bnlab/engine/detail/reduce.hpp" -> {"engine", true}
std::pair<std::string, bool> folder_of_target(const std::string& target) {
  const std::string rest = target.substr(std::string("bnlab/").size());
  const std::string folder = rest.substr(0, rest.find('/'));
  return {folder, rest.find("/detail/") != std::string::npos};
}

// Every problem of one include, as a line naming the file, the include and the rule.
std::vector<std::string> problems(const std::string& from_folder, const Include& inc) {
  std::vector<std::string> out;
  const auto [to_folder, detail] = folder_of_target(inc.target);
  const std::string where = inc.file + ":" + std::to_string(inc.line) + " includes " + inc.target + ": ";
  if (!kLevel.count(to_folder)) {
    out.push_back(where + "no folder src/bnlab/" + to_folder + " in the level table");
  } else if (to_folder != from_folder && kLevel.at(to_folder) >= kLevel.at(from_folder)) {
    out.push_back(where + to_folder + "/ (level " + std::to_string(kLevel.at(to_folder)) + ") is not below " +
                  from_folder + "/ (level " + std::to_string(kLevel.at(from_folder)) + ")");
  }
  if (detail && to_folder != from_folder) {
    out.push_back(where + to_folder + "/detail/ is internal to " + to_folder + "/");
  }
  return out;
}

}  // namespace

TEST_CASE("no include points up the levels or into another folder's detail/") {
  std::vector<std::string> found;
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator("src/bnlab")) {
    const std::string folder = entry.path().filename().string();
    if (!kLevel.count(folder)) {
      found.push_back("src/bnlab/" + folder + "/: not in the level table of tests/unit/test_architecture.cpp (and docs/architecture.md)");
    }
  }
  std::vector<std::pair<std::string, fs::path>> files;  // (folder, file)
  for (const auto& entry : fs::recursive_directory_iterator("src/bnlab")) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = entry.path().lexically_relative("src/bnlab");
    files.push_back({relative.begin()->string(), entry.path()});
  }
  for (const auto& entry : fs::directory_iterator("apps")) files.push_back({"apps", entry.path()});
  for (const auto& [folder, file] : files) {
    if (!kLevel.count(folder)) continue;  // reported above
    for (const Include& inc : includes_in(file)) {
      ++checked;
      for (const std::string& p : problems(folder, inc)) found.push_back(p);
    }
  }
  for (const std::string& p : found) UNSCOPED_INFO(p);
  CHECK(found.empty());
  CHECK(checked > 100);  // the walk saw the tree
}

TEST_CASE("the level rule flags an include that points up, sideways or into detail/") {
  CHECK(problems("engine", {"f", 1, "bnlab/core/shape.hpp"}).empty());
  CHECK(problems("engine", {"f", 1, "bnlab/engine/detail/reduce.hpp"}).empty());
  CHECK(problems("apps", {"f", 1, "bnlab/report/compare.hpp"}).empty());
  CHECK(problems("core", {"f", 1, "bnlab/engine/engine.hpp"}).size() == 1);         // up
  CHECK(problems("report", {"f", 1, "bnlab/bench/bench.hpp"}).size() == 1);         // sideways
  CHECK(problems("bench", {"f", 1, "bnlab/engine/detail/reduce.hpp"}).size() == 1); // another's detail/
  CHECK(problems("bench", {"f", 1, "bnlab/nowhere/x.hpp"}).size() == 1);            // unknown folder
}
