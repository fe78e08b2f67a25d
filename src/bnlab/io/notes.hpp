#pragma once
// Notes: one-line remarks about the input that are not errors (the run goes
// on), e.g. "acts.npy: read as NCHW, but its last axis looks like channels".
// The library hands them to a sink; by default the sink writes
// "bnlab: note: <text>" to stderr, so stdout keeps the one document.
#include <functional>
#include <string>
#include <vector>

#include "bnlab/core/tensor.hpp"

namespace bnlab {

using NoteSink = std::function<void(const std::string&)>;

// Sends `text`, escaped (core/escape.hpp: one line whatever it echoes), to
// the current sink.
void note(const std::string& text);

// Replaces the sink (tests capture notes with it); returns the previous one.
NoteSink set_note_sink(NoteSink sink);

// While it lives, notes are held instead of sent; release() sends them to
// the sink that was current before, in order. Destroyed unreleased (an error
// ended the run), it drops them: the error is then the only line.
class HeldNotes {
 public:
  HeldNotes();
  ~HeldNotes();
  HeldNotes(const HeldNotes&) = delete;
  HeldNotes& operator=(const HeldNotes&) = delete;
  void release();

 private:
  NoteSink previous_;
  std::vector<std::string> held_;
  bool active_ = true;
};

// While it lives, the first `shown` notes reach the sink and the others are
// only counted; when it ends, one more note says how many were left out
// ("... and 9990 more notes like these"). For loops over many inputs (the
// layers of an archive), so that stderr stays readable.
class NoteLimit {
 public:
  explicit NoteLimit(std::size_t shown);
  ~NoteLimit();
  NoteLimit(const NoteLimit&) = delete;
  NoteLimit& operator=(const NoteLimit&) = delete;

 private:
  NoteSink previous_;
  std::size_t shown_, seen_ = 0;
};

// A feature map read as (N, C, H, W) whose file really is (N, H, W, C) with a
// square H x W shows C = H and W = its channel count, usually larger; a real
// NCHW map almost never has H = C < W. For such a shape: the note suggesting
// --layout NHWC. When the shape cannot tell (C = H, W <= C: a channels-last
// map of C = H = W = 32 reads as a valid NCHW one), and `data` is given, the
// values decide: the channels of a feature map differ in mean and scale far
// more than its columns do (conv filters differ, locations of one filter do
// not), so if the slices along the last axis spread more than 3 times as much
// as those along axis 1 (and visibly: a spread above 0.25), that axis looks
// like the channels. The spread of an axis, from the first 8 samples at most:
//   std_i(mean_i) / std(all) + std_i(log std_i)
// (mean_i, std_i: of the values with index i along the axis). Otherwise
// nothing. `path` names the file.
std::string channels_last_note(const Shape& nchw_shape, const std::string& path,
                               const float* data = nullptr);  // "" when none
void note_if_channels_last(const Shape& nchw_shape, const std::string& path, const float* data = nullptr);

}  // namespace bnlab
