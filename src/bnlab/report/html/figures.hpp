#pragma once
// The figures of the HTML report, each drawn from a saved document: a compare
// report (schema kCompareSchema, the JSON document `bnlab compare` writes) or a
// training result (schema bnlab.train/1, `bnlab train --output`), so that
// `bnlab render` and `bnlab compare --html` / `bnlab train --html` draw the same
// page. Each returns a <figure> (html::figure) or, when it does not apply to
// this document, the title and the reason in its place. One file per figure
// (axes_figure.cpp, ..., train_loss_figure.cpp, train_section.cpp).
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::html {

// Figure 1: per method, the (N, C, H x W) cube with the elements of one
// statistic shaded, and the counts for this input under it.
std::string axes_figure(const nlohmann::ordered_json& report);

// Figure 2: per-channel output mean and standard deviation (gamma 1, beta 0)
// of every method on shared axes; channels whose output is constant marked.
std::string channels_figure(const nlohmann::ordered_json& report);

// Figure 3: the input's mean map over N for the chosen channels (input.maps)
// and each method's output mean map: the spatial pattern all samples share,
// kept or erased.
std::string spatial_figure(const nlohmann::ordered_json& report);

// Figure 4: sample 0 shifted alone: f(shift(x)) - shift(f(x)) per method as a
// heat map, and the leakage into the other samples.
std::string shift_figure(const nlohmann::ordered_json& report);

// Figure 5: sample 0's mean and variance per element: maps for methods with
// statistics on the (h, w) grid, a per-channel strip for the others.
std::string statistics_figure(const nlohmann::ordered_json& report);

// Figure 6: relative error of the batch variance against the whole input's as
// the batch shrinks, per method, on log-log axes.
std::string batch_size_figure(const nlohmann::ordered_json& report);

// The verdict table is no figure: html_report.cpp's verdict section, unnumbered
// and first on the compare page (compare_body: the verdict, then figure 1).

// The .npz layers page (bnlab.compare-layers/1): figures 3 to 5 of every
// layer (within a size budget), each layer in a <details> block; figure ids
// prefixed "layerK-".
std::string layer_figures(const nlohmann::ordered_json& report);

// The training experiment's section, from a bnlab.train/1 result:

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
