#pragma once
// The training experiment's part of the HTML report, drawn from a saved
// `bnlab train` result (schema bnlab.train/1), so that `bnlab train --html`
// and `bnlab render TRAIN.json` draw the same section. Each figure returns a
// <figure> (html::figure) or, when it does not apply, its title and the reason.
// Each is defined in its own file (train_loss_figure.cpp, train_accuracy_figure.cpp,
// train_headline_figure.cpp, train_section.cpp).
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::html {

// The training loss per method against the step: the mean over seeds as a
// line, the mean +- one standard deviation over seeds as a band.
std::string train_loss_figure(const nlohmann::ordered_json& result);

// Test accuracy per measurement (eval mode, batch statistics per test batch
// size, shifts, the larger canvas, the small-batch network) and method: a bar
// at the mean over seeds with a +- one standard deviation whisker; where a
// measurement does not apply to a method, the result's reason in the bar's place.
std::string train_accuracy_figure(const nlohmann::ordered_json& result);

// The headline: eval-mode accuracy per method with running and with
// population statistics, the same bars as train_accuracy_figure's first rows.
std::string train_headline_figure(const nlohmann::ordered_json& result);

// <section id="train">: what was trained on what, the summary sentence of the
// result, both figures and the method legend.
std::string train_section(const nlohmann::ordered_json& result);

}  // namespace bnlab::html
