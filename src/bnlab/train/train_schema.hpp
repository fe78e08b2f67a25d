#pragma once
// The schema name of `bnlab train`'s JSON result, alone in a header so that
// readers of saved results (the HTML renderer) name it without depending on
// the training code.
namespace bnlab::train {

inline constexpr const char* kTrainSchema = "bnlab.train/1";

}  // namespace bnlab::train
