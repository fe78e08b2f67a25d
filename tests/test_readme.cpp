// The README's examples are real output: each code block listed in kExcerpts
// is tied to the command that produces it, the command is run, and its output
// is compared with the block, so the docs cannot drift from the program.
//
// To check another block, add a row: the README line just before the block
// (unique in the file), the shell command, and how to compare.
//   Match::text     the block is the command's stdout; a line "..." in the block
//                   skips any number of output lines (an excerpt).
//   Match::session  the block is a terminal session: each "$ COMMAND" line is
//                   run (the row's command is unused) and the lines up to the
//                   next "$ " are compared as in Match::text.
//   Match::json     the block is JSON that is a subset of the command's JSON
//                   stdout: every key it has, with the same value (arrays and
//                   scalars equal; objects may leave keys out).
// Commands run with /bin/sh in a fresh directory holding build/bnlab (the
// binary under test), configs/ and tests/golden/ of this checkout, so that
// they read exactly as in the README.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

enum class Match { text, session, json };

struct Excerpt {
  const char* before;   // the README line just before the code block's opening fence
  const char* command;  // run from the scratch directory (unused for Match::session)
  Match match;
};

const Excerpt kExcerpts[] = {
    {"with `--format table` anywhere:", "build/bnlab compare --methods 1,2,3 --format table", Match::text},
    {"`--format json`). Trimmed to one property and parts of Method 3's block:",
     "build/bnlab compare --methods 1,2,3 --format json", Match::json},
    {"writes it to `summary.json`):", nullptr, Match::session},
    {"report with another seed against the golden one:", nullptr, Match::session},
    {"`configs/small-batch.json`:", "cat configs/small-batch.json", Match::text},
    {"`bnlab explain --shape 8,16,12,12 --methods 3`:", "build/bnlab explain --shape 8,16,12,12 --methods 3",
     Match::text},
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The code block that follows the line `before` (its first fence after it).
std::vector<std::string> block_after(const std::vector<std::string>& readme, const std::string& before) {
  std::size_t found = readme.size(), count = 0;
  for (std::size_t i = 0; i < readme.size(); ++i)
    if (readme[i] == before) {
      found = i;
      ++count;
    }
  INFO("README line: " << before);
  REQUIRE(count == 1);
  std::size_t open = found + 1;
  while (open < readme.size() && readme[open].rfind("```", 0) != 0) ++open;
  REQUIRE(open < readme.size());
  std::vector<std::string> block;
  for (std::size_t i = open + 1; i < readme.size() && readme[i].rfind("```", 0) != 0; ++i) block.push_back(readme[i]);
  return block;
}

// Expected lines against actual output; "..." skips any number of lines.
bool lines_match(const std::vector<std::string>& expected, const std::vector<std::string>& actual, std::string& why) {
  std::size_t a = 0;
  for (std::size_t e = 0; e < expected.size(); ++e) {
    if (expected[e] == "...") {
      // Skip to the next expected line (or to the end).
      if (e + 1 == expected.size()) return true;
      while (a < actual.size() && actual[a] != expected[e + 1]) ++a;
      if (a == actual.size()) {
        why = "not found after '...': " + expected[e + 1];
        return false;
      }
      continue;
    }
    if (a >= actual.size() || actual[a] != expected[e]) {
      why = "line " + std::to_string(e + 1) + " of the block: README '" + expected[e] + "', output '" +
            (a < actual.size() ? actual[a] : std::string("<end>")) + "'";
      return false;
    }
    ++a;
  }
  if (a != actual.size()) {
    why = "the output has " + std::to_string(actual.size() - a) + " more line(s), first: '" + actual[a] + "'";
    return false;
  }
  return true;
}

bool json_subset(const nlohmann::json& part, const nlohmann::json& whole, const std::string& path, std::string& why) {
  if (part.is_object()) {
    if (!whole.is_object()) {
      why = path + ": not an object in the output";
      return false;
    }
    for (auto it = part.begin(); it != part.end(); ++it) {
      if (!whole.contains(it.key())) {
        why = path + "/" + it.key() + ": missing in the output";
        return false;
      }
      if (!json_subset(it.value(), whole[it.key()], path + "/" + it.key(), why)) return false;
    }
    return true;
  }
  if (part != whole) {
    why = path + ": README " + part.dump() + ", output " + whole.dump();
    return false;
  }
  return true;
}

struct Scratch {
  fs::path dir;
  Scratch() {
    dir = fs::temp_directory_path() / ("bnlab-test-readme-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "build");
    fs::create_directories(dir / "tests");
    fs::create_symlink(BNLAB_BINARY, dir / "build/bnlab");
    fs::create_directory_symlink(fs::path(BNLAB_SOURCE_DIR) / "configs", dir / "configs");
    fs::create_directory_symlink(fs::path(BNLAB_SOURCE_DIR) / "tests/golden", dir / "tests/golden");
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string run(const std::string& command) const {
    const fs::path out = dir / ".stdout";
    const std::string shell = "cd '" + dir.string() + "' && (" + command + ") > '" + out.string() + "' 2>/dev/null";
    std::system(shell.c_str());  // a failing command shows up as wrong output
    return read_text(out);
  }
};

}  // namespace

TEST_CASE("every README excerpt listed in kExcerpts is what its command prints today") {
  const std::vector<std::string> readme = split_lines(read_text(fs::path(BNLAB_SOURCE_DIR) / "README.md"));
  Scratch scratch;
  for (const Excerpt& excerpt : kExcerpts) {
    INFO("README block after: " << excerpt.before);
    const std::vector<std::string> block = block_after(readme, excerpt.before);
    REQUIRE(!block.empty());
    std::string why;
    switch (excerpt.match) {
      case Match::text: {
        INFO("command: " << excerpt.command);
        const bool ok = lines_match(block, split_lines(scratch.run(excerpt.command)), why);
        INFO(why);
        CHECK(ok);
        break;
      }
      case Match::json: {
        INFO("command: " << excerpt.command);
        std::string text;
        for (const std::string& line : block) text += line + "\n";
        const bool ok = json_subset(nlohmann::json::parse(text), nlohmann::json::parse(scratch.run(excerpt.command)), "", why);
        INFO(why);
        CHECK(ok);
        break;
      }
      case Match::session: {
        for (std::size_t i = 0; i < block.size();) {
          REQUIRE(block[i].rfind("$ ", 0) == 0);
          const std::string command = block[i].substr(2);
          std::vector<std::string> expected;
          for (++i; i < block.size() && block[i].rfind("$ ", 0) != 0; ++i) expected.push_back(block[i]);
          INFO("command: " << command);
          const bool ok = lines_match(expected, split_lines(scratch.run(command)), why);
          INFO(why);
          CHECK(ok);
        }
        break;
      }
    }
  }
}

TEST_CASE("the docs cite nothing outside the repository") {
  for (const char* doc : {"README.md", "docs/properties.md", "configs/README.md"}) {
    INFO(doc);
    const std::string text = read_text(fs::path(BNLAB_SOURCE_DIR) / doc);
    CHECK(text.find("DESIGN.md") == std::string::npos);
    CHECK(text.find("STYLE.md") == std::string::npos);
  }
  // Every help text too.
  Scratch scratch;
  for (const char* sub : {"", "compare", "normalize", "synth", "check", "explain", "bench"}) {
    INFO("bnlab " << sub << " --help");
    const std::string help = scratch.run(std::string("build/bnlab ") + sub + " --help");
    CHECK(help.size() > 100);
    CHECK(help.find("DESIGN") == std::string::npos);
  }
}
