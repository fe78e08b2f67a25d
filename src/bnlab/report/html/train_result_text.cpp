#include "bnlab/report/html/train_result_text.hpp"

#include "bnlab/core/number.hpp"
#include "bnlab/engine/method.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::string plus_minus(const Json& stat) {
  return fixed(stat.at("mean").get<double>(), 3) + " ± " + fixed(stat.at("std").get<double>(), 3);
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
