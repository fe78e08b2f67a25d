#include "bnlab/report/html/train_result_text.hpp"

#include <cstdio>

#include "bnlab/engine/method.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string plus_minus(const Json& stat) {
  return fixed3(stat.at("mean").get<double>()) + " ± " + fixed3(stat.at("std").get<double>());
}

SeriesName series_name(const std::string& id, const Json& block) {
  if (block.contains("column") && block.contains("name")) {
    return {block.at("column").get<std::string>(), block.at("name").get<std::string>()};
  }
  const Method m = parse_method(id, "methods");
  return {m.column, m.name};
}

std::string seeds_text(const Json& result) {
  const std::size_t n = result.at("config").at("seeds").size();
  return std::to_string(n) + (n == 1 ? " seed" : " seeds");
}

}  // namespace bnlab::html
