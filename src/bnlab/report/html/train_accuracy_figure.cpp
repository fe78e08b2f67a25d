// The training section's accuracy figure (bnlab.train/1): every measurement
// of the result (train_measurements.hpp) as a group of bars, one per method.
#include <string>

#include "bnlab/report/html/accuracy_bars.hpp"
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/train_measurements.hpp"
#include "bnlab/report/html/train_result_text.hpp"

namespace bnlab::html {

using Json = nlohmann::ordered_json;

std::string train_accuracy_figure(const Json& result) {
  const std::size_t test_images = result.at("data").at("test_images").get<std::size_t>();
  return accuracy_bars(
      result, measurements(result), "fig-train-accuracy", "Test accuracy per measurement and method",
      "Accuracy on the first " + std::to_string(test_images) + " test images: the bar is the mean over the " +
          seeds_text(result) + ", the whisker ± one sample standard deviation. Eval mode normalizes with the running " +
          "statistics gathered in training; population statistics are recomputed after training over K training " +
          "images (PreciseBN); batch statistics normalize each test batch by its own statistics (as in " +
          "training). Shifted: every test image moved down and right, the background filling in. Canvas: every test " +
          "image centred on a larger one, where the method's parameters and running statistics allow another height " +
          "and width; where they do not, the reason stands in place of the bar. What to look for: a gap between eval " +
          "mode and batch statistics (the running statistics do not stand for the batch statistics the network was " +
          "trained with), the fall under shifts, which methods cannot run on another image size, and the network " +
          "trained with a small batch; differences smaller than the whiskers are not separated by these seeds.");
}

}  // namespace bnlab::html
