#include "bnlab/io/notes.hpp"

#include <iostream>
#include <utility>

#include "bnlab/core/escape.hpp"
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

std::string channels_last_note(const Shape& s, const std::string& path) {
  if (s.size() != 4) return "";
  const std::size_t c = s[1], h = s[2], w = s[3];
  if (!(c == h && w > c)) return "";
  return path + ": read as NCHW " + shape_to_string(s) + ", but its last axis looks like channels: C = H = " +
         std::to_string(c) + " and W = " + std::to_string(w) + " is what a square feature map stored (N, H, W, C) "
         "gives; if it is, pass --layout NHWC";
}

void note_if_channels_last(const Shape& nchw_shape, const std::string& path) {
  const std::string text = channels_last_note(nchw_shape, path);
  if (!text.empty()) note(text);
}

}  // namespace bnlab
