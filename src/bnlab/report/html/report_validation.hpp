#pragma once
// A saved report checked before any figure reads it (`bnlab render`, and
// `bnlab compare --html` on the report it just made): every length a figure
// indexes agrees with the report's own shape (per-channel arrays hold C
// values, the maps of input.maps one per chosen channel, ...), every index
// is inside its range (a chosen channel < C, a batch size n >= 1), and every
// map is at most kMapMaxSide x kMapMaxSide cells, the size bnlab writes (so
// that an edited report cannot make a page of many MB). A report that fails
// is refused with one line naming the JSON pointer:
//   "r.json: /methods/3/output/per_channel/var: expected an array of C = 5 numbers, got an array of 3"
// What is not checked here, a missing key or a value of the wrong type, the
// figures' own at()/get() refuse ("not a complete ... report").
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::html {

// Throws Error "<source>: <pointer>: <problem>" for a report of schema
// bnlab.compare/3, bnlab.compare-layers/1 or bnlab.train/1 (other schemas:
// nothing checked; render refuses them by name).
void validate_report(const nlohmann::ordered_json& report, const std::string& source);

}  // namespace bnlab::html
