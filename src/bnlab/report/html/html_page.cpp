#include "bnlab/report/html/html_page.hpp"

#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

// System fonts only (nothing to fetch); figures scale down to the page width;
// a figure never splits across printed pages.
constexpr const char* kStyle = R"css(
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: #111; background: #fff;
       max-width: 1200px; margin: 0 auto; padding: 16px 24px; line-height: 1.4; font-size: 15px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; margin: 8px 0; }
figure { margin: 28px 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; font-family: inherit; }
figcaption { color: #333; max-width: 1000px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.yes { background: #e3f1fb; }
td.no { background: #fbe9df; font-weight: bold; }
.summary { font-size: 16px; background: #f4f4f4; padding: 10px 14px; border-left: 4px solid #0072B2; }
.legend li { margin: 2px 0; }
.not-applicable figcaption { font-style: italic; }
@media print { body { max-width: none; font-size: 11pt; } }
)css";

}  // namespace

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
}

}  // namespace bnlab::html
