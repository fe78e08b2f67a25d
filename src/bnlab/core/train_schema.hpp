#pragma once
// The schema name of `bnlab train`'s JSON result. Its writer (train/) and its
// HTML renderer (report/html/) are sibling layers that may not include each
// other, so the name they share lives here, below both.
namespace bnlab::train {

inline constexpr const char* kTrainSchema = "bnlab.train/1";

}  // namespace bnlab::train
