#pragma once
// Building blocks of the HTML report: escaping, numbers as short text, the
// colour-blind-safe palette (Okabe & Ito) with a marker shape per series, and
// a figure frame (title, inline SVG, caption); axes and ticks are plot.hpp's. Everything is plain text
// assembly: the same input gives the same bytes.
#include <cstddef>
#include <string>

namespace bnlab::html {

// Text for HTML/SVG element content and attribute values: & < > " ' escaped.
std::string escape(const std::string& text);

// 0.0375, 2.9e-09, 4096: three significant digits, exponent outside [1e-2, 1e5)
// (core/number.hpp compact_number, as the compare table writes them).
std::string number(double v);

// A coordinate in SVG user units, one decimal: "12.5".
std::string coord(double v);

// Series i's colour (Okabe-Ito, cycling) and marker; colour is never the only cue:
// every series also has its own marker shape and a text label.
const char* series_colour(std::size_t i);
// An SVG marker of series i centred at (x, y), radius r; `hollow` draws the outline only.
std::string marker(std::size_t i, double x, double y, double r, bool hollow = false);

// <figure id=ID> with a numbered <h2> title, the SVG (width x height user units,
// scaled to the page width) with an accessible <title>, and a <figcaption>.
std::string figure(const std::string& id, const std::string& title, double width, double height,
                   const std::string& svg_body, const std::string& caption);

// In place of a figure that does not apply to this report: its title and why.
std::string figure_not_applicable(const std::string& id, const std::string& title, const std::string& why);

// <text> at (x, y) with attributes `extra` (e.g. "text-anchor=\"middle\""), content escaped.
std::string text(double x, double y, const std::string& content, const std::string& extra = "");

}  // namespace bnlab::html
