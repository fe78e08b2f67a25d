#pragma once
// The figures of the HTML report, each drawn from a saved compare report
// (schema kCompareSchema, the JSON document `bnlab compare` writes), so that
// `bnlab render REPORT.json` and `bnlab compare --html` draw the same page.
// Each returns a <figure> (html::figure) or, when it does not apply to this
// report, the title and the reason in its place.
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

}  // namespace bnlab::html
