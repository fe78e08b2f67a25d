#include "bnlab/report/html/train_measurements.hpp"

#include <utility>

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

Cell stat_cell(const Json& stat) { return Cell{stat, ""}; }

}  // namespace

std::vector<Measurement> measurements(const Json& result) {
  const Json& methods = result.at("methods");
  const Json& first = methods.begin().value();
  std::vector<Measurement> out;
  const auto add = [&](const std::string& label, const auto& cell_of) {
    Measurement m{label, {}};
    for (const auto& [id, block] : methods.items()) m.cells.push_back(cell_of(block));
    out.push_back(std::move(m));
  };
  add("eval mode (running statistics)", [](const Json& b) { return stat_cell(b.at("eval_accuracy")); });
  const Json& config = result.at("config");
  if (config.contains("precise_bn_images")) {
    for (const Json& k : config.at("precise_bn_images")) {
      const std::string key = std::to_string(k.get<std::size_t>());
      add("population statistics, " + key + " images (eval mode)", [&key](const Json& b) {
        const Json& population = b.at("population_accuracy");
        return population.is_null() ? Cell{std::nullopt, "no running statistics to recompute"}
                                    : stat_cell(population.at(key));
      });
    }
  }
  for (const auto& [size, stat] : first.at("batch_accuracy").items()) {
    const std::string key = size;
    add("batch statistics, test batch " + key, [&key](const Json& b) { return stat_cell(b.at("batch_accuracy").at(key)); });
  }
  for (const auto& [pixels, stat] : first.at("shift_accuracy").items()) {
    const std::string key = pixels;
    add("shifted by " + key + " px (eval mode)", [&key](const Json& b) { return stat_cell(b.at("shift_accuracy").at(key)); });
  }
  if (!first.at("canvas").is_null()) {
    const std::string size = std::to_string(first.at("canvas").at("size").get<std::size_t>());
    add("on a " + size + "×" + size + " canvas (eval mode)", [](const Json& b) {
      const Json& canvas = b.at("canvas");
      return canvas.at("applicable").get<bool>() ? stat_cell(canvas.at("accuracy"))
                                                 : Cell{std::nullopt, canvas.at("reason").get<std::string>()};
    });
  }
  if (!first.at("small_batch").is_null()) {
    const Json& small = first.at("small_batch");
    const std::string trained = "trained with batch " + std::to_string(small.at("batch_size").get<std::size_t>()) + " (" +
                                std::to_string(small.at("images").get<std::size_t>()) + " images): ";
    add(trained + "eval mode", [](const Json& b) { return stat_cell(b.at("small_batch").at("eval_accuracy")); });
    const Json& sizes = result.at("config").at("test_batch_sizes");
    if (!sizes.empty()) {
      add(trained + "batch statistics, test batch " + std::to_string(sizes.at(0).get<std::size_t>()),
          [](const Json& b) { return stat_cell(b.at("small_batch").at("batch_accuracy")); });
    }
  }
  return out;
}

}  // namespace bnlab::html
