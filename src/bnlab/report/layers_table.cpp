#include "bnlab/report/layers_table.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "bnlab/engine/method.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/report_table.hpp"
#include "bnlab/report/verdict.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kWidth = 80;
constexpr std::size_t kColumn = 7;  // "17/17" plus room

std::string pad_right(const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }
std::string pad_left(const std::string& s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }
std::string column_title(const std::string& id) { return parse_method(id, "method").column; }  // "M3", "ln"

std::string compact_shape(const Json& shape) {  // "(8,64,32,32)"
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i].get<std::size_t>());
  }
  return s + ")";
}

std::string fraction(std::size_t part, std::size_t whole) { return std::to_string(part) + "/" + std::to_string(whole); }

}  // namespace

std::string format_layers_table(const Json& report) {
  std::vector<std::string> ids = report["config"]["methods"].get<std::vector<std::string>>();
  const Json& layers = report["layers"];
  const Json& across = report["across_layers"];
  const std::size_t total = layers.size();

  // Label column: "  NAME  SHAPE", at least wide enough for the property names.
  std::size_t name_w = 5, shape_w = 0;
  for (const auto& [name, layer] : layers.items()) {
    name_w = std::max(name_w, name.size());
    shape_w = std::max(shape_w, compact_shape(layer["input"]["shape"]).size());
  }
  const std::size_t label_w = std::max<std::size_t>(34, 2 + name_w + 2 + shape_w + 2);
  std::ostringstream out;

  const Json& in = report["input"];
  char eps[64];
  std::snprintf(eps, sizeof eps, "eps %.1e, momentum %g", report["config"]["eps"].get<double>(),
                report["config"]["momentum"].get<double>());
  out << "bnlab compare: " << total << (total == 1 ? " layer of " : " layers of ") << in["path"].get<std::string>()
      << " (" << in["layout"].get<std::string>() << ")\n";
  out << "               " << eps << "\n\n";

  std::size_t n_properties = 0;
  if (total > 0) n_properties = across["properties"].size();  // the question's properties
  auto header = [&](const std::string& title) {
    out << pad_right(title, label_w);
    for (const auto& id : ids) out << pad_left(column_title(id), kColumn);
    out << "\n";
  };

  header("Properties held, of " + std::to_string(n_properties));
  for (const auto& [name, layer] : layers.items()) {
    out << pad_right("  " + pad_right(name, name_w) + "  " + compact_shape(layer["input"]["shape"]), label_w);
    const Json& properties = layer["verdict"]["properties"];
    for (const auto& id : ids) {
      const Json& method = layer["methods"][id];
      if (method.value("degenerate", false)) {
        out << pad_left("degen.", kColumn);
        continue;
      }
      std::size_t held = 0;
      for (const auto& [key, p] : across["properties"].items()) held += properties[key]["holds"][id].get<bool>();
      out << pad_left(std::to_string(held), kColumn);
    }
    out << "\n";
  }
  out << pad_right("  layers with every property", label_w);
  for (const auto& id : ids) {
    out << pad_left(fraction(across["methods"][id]["layers_with_every_property"].get<std::size_t>(), total), kColumn);
  }
  out << "\n\n";

  header("Layers where each property holds");
  for (const auto& [key, p] : across["properties"].items()) {
    std::string label = key;
    for (const Property& property : properties()) {
      if (property.key == key) label = property.label;
    }
    out << pad_right("  " + label, label_w);
    for (const auto& id : ids) out << pad_left(fraction(p["holds_in"][id].get<std::size_t>(), total), kColumn);
    out << "\n";
  }
  out << "\n" << wrap_text("Summary: " + across["summary"].get<std::string>(), kWidth, "");
  return out.str();
}

}  // namespace bnlab
