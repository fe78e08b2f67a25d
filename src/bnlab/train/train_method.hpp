#pragma once
// What `bnlab train` puts in place of each norm layer: one of the engine's
// methods (1, 2, 3, ln, in, gn:G; engine/method.hpp), or `none`, the
// no-normalization baseline: a per-channel scale and bias (gamma, beta of
// shape (C)), i.e. what the convolution's bias would add, and no statistics.
// "Does normalization help, and which one?" needs the baseline beside them.
#include <optional>
#include <string>
#include <vector>

#include "bnlab/engine/method.hpp"

namespace bnlab::train {

inline constexpr const char* kNoNormId = "none";

struct TrainMethod {
  std::string id;               // "none", or the engine method's canonical id
  std::string title;            // "no normalization (per-channel scale and bias)"
  std::string name;             // in sentences: "none", "Method 3"
  std::string column;           // table column heading: "none", "M3"
  std::optional<Method> norm;   // nullopt for `none`
  bool batch_dependent() const { return norm && norm->batch_dependent(); }  // running statistics
};

// "none" (also "no", "identity"; case-insensitive) or any engine method name.
// Throws Error naming `what`.
TrainMethod parse_train_method(const std::string& text, const std::string& what);

// "none,1,2,3": comma-separated, duplicates (after aliases) are an error.
std::vector<TrainMethod> parse_train_method_list(const std::string& text, const std::string& what);

// "none, 1, 2, 3, bn, ln, in, gn:G": for help and errors.
std::string valid_train_method_names();

}  // namespace bnlab::train
