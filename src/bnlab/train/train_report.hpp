#pragma once
// The result of `bnlab train` as JSON (schema bnlab.train/1), as a table, and
// as a summary sentence built from the numbers.
#include <string>

#include <nlohmann/json.hpp>

#include "bnlab/train/experiment.hpp"

namespace bnlab::train {

// Keys in order: schema, question, config, data, network, methods (per method:
// title, name, column, normalizes, batch_dependent, parameters,
// norm_parameters, loss_curve, final_loss, eval_accuracy, batch_accuracy,
// train_eval_gap, shift_accuracy, canvas, small_batch, population_accuracy
// (per K; null without running statistics), lr_sweep (null unless asked),
// seeds), takeaway, summary, timing. Every statistic over seeds is {mean, std, min, max} (std:
// the sample standard deviation, 0 for one seed). Only "timing" varies
// between runs of the same config.
nlohmann::ordered_json to_json(const TrainResult& result);

// Per method: accuracies as mean ± std over seeds, loss, time, parameters.
std::string format_table(const TrainResult& result);

// A few sentences comparing the methods on each measurement.
std::string summary(const TrainResult& result);

// What was found, first: Method 3 against no normalization and against every
// other method (eval-mode accuracy, with whether the difference is beyond the
// seed spread), and what population statistics change. Empty when the
// result has neither `none` nor Method 3 and no population statistics.
std::string takeaway(const TrainResult& result);

}  // namespace bnlab::train
