// The .npz layers page's figures: for each layer, figures 3 to 5 of the
// single-tensor page (the heat maps), drawn from the layer's own blocks
// (input, methods: the same keys as a compare report) inside a <details>
// block, closed by default, so the page opens on the summary tables. Each
// figure's id gets the layer's position as a prefix ("layer3-fig-pattern"):
// ids stay unique on the page. Figure 2 is left out (a dot per channel and
// method: 200 KB for a layer of 512 channels), and the layers' figures stop
// at kLayerFiguresBudget bytes, so that the page stays under 2 MB (the
// ResNet-18 example of the README: 17 layers, about 1.3 MB).
#include <string>

#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/report_maps.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kLayerFiguresBudget = 1800 * 1024;

// id="fig-..." -> id="PREFIX-fig-..." in the figures' markup.
std::string prefix_ids(std::string markup, const std::string& prefix) {
  const std::string from = "<figure id=\"fig-", to = "<figure id=\"" + prefix + "-fig-";
  for (std::size_t at = markup.find(from); at != std::string::npos; at = markup.find(from, at + to.size()))
    markup.replace(at, from.size(), to);
  return markup;
}

}  // namespace

std::string layer_figures(const Json& report) {
  std::string out =
      "<section id=\"layer-figures\">\n<h2>Figures per layer</h2>\n<p>Open a layer to see figures 3 to 5 of the "
      "single-tensor page for its activations: the shared spatial pattern, shifts, and where the statistics "
      "live.</p>\n";
  std::size_t index = 0;
  for (const auto& [name, layer] : report.at("layers").items()) {
    ++index;
    if (!layer.at("input").contains("maps")) {  // a report written before the maps (bnlab.compare/2 blocks)
      out += "<p>" + escape(name) + ": no figures (this report has no maps; run bnlab compare again).</p>\n";
      continue;
    }
    const std::string figures = spatial_figure(layer) + shift_figure(layer) + statistics_figure(layer);
    if (out.size() + figures.size() > kLayerFiguresBudget) {
      out += "<p>Figures of " + escape(name) + " and the layers after it are left out to keep the page under 2 MB: "
             "save one layer with numpy.save and run <code>bnlab compare --input LAYER.npy --html PAGE.html</code> "
             "for its full page.</p>\n";
      break;
    }
    out += "<details>\n<summary>" + escape(name) + " (" + escape(shape_text(layer.at("input").at("shape"))) +
           ")</summary>\n" + prefix_ids(figures, "layer" + std::to_string(index)) + "</details>\n";
  }
  return out + "</section>\n";
}

}  // namespace bnlab::html
