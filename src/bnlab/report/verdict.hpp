#pragma once
// The verdict of a compare report. Each property is one data row (properties()):
// what it measures, how the per-shift values combine, its threshold as a
// named constant, the criterion text generated from that constant, its table
// label and legend line. `holds` per method is decided from the measured value
// against the threshold (never per method), and the summary sentence is built
// from those decisions.
//
// Two groups: the properties of the question (which axes should *batch*
// normalization reduce?) that the candidates 1, 2, 3 are judged on, and the
// trade-offs that the per-sample references (ln, in, gn) win.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/report/compare_method.hpp"

namespace bnlab {

enum class PropertyGroup { question, trade_off };
enum class Comparison { at_most, at_least };  // value <= threshold, value >= threshold

struct Property {
  const char* key;          // "per_sample_shift"
  const char* label;        // table row, <= 24 columns: "per-sample shift"
  const char* legend;       // one plain line under the table
  const char* description;  // the JSON description: what holds when the property holds
  const char* measure;      // what the value is, and how per-shift values combine
  Comparison comparison;
  double threshold;
  PropertyGroup group;
  bool yes_no;  // the value is 1 (yes) or 0 (no): the table shows only yes/NO
  std::optional<double> (*value)(const CompareMethod&);  // nullopt: not measurable

  std::string criterion() const;        // "value <= 1e-4", generated from threshold
  std::string short_criterion() const;  // "<= 1e-4" ("= yes" for a yes/no value), for the table
  bool holds(const std::optional<double>& v) const;
};

const std::vector<Property>& properties();

struct PropertyJudgement {
  const Property* property = nullptr;
  std::vector<std::optional<double>> values;  // per method, in the report's order
  std::vector<bool> holds;                    // per method
};

struct Verdict {
  std::vector<PropertyJudgement> judgements;       // one per property, in properties() order
  std::vector<std::string> with_every_property;    // method ids with every question property
  std::string summary;
  nlohmann::ordered_json to_json(const std::vector<CompareMethod>& methods) const;
};

Verdict judge_methods(const std::vector<CompareMethod>& methods);

}  // namespace bnlab
