#include "bnlab/core/progress.hpp"

#include <cmath>
#include <cstdio>

#include <unistd.h>

namespace bnlab {

namespace {
constexpr double kQuietSeconds = 1.0;  // runs shorter than this print nothing

bool stderr_is_terminal() {
  static const bool terminal = ::isatty(STDERR_FILENO) == 1;
  return terminal;
}
}  // namespace

Progress::Progress(std::string task, std::size_t total_steps)
    : task_(std::move(task)), total_(total_steps), terminal_(stderr_is_terminal()) {}

Progress::~Progress() {
  if (drawn_) std::fputs("\r\033[K", stderr);  // back to the line's start, erase it
}

void Progress::step(const std::string& what) {
  const std::size_t index = done_ < total_ ? done_ + 1 : total_;
  if (done_ < total_) ++done_;
  if (!terminal_) return;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  if (elapsed < kQuietSeconds) return;
  // Estimate: the steps so far took `elapsed`; the rest take as long each.
  const std::size_t finished = index - 1;
  std::string estimate;
  if (finished > 0) {
    const double left = elapsed / double(finished) * double(total_ - finished);
    estimate = ", about " + std::to_string(std::lround(std::ceil(left))) + " s left";
  }
  std::fprintf(stderr, "\r\033[K[bnlab %s] %zu/%zu %s%s", task_.c_str(), index, total_, what.c_str(),
               estimate.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void progress_line(const std::string& task, const std::string& line, bool transient) {
  const bool terminal = stderr_is_terminal();
  if (transient) {
    if (terminal) std::fprintf(stderr, "\r\033[K%s", line.c_str());
  } else {
    std::fprintf(stderr, "%sbnlab %s: %s\n", terminal ? "\r\033[K" : "", task.c_str(), line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace bnlab
