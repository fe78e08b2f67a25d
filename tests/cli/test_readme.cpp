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
#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/experiment/config_keys.hpp"
#include "bnlab/report/compare_config.hpp"
#include "bnlab/train/train_config.hpp"

namespace fs = std::filesystem;

namespace {

enum class Match { text, session, json };

struct Excerpt {
  const char* file;     // README.md or a page under docs/
  const char* before;   // the line just before the code block's opening fence
  const char* command;  // run from the scratch directory (unused for Match::session)
  Match match;
};

const Excerpt kExcerpts[] = {
    {"README.md", "elsewhere); the same with `--format table` anywhere:",
     "LC_ALL=C.UTF-8 build/bnlab compare --methods 1,2,3 --format table", Match::text},
    {"README.md", "`--format json`). Trimmed to one property and parts of Method 3's block:",
     "build/bnlab compare --methods 1,2,3 --format json", Match::json},
    {"README.md", "defect fixture of the tests (`bnlab audit tests/fixtures/audit/defects.npz --format table`):",
     "build/bnlab audit tests/fixtures/audit/defects.npz --format table", Match::text},
    {"docs/cli.md", "writes it to `summary.json`):", nullptr, Match::session},
    {"docs/cli.md", "report with another seed against the golden one:", nullptr, Match::session},
    {"docs/configs.md", "`configs/small-batch.json`:", "cat configs/small-batch.json", Match::text},
    {"docs/own-data.md", "and bnlab reads it in about a second:", nullptr, Match::session},
    {"docs/own-data.md", "`summary` sentence:", nullptr, Match::session},
    {"docs/cli.md", "`bnlab explain --shape 8,16,12,12 --methods 3`:", "build/bnlab explain --shape 8,16,12,12 --methods 3",
     Match::text},
};

// README.md and every page under docs/: the pages the link check reads.
std::vector<fs::path> doc_pages() {
  std::vector<fs::path> pages{fs::path(BNLAB_SOURCE_DIR) / "README.md", fs::path(BNLAB_SOURCE_DIR) / "configs/README.md"};
  for (const auto& entry : fs::directory_iterator(fs::path(BNLAB_SOURCE_DIR) / "docs")) {
    if (entry.path().extension() == ".md") pages.push_back(entry.path());
  }
  return pages;
}

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
    fs::create_directory_symlink(fs::path(BNLAB_SOURCE_DIR) / "tests/fixtures", dir / "tests/fixtures");
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

TEST_CASE("every excerpt listed in kExcerpts (README.md, docs/) is what its command prints today") {
  Scratch scratch;
  for (const Excerpt& excerpt : kExcerpts) {
    INFO(excerpt.file << ": block after: " << excerpt.before);
    const std::vector<std::string> readme = split_lines(read_text(fs::path(BNLAB_SOURCE_DIR) / excerpt.file));
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

// GitHub's anchor for a heading: lower case, spaces to '-', punctuation other
// than '-' and '_' dropped ("Does it matter? (`bnlab train`)" ->
// "does-it-matter-bnlab-train").
std::string anchor_of(const std::string& heading) {
  std::string out;
  for (unsigned char ch : heading) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch >= 0x80) out += char(std::tolower(ch));
    else if (ch == ' ') out += '-';
  }
  return out;
}

std::vector<std::string> anchors_in(const fs::path& page) {
  std::vector<std::string> out;
  bool fenced = false;
  for (const std::string& line : split_lines(read_text(page))) {
    if (line.rfind("```", 0) == 0) fenced = !fenced;
    if (fenced || line.empty() || line[0] != '#') continue;
    const std::size_t text = line.find_first_not_of('#');
    if (text != std::string::npos && line[text] == ' ') out.push_back(anchor_of(line.substr(text + 1)));
  }
  return out;
}

TEST_CASE("every link between README.md and the docs pages leads to a file and heading that exist") {
  const std::regex link(R"(\]\(([^)\s]+)\))");
  std::size_t checked = 0;
  for (const fs::path& page : doc_pages()) {
    const std::string text = read_text(page);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), link); it != std::sregex_iterator(); ++it) {
      const std::string target = (*it)[1];
      if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0 || target.rfind("mailto:", 0) == 0) continue;
      INFO(page.filename().string() << ": (" << target << ")");
      const std::size_t hash = target.find('#');
      const std::string file = target.substr(0, hash);
      const fs::path resolved = file.empty() ? page : page.parent_path() / file;
      CHECK(fs::exists(resolved));
      if (hash != std::string::npos && fs::exists(resolved) && resolved.extension() == ".md") {
        const std::vector<std::string> anchors = anchors_in(resolved);
        CHECK(std::find(anchors.begin(), anchors.end(), target.substr(hash + 1)) != anchors.end());
      }
      ++checked;
    }
  }
  CHECK(checked > 20);  // the check reads the links (a broken pattern would check none)
}

TEST_CASE("the docs cite nothing outside the repository") {
  for (const fs::path& doc : doc_pages()) {
    INFO(doc);
    const std::string text = read_text(doc);
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

// The docs' key tables are the config rows' (experiment/config_keys.hpp): a
// key added, renamed or redescribed in compare_config.cpp or train_config.cpp
// fails here until the page shows the row (the message prints the table).
TEST_CASE("the docs' config key tables are the rows the parsers and options read") {
  const std::string compare_table = bnlab::experiment::markdown_key_table(bnlab::experiment::key_texts(bnlab::compare_keys()));
  const std::string train_table =
      bnlab::experiment::markdown_key_table(bnlab::experiment::key_texts(bnlab::train::train_keys()));
  auto read = [](const char* path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  INFO("docs/configs.md should hold, as is:\n" << compare_table);
  CHECK(read("docs/configs.md").find(compare_table) != std::string::npos);
  INFO("docs/train.md should hold, as is:\n" << train_table);
  CHECK(read("docs/train.md").find(train_table) != std::string::npos);
}

// Every row with an option is an option of its subcommand, with the row's help.
TEST_CASE("every config key with an option is in --help with its row's help") {
  auto check = [](const char* subcommand, const auto& keys) {
    Scratch scratch;
    const std::string help = scratch.run("build/bnlab " + std::string(subcommand) + " --help");
    for (const auto& key : keys) {
      if (key.text.flag.empty()) continue;
      INFO(subcommand << " " << key.text.flag);
      CHECK(help.find(key.text.flag + " ") != std::string::npos);
      CHECK(help.find(bnlab::experiment::option_help(key.text)) != std::string::npos);
    }
  };
  check("compare", bnlab::compare_keys());
  check("train", bnlab::train::train_keys());
}
