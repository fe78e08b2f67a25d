#include "bnlab/report/layers_table.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

#include "bnlab/core/escape.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/report_table.hpp"
#include "bnlab/report/verdict.hpp"

namespace bnlab {
namespace {

constexpr std::size_t kWidth = 80;
constexpr std::size_t kColumn = 7;  // "17/17" plus room

std::string pad_right(const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }
std::string pad_left(const std::string& s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }
std::string column_title(const std::string& id) { return parse_method(id, "method").column; }  // "M3", "ln"

std::string compact_shape(const std::vector<std::size_t>& shape) {  // "(8,64,32,32)"
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + ")";
}

std::string fraction(std::size_t part, std::size_t whole) { return std::to_string(part) + "/" + std::to_string(whole); }

}  // namespace

std::string format_layers_table(const LayersResult& result) {
  const std::vector<std::string>& ids = result.config.methods;
  const LayersSummary across = summarize_layers(result.layers, ids);
  const std::size_t total = result.layers.size();

  // Label column: "  NAME  SHAPE", at least wide enough for the property names.
  // Member names and the path come from the archive and the command line:
  // escaped like every echo (core/escape.hpp), one row per layer whatever they hold.
  std::vector<std::string> names;
  for (const LayerResult& layer : result.layers) names.push_back(escape_control(layer.name));
  std::size_t name_w = 5, shape_w = 0;
  for (const LayerResult& layer : result.layers) {
    name_w = std::max(name_w, names[&layer - result.layers.data()].size());
    shape_w = std::max(shape_w, compact_shape(layer.result.dims.to_vector()).size());
  }
  const std::size_t label_w = std::max<std::size_t>(34, 2 + name_w + 2 + shape_w + 2);
  std::ostringstream out;

  out << "bnlab compare: " << total << (total == 1 ? " layer of " : " layers of ") << escape_control(result.config.input.value_or(""))
      << " (" << result.config.layout << ")\n";
  out << "               eps " << scientific(result.config.eps, 1) << ", momentum "
      << significant(result.config.momentum, 6) << "\n\n";

  const std::size_t n_properties = across.properties.size();  // the question's properties
  auto header = [&](const std::string& title) {
    out << pad_right(title, label_w);
    for (const auto& id : ids) out << pad_left(column_title(id), kColumn);
    out << "\n";
  };

  header("Properties held, of " + std::to_string(n_properties));
  for (std::size_t l = 0; l < result.layers.size(); ++l) {
    const LayerResult& layer = result.layers[l];
    out << pad_right("  " + pad_right(names[l], name_w) + "  " + compact_shape(layer.result.dims.to_vector()), label_w);
    for (std::size_t m = 0; m < ids.size(); ++m) {
      if (layer.result.methods[m].degenerate) {
        out << pad_left("degen.", kColumn);
        continue;
      }
      out << pad_left(std::to_string(properties_held(across, layer, m)), kColumn);
    }
    out << "\n";
  }
  out << pad_right("  layers with every property", label_w);
  for (std::size_t m = 0; m < ids.size(); ++m) out << pad_left(fraction(across.with_every_property[m], total), kColumn);
  out << "\n\n";

  header("Layers where each property holds");
  for (std::size_t k = 0; k < n_properties; ++k) {
    out << pad_right("  " + std::string(across.properties[k]->label), label_w);
    for (std::size_t m = 0; m < ids.size(); ++m) out << pad_left(fraction(across.holds_in(m, k), total), kColumn);
    out << "\n";
  }
  out << "\n" << wrap_text("Summary: " + escape_control(across.summary), kWidth, "");
  return out.str();
}

}  // namespace bnlab
