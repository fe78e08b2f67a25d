#include "bnlab/report/html/audit_page.hpp"

#include <algorithm>
#include <sstream>

#include "bnlab/core/number.hpp"
#include "bnlab/report/html/html_page.hpp"
#include "bnlab/report/html/plot.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {

namespace {
// The threshold of finding `id` in the report's table of findings (0 when absent).
double threshold_of(const nlohmann::ordered_json& report, const std::string& id) {
  for (const auto& rule : report.at("findings")) {
    if (rule.at("id") == id && rule.at("threshold").is_number()) return rule.at("threshold").get<double>();
  }
  return 0;
}

// A bar of `value` on a scale where the threshold sits at one third (the
// plot layer's meter): red beyond it; the value beside it.
std::string bar(const nlohmann::ordered_json& value, double threshold) {
  if (!value.is_number() || threshold <= 0) return "<td>-</td>";
  const double v = value.get<double>();
  return "<td><div style=\"display:flex;align-items:center;gap:6px\">" +
         meter(v / (3 * threshold), 1.0 / 3.0, v > threshold) + significant(v, 3) + "</div></td>";
}
}  // namespace

std::string render_audit_html(const nlohmann::ordered_json& report) {
  const double gap_threshold = threshold_of(report, "stale_running_stats");
  const double se_threshold = threshold_of(report, "few_values_per_statistic");
  std::ostringstream body;
  body << "<h1>bnlab audit</h1><p>" << escape(report.at("input").at("path").get<std::string>()) << ": "
       << escape(report.at("summary").at("text").get<std::string>())
       << ". Bars: the threshold of the finding is the black tick.</p>"
       << "<table><tr><th>layer</th><th>kind</th><th>N</th><th>eval/train gap</th><th>SE of the batch mean</th>"
       << "<th>findings and advice</th></tr>";
  for (const auto& [name, layer] : report.at("layers").items()) {
    body << "<tr><td>" << escape(name) << "</td><td>" << escape(layer.at("kind").get<std::string>()) << "</td><td>"
         << layer.at("batch").dump() << "</td>"
         << bar(layer.value("eval_train_gap", nlohmann::ordered_json()), gap_threshold)
         << bar(layer.value("batch_mean_standard_error", nlohmann::ordered_json()), se_threshold) << "<td>";
    const auto& findings = layer.at("findings");
    const auto& advice = layer.at("advice");
    if (findings.empty()) body << "healthy";
    for (std::size_t i = 0; i < findings.size(); ++i) {
      body << (i ? "<br>" : "") << "<b>" << escape(findings[i].get<std::string>()) << "</b>";
      if (i < advice.size()) body << ": " << escape(advice[i].get<std::string>());
    }
    body << "</td></tr>";
  }
  body << "</table>";
  return page("bnlab audit", body.str());
}

}  // namespace bnlab::html
