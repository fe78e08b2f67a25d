// The training section's headline figure (bnlab.train/1): the accuracy
// figure's eval-mode rows alone (running and population statistics), drawn
// before the details of what was trained.
#include <string>
#include <utility>
#include <vector>

#include "bnlab/report/html/accuracy_bars.hpp"
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/train_measurements.hpp"
#include "bnlab/report/html/train_result_text.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::string train_headline_figure(const Json& result) {
  std::vector<Measurement> rows;
  for (Measurement& m : measurements(result)) {
    if (m.label.rfind("eval mode", 0) == 0 || m.label.rfind("population statistics", 0) == 0) rows.push_back(std::move(m));
  }
  return accuracy_bars(result, rows, "fig-train-headline", "The headline: eval-mode test accuracy per method",
                       "Eval-mode accuracy on the test images, mean over the " + seeds_text(result) +
                           " with ± one standard deviation, with the running statistics and with population "
                           "statistics recomputed after training; `none` is the same network without normalization.");
}

}  // namespace bnlab::html
