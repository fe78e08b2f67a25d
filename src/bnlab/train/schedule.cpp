#include "bnlab/train/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"

namespace bnlab::train {

LrSchedule parse_lr_schedule(const std::string& text, const std::string& what) {
  if (text == "constant") return LrSchedule::constant;
  if (text == "cosine") return LrSchedule::cosine;
  throw Error(what + ": unknown learning-rate schedule " + quoted(text) + " (valid: " + kLrScheduleNames + ")");
}

const char* to_string(LrSchedule schedule) { return schedule == LrSchedule::constant ? "constant" : "cosine"; }

double learning_rate(LrSchedule schedule, double lr, std::size_t warmup, std::size_t step, std::size_t total) {
  if (step < warmup) return lr * double(step + 1) / double(warmup);
  if (schedule == LrSchedule::constant) return lr;
  const double t = double(step - warmup) / double(std::max<std::size_t>(1, total - std::min(total, warmup)));
  return 0.5 * lr * (1.0 + std::cos(std::numbers::pi * t));
}

}  // namespace bnlab::train
