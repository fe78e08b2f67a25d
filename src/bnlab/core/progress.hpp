#pragma once
// A progress line on stderr for the long subcommands (compare, normalize,
// bench): the current step and an estimate of the time left, e.g.
//   [bnlab compare] 7/16 method 2: gradients, about 6 s left
// It is drawn only when stderr is a terminal and only once the run has taken
// a second (a quick run prints nothing); it is redrawn in place (carriage
// return) and erased when the run ends, so what stays on the terminal is the
// command's own output. Never on stdout. Library code takes a Progress* that
// may be null (tests, other callers): use the free function step().
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace bnlab {

class Progress {
 public:
  // `task` names the run ("compare"); `total_steps` is how many step() calls
  // it will make (more are tolerated: the count just stops at the total).
  Progress(std::string task, std::size_t total_steps);
  ~Progress();  // erases the line if one was drawn
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Step `what` begins: the steps before it are done.
  void step(const std::string& what);

  // How many more steps there will be (when the total was not known up front).
  void add_steps(std::size_t count) { total_ += count; }

 private:
  using Clock = std::chrono::steady_clock;
  std::string task_;
  std::size_t total_, done_ = 0;
  Clock::time_point start_ = Clock::now();
  bool terminal_;
  bool drawn_ = false;
};

// A line of a subcommand that reports per run (train), on stderr: a
// `transient` line (a step counter) is redrawn in place on a terminal and
// left out elsewhere, so a log file stays short; any other line stays,
// as "bnlab TASK: LINE". The one place, with Progress, that asks whether
// stderr is a terminal.
void progress_line(const std::string& task, const std::string& line, bool transient);

// What library code that reports per run takes (train): called with one
// line and whether it is transient; the command passes progress_line behind
// it (or nothing, quiet), tests a recorder.
using ProgressLines = std::function<void(const std::string& line, bool transient)>;

// progress->step(what) when there is a progress reporter.
inline void step(Progress* progress, const std::string& what) {
  if (progress) progress->step(what);
}

}  // namespace bnlab
