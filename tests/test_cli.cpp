// The command line as a user meets it: enumerations case-insensitive
// everywhere, lists with spaces, the same --format values in every
// subcommand, unknown names answered with the nearest valid one, every usage
// error one line with exit code 2.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_helpers.hpp"

namespace fs = std::filesystem;

namespace {

using testing::Run;

// Runs `bnlab ARGS` with stdout and stderr captured (not a terminal).
Run run_bnlab(const std::string& args) { return testing::run(std::string(BNLAB_BINARY) + " " + args); }

std::size_t line_count(const std::string& text) {
  std::size_t n = 0;
  for (char ch : text) n += ch == '\n';
  return n;
}

}  // namespace

TEST_CASE("an unknown subcommand is named with the nearest one") {
  Run r = run_bnlab("comapre");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown subcommand 'comapre'; did you mean 'compare'? (bnlab --help lists them)\n");
  r = run_bnlab("zzzzzz");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown subcommand 'zzzzzz' (bnlab --help lists them)\n");
}

TEST_CASE("an unknown option is named with the nearest option of its subcommand") {
  Run r = run_bnlab("compare --formt json");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown option '--formt'; did you mean '--format'? (bnlab compare --help lists them)\n");
  r = run_bnlab("check --golden a.json --report b.json --ignroe /x");
  CHECK(r.code == 2);
  CHECK(r.err == "bnlab: unknown option '--ignroe'; did you mean '--ignore'? (bnlab check --help lists them)\n");
}

TEST_CASE("every usage error is one line on stderr with exit code 2") {
  for (const char* args : {"", "compare --seed", "compare --eps", "check --golden x.json", "explain --shape"}) {
    INFO("bnlab " << args);
    Run r = run_bnlab(args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.rfind("bnlab: ", 0) == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("enumerations are case-insensitive in every subcommand") {
  Run r = run_bnlab("compare --shape 2,4,4,4 --format TABLE --dist Normal");
  CHECK(r.code == 0);
  CHECK(r.out.rfind("bnlab compare: input", 0) == 0);
  r = run_bnlab("compare --shape 2,4,4,4 --format Json --methods BN,LN");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"schema\": \"bnlab.compare/3\"") != std::string::npos);
  r = run_bnlab("explain --shape 2,4,4,4 --methods 3 --format JSON");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"schema\": \"bnlab.explain/1\"") != std::string::npos);
}

TEST_CASE("explain takes the same --format values as the other subcommands") {
  const Run table = run_bnlab("explain --shape 2,4,4,4 --methods 3 --format table");
  const Run text = run_bnlab("explain --shape 2,4,4,4 --methods 3 --format text");
  CHECK(table.code == 0);
  CHECK(table.out == text.out);
  CHECK(table.out.rfind("bnlab explain:", 0) == 0);
  const Run bad = run_bnlab("explain --format xml");
  CHECK(bad.code == 1);
  CHECK(bad.err == "bnlab: --format: unknown format \"xml\" (valid: json, table)\n");
}

TEST_CASE("a method list may contain spaces") {
  Run r = run_bnlab("compare --shape 2,4,4,4 --format json --methods \"1, 2 , 3\"");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"methods\": [\n      \"1\",\n      \"2\",\n      \"3\"\n    ]") != std::string::npos);
}
