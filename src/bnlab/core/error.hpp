#pragma once
// The one error type of bnlab. Its message is a single line that names the
// culprit (file, JSON path or option, the value, what was expected), e.g.
//   x.npy: expected a 4-d array (N,C,H,W), got 3-d (5,7,9)
//   /synth/shape/2: must be >= 1 (got 0)
// The constructor escapes control characters (escape.hpp), so an echoed value
// holding a newline or a NUL can neither split nor cut the line. The app
// prints it as is to stderr and exits 1.
#include <stdexcept>
#include <string>

#include "bnlab/core/escape.hpp"

namespace bnlab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(escape_control(message)) {}
};

}  // namespace bnlab
