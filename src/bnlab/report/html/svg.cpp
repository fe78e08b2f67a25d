#include "bnlab/report/html/svg.hpp"

#include <cmath>

#include "bnlab/core/number.hpp"

namespace bnlab::html {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string number(double v) { return compact_number(v); }

std::string coord(double v) { return fixed(std::abs(v) < 0.05 ? 0.0 : v, 1); }  // no "-0.0"

const char* series_colour(std::size_t i) {
  // Okabe & Ito (2008), distinguishable with every common colour-vision deficiency.
  static const char* const kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

std::string marker(std::size_t i, double x, double y, double r, bool hollow) {
  const std::string colour = series_colour(i);
  const std::string paint = hollow ? "fill=\"white\" stroke=\"" + colour + "\" stroke-width=\"1.5\""
                                   : "fill=\"" + colour + "\" stroke=\"" + colour + "\"";
  switch (i % 4) {
    case 0:
      return "<circle cx=\"" + coord(x) + "\" cy=\"" + coord(y) + "\" r=\"" + coord(r) + "\" " + paint + "/>";
    case 1:
      return "<rect x=\"" + coord(x - r) + "\" y=\"" + coord(y - r) + "\" width=\"" + coord(2 * r) + "\" height=\"" +
             coord(2 * r) + "\" " + paint + "/>";
    case 2:  // triangle pointing up
      return "<polygon points=\"" + coord(x) + "," + coord(y - 1.2 * r) + " " + coord(x + 1.1 * r) + "," +
             coord(y + 0.8 * r) + " " + coord(x - 1.1 * r) + "," + coord(y + 0.8 * r) + "\" " + paint + "/>";
    default:  // diamond
      return "<polygon points=\"" + coord(x) + "," + coord(y - 1.3 * r) + " " + coord(x + 1.3 * r) + "," + coord(y) +
             " " + coord(x) + "," + coord(y + 1.3 * r) + " " + coord(x - 1.3 * r) + "," + coord(y) + "\" " + paint +
             "/>";
  }
}

std::string figure(const std::string& id, const std::string& title, double width, double height,
                   const std::string& svg_body, const std::string& caption) {
  std::string out = "<figure id=\"" + escape(id) + "\">\n<h2>" + escape(title) + "</h2>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + coord(width) + " " + coord(height) +
         "\" width=\"" + coord(width) + "\" role=\"img\" aria-label=\"" + escape(title) + "\">\n<title>" +
         escape(title) + "</title>\n";
  out += svg_body;
  out += "</svg>\n<figcaption>" + escape(caption) + "</figcaption>\n</figure>\n";
  return out;
}

std::string figure_not_applicable(const std::string& id, const std::string& title, const std::string& why) {
  return "<figure id=\"" + escape(id) + "\" class=\"not-applicable\">\n<h2>" + escape(title) +
         "</h2>\n<figcaption>Not drawn for this report: " + escape(why) + "</figcaption>\n</figure>\n";
}

std::string text(double x, double y, const std::string& content, const std::string& extra) {
  return "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\"" + (extra.empty() ? "" : " " + extra) + ">" +
         escape(content) + "</text>\n";
}

}  // namespace bnlab::html
