#include "bnlab/report/html/report_maps.hpp"

#include "bnlab/engine/method.hpp"
#include "bnlab/probes/probes.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::vector<ReportMethod> report_methods(const Json& report) {
  std::vector<ReportMethod> out;
  for (const auto& [id, block] : report.at("methods").items()) {
    const Method method = parse_method(id, "methods");
    out.push_back({out.size(), method.column, method.name, &block});
  }
  return out;
}

MeasuredMaps methods_with_maps(const Json& report) {
  MeasuredMaps out;
  for (const auto& [id, block] : report.at("methods").items()) {
    const Method method = parse_method(id, "methods");
    const Json& maps = block.at("maps");
    if (!maps.is_object()) {
      out.not_measured.push_back(method.column);
      continue;
    }
    out.methods.push_back({id, method.column, method.name, block.at("reduce_axes").get<std::vector<std::string>>(), &maps});
  }
  return out;
}

std::size_t plane_height(const Json& report) { return report.at("input").at("shape").at(2).get<std::size_t>(); }
std::size_t plane_width(const Json& report) { return report.at("input").at("shape").at(3).get<std::size_t>(); }

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::string not_drawn_sentence(const std::vector<std::string>& columns, const std::string& why) {
  if (columns.empty()) return "";
  return " Not drawn: " + join(columns) + " (" + why + ").";
}

std::string not_measured_sentence(const std::vector<std::string>& not_measured) {
  return not_drawn_sentence(not_measured, "each statistic pools a single value, nothing is measured");
}

std::string shape_text(const Json& shape) {
  std::string s;
  for (const Json& e : shape) s += (s.empty() ? "" : " × ") + std::to_string(e.get<std::size_t>());
  return s;
}

std::string downsampling_sentence(const Json& maps) {
  const std::size_t bh = maps.at("block").at(0).get<std::size_t>(), bw = maps.at("block").at(1).get<std::size_t>();
  if (bh == 1 && bw == 1) return "";
  return " Each cell is the mean of a block of " + std::to_string(bh) + " x " + std::to_string(bw) +
         " pixels (maps are reduced to at most " + std::to_string(kMapMaxSide) + " x " + std::to_string(kMapMaxSide) + " cells).";
}

}  // namespace bnlab::html
