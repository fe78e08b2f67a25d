#include "bnlab/io/notes.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <utility>
#include <vector>

#include "bnlab/core/escape.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/shape.hpp"

namespace bnlab {
namespace {

NoteSink& current_sink() {
  static NoteSink sink = [](const std::string& text) { std::cerr << "bnlab: note: " << text << "\n"; };
  return sink;
}

}  // namespace

// Escaped here, for every sink: a note echoes paths and names from the
// input, and is one line on a terminal whatever they hold (core/escape.hpp).
void note(const std::string& text) {
  if (current_sink()) current_sink()(escape_control(text));
}

NoteSink set_note_sink(NoteSink sink) { return std::exchange(current_sink(), std::move(sink)); }

HeldNotes::HeldNotes() {
  previous_ = set_note_sink([this](const std::string& text) { held_.push_back(text); });
}

HeldNotes::~HeldNotes() {
  if (active_) set_note_sink(std::move(previous_));
}

void HeldNotes::release() {
  if (!active_) return;
  active_ = false;
  set_note_sink(previous_);
  if (previous_) {
    for (const std::string& text : held_) previous_(text);  // already escaped by note()
  }
}

NoteLimit::NoteLimit(std::size_t shown) : shown_(shown) {
  previous_ = set_note_sink([this](const std::string& text) {
    if (seen_++ < shown_ && previous_) previous_(text);
  });
}

NoteLimit::~NoteLimit() {
  set_note_sink(previous_);
  if (seen_ > shown_) {
    const std::size_t more = seen_ - shown_;
    note("... and " + std::to_string(more) + (more == 1 ? " more note" : " more notes") + " like these (left out)");
  }
}

namespace {

// How much the slices along `axis` (1 or 3) of the first samples of an
// (N, A, B, D) array differ: std_i(mean_i) / std(all) + std_i(log std_i); see
// channels_last_note. 0 when every slice is constant.
double slice_spread(const float* data, const Shape& s, std::size_t axis) {
  const std::size_t n = std::min<std::size_t>(s[0], 8), a = s[1], b = s[2], d = s[3];
  const std::size_t slices = axis == 1 ? a : d;
  std::vector<double> sum(slices, 0.0), sum_sq(slices, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < a; ++j)
      for (std::size_t k = 0; k < b; ++k) {
        const float* row = data + ((i * a + j) * b + k) * d;  // (D)
        for (std::size_t l = 0; l < d; ++l) {
          const double v = row[l];
          const std::size_t slice = axis == 1 ? j : l;
          sum[slice] += v;
          sum_sq[slice] += v * v;
        }
      }
  const double per_slice = double(n * a * b * d) / double(slices);
  double total = 0, total_sq = 0;
  for (std::size_t i = 0; i < slices; ++i) {
    total += sum[i];
    total_sq += sum_sq[i];
  }
  const double count = per_slice * double(slices);
  const double overall_var = std::max(0.0, total_sq / count - (total / count) * (total / count));
  if (!(overall_var > 0)) return 0;
  // Spread of the slice means (relative to the overall std) and of the log slice stds.
  double mean_of_means = 0, mean_of_logs = 0;
  std::vector<double> means(slices), logs(slices);
  for (std::size_t i = 0; i < slices; ++i) {
    means[i] = sum[i] / per_slice;
    const double var = std::max(0.0, sum_sq[i] / per_slice - means[i] * means[i]);
    logs[i] = 0.5 * std::log(std::max(var, overall_var * 1e-12));  // a constant slice: a large, finite spread
    mean_of_means += means[i] / double(slices);
    mean_of_logs += logs[i] / double(slices);
  }
  double var_of_means = 0, var_of_logs = 0;
  for (std::size_t i = 0; i < slices; ++i) {
    var_of_means += (means[i] - mean_of_means) * (means[i] - mean_of_means) / double(slices);
    var_of_logs += (logs[i] - mean_of_logs) * (logs[i] - mean_of_logs) / double(slices);
  }
  return std::sqrt(var_of_means / overall_var) + std::sqrt(var_of_logs);
}

}  // namespace

std::string channels_last_note(const Shape& s, const std::string& path, const float* data) {
  if (s.size() != 4) return "";
  const std::size_t c = s[1], h = s[2], w = s[3];
  if (c == h && w > c) {
    return path + ": read as NCHW " + shape_to_string(s) + ", but its last axis looks like channels: C = H = " +
           std::to_string(c) + " and W = " + std::to_string(w) + " is what a square feature map stored (N, H, W, C) "
           "gives; if it is, pass --layout NHWC";
  }
  if (!data || c != h || c < 2 || w < 2) return "";
  const double along_c = slice_spread(data, s, 1), along_w = slice_spread(data, s, 3);
  if (!(along_w > 0.25 && along_w > 3 * along_c)) return "";
  return path + ": read as NCHW " + shape_to_string(s) + ", but its values vary along the last axis as channels do: " +
         "the means and scales of its " + std::to_string(w) + " slices differ " +
         (along_c > 0 ? fixed(along_w / along_c, 1) + " times as much as those of axis 1" : std::string("while axis 1's do not")) +
         " (a feature map stored (N, H, W, C) gives that); if it is, pass --layout NHWC";
}

void note_if_channels_last(const Shape& nchw_shape, const std::string& path, const float* data) {
  const std::string text = channels_last_note(nchw_shape, path, data);
  if (!text.empty()) note(text);
}

}  // namespace bnlab
