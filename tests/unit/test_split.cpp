// split_commas (core/split.hpp): command-line lists such as "1,2,3".
#include <catch2/catch.hpp>

#include "bnlab/core/split.hpp"

using namespace bnlab;

TEST_CASE("comma lists split verbatim, empty fields kept for the caller to reject") {
  using V = std::vector<std::string>;
  CHECK(split_commas("1,2,3") == V{"1", "2", "3"});
  CHECK(split_commas("gn:8") == V{"gn:8"});
  CHECK(split_commas("") == V{""});
  CHECK(split_commas("a,,b,") == V{"a", "", "b", ""});
}
