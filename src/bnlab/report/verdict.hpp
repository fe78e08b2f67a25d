#pragma once
// The verdict of a compare report: one entry per property of DESIGN.md §2,
// with `holds` per method decided from the measured value against a stated
// tolerance (never hard-coded per method), and a summary sentence built from
// those decisions.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab {

// A property: its key, what it means, and how it is judged.
struct PropertyRule {
  std::string key;          // "per_sample_shift"
  std::string description;  // "f(shift one sample) = shift(f(x)) for that sample, others unchanged"
  std::string short_name;   // for the table, <= 32 columns
  std::string measure;      // what the value is
  std::string criterion;    // "value <= 1e-4"
};

const std::vector<PropertyRule>& property_rules();

// methods: the report's "methods" object (each with output/gradients/invariance
// blocks, or degenerate = true). ids: in the report's order.
nlohmann::ordered_json build_verdict(const nlohmann::ordered_json& methods, const std::vector<std::string>& ids);

}  // namespace bnlab
