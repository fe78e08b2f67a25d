#pragma once
// The learning rate of each training step: a linear warm-up over the first
// `warmup` steps, then constant or a cosine decay to 0 at the last step
// (SGDR's cosine annealing without restarts, Loshchilov & Hutter 2017):
//   step < warmup:  lr * (step + 1) / warmup
//   constant:       lr
//   cosine:         lr * (1 + cos(pi * t)) / 2,  t = (step - warmup) / (total - warmup) in [0, 1)
// scripts/train_torch_reference.py sets PyTorch's learning rate by the same formula.
#include <cstddef>
#include <string>

namespace bnlab::train {

enum class LrSchedule { constant, cosine };

// "constant" | "cosine"; throws Error naming `what` and the valid names.
LrSchedule parse_lr_schedule(const std::string& text, const std::string& what);
const char* to_string(LrSchedule schedule);
inline constexpr const char* kLrScheduleNames = "constant, cosine";

// The learning rate of step `step` (0-based) of `total`.
double learning_rate(LrSchedule schedule, double lr, std::size_t warmup, std::size_t step, std::size_t total);

}  // namespace bnlab::train
