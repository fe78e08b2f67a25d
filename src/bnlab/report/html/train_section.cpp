// The training section of the HTML page (bnlab.train/1): the question, the
// finding and the headline figure first, then what was trained, the summary,
// the loss and accuracy figures and the method legend.
#include <cstdint>
#include <string>

#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/svg.hpp"
#include "bnlab/report/html/train_result_text.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::string train_section(const Json& result) {
  const Json& config = result.at("config");
  const Json& data = result.at("data");
  std::string out = "<section id=\"train\">\n<h1>bnlab train: does it matter in a trained network?</h1>\n<p>" +
                    escape(result.at("question").get<std::string>()) + "</p>\n";
  // The finding first, then its figure; what was trained and the details follow.
  if (result.contains("takeaway") && !result.at("takeaway").get<std::string>().empty()) {
    out += "<p class=\"summary\">" + escape(result.at("takeaway").get<std::string>()) + "</p>\n";
  }
  out += train_headline_figure(result) + "<table>\n";
  const auto row = [&](const std::string& label, const std::string& value) {
    out += "<tr><td>" + escape(label) + "</td><td>" + escape(value) + "</td></tr>\n";
  };
  const std::string source = data.at("source").get<std::string>();
  row("data", source == "stand-in" ? "generated stand-in images" : "Fashion-MNIST (" + source + ")");
  const Json& shape = data.at("image_shape");
  row("images", std::to_string(data.at("train_images").get<std::size_t>()) + " for training, " +
                    std::to_string(data.at("test_images").get<std::size_t>()) + " for testing, " +
                    std::to_string(shape.at(0).get<std::size_t>()) + "×" +
                    std::to_string(shape.at(1).get<std::size_t>()) + " pixels");
  const std::size_t epochs = config.at("epochs").get<std::size_t>();
  row("training", std::to_string(epochs) + (epochs == 1 ? " epoch" : " epochs") + ", batch " +
                      std::to_string(config.at("batch_size").get<std::size_t>()) + ", SGD lr " +
                      number(config.at("lr").get<double>()) +
                      (config.contains("lr_schedule")
                           ? " (" + config.at("lr_schedule").get<std::string>() + ", " +
                                 std::to_string(config.at("warmup_steps").get<std::size_t>()) + " warm-up steps)"
                           : std::string()) +
                      ", momentum " +
                      number(config.at("momentum").get<double>()));
  std::string seeds;
  for (const Json& s : config.at("seeds")) seeds += (seeds.empty() ? "" : ", ") + std::to_string(s.get<std::uint64_t>());
  row("seeds", seeds + " (one training run per method and seed)");
  row("network", result.at("network").get<std::string>());
  out += "</table>\n<p class=\"summary\">" + escape(result.at("summary").get<std::string>()) + "</p>\n";
  out += train_loss_figure(result);
  out += train_accuracy_figure(result);
  out += "<ul class=\"legend\">\n";
  for (const auto& [id, block] : result.at("methods").items()) {
    const SeriesName m = series_name(id, block);
    out += "<li><b>" + escape(m.column) + "</b> = " + escape(block.at("title").get<std::string>()) + "; " +
           std::to_string(block.at("parameters").get<std::size_t>()) + " parameters, of which " +
           std::to_string(block.at("norm_parameters").get<std::size_t>()) + " in the norm layers</li>\n";
  }
  out += "</ul>\n<p>The time per step is left out of the page (it varies between runs; the JSON result's "
         "<code>timing</code> has it), so the same result draws the same bytes.</p>\n";
  return out + "</section>\n";
}

}  // namespace bnlab::html
