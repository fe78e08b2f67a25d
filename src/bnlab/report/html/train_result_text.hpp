#pragma once
// How the training section writes a bnlab.train/1 result's numbers and names
// its methods: shared by the loss figure, the accuracy bars and the section.
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::html {

// "0.747 ± 0.011": a statistic over seeds ({mean, std, ...}) as mean ± std, three
// decimals each as the train table prints them.
std::string plus_minus(const nlohmann::ordered_json& stat);

// A method's column heading ("M3", "none") and sentence name ("Method 3").
struct SeriesName {
  std::string column, name;
};
// As the result stores them; a result written before they were stored has
// only the id, which the method table names.
SeriesName series_name(const std::string& id, const nlohmann::ordered_json& block);

// "3 seeds", "1 seed": how many seeds the result's config ran.
std::string seeds_text(const nlohmann::ordered_json& result);

}  // namespace bnlab::html
