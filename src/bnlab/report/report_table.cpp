#include "bnlab/report/report_table.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <vector>

#include "bnlab/report/verdict.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;
using P = Json::json_pointer;

constexpr std::size_t kWidth = 80;

std::string compact(double v) {
  char buf[32];
  if (v == 0) return "0";
  if (std::abs(v) >= 1e-2 && std::abs(v) < 1e5) std::snprintf(buf, sizeof buf, "%.3g", v);
  else std::snprintf(buf, sizeof buf, "%.1e", v);
  return buf;
}

std::string cell_at(const Json& m, const std::string& pointer) {
  if (m.is_null() || !m.contains(P(pointer))) return "-";
  const Json& v = m.at(P(pointer));
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_unsigned() || v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return compact(v.get<double>());
  if (v.is_array()) {  // a shape: "(16,)" style
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i].get<long long>());
    return s + ")";
  }
  return "-";
}

std::string pad_right(const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }
std::string pad_left(const std::string& s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }

std::string column_title(const std::string& id) { return (id == "1" || id == "2" || id == "3") ? "M" + id : id; }

}  // namespace

std::string wrap_text(const std::string& text, std::size_t width, const std::string& indent) {
  std::istringstream words(text);
  std::string word, line, out;
  while (words >> word) {
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

std::string format_compare_table(const Json& report) {
  std::vector<std::string> ids;
  for (auto it = report["methods"].begin(); it != report["methods"].end(); ++it) ids.push_back(it.key());
  const std::size_t label_w = 34;
  const std::size_t col_w = std::max<std::size_t>(7, std::min<std::size_t>(12, (kWidth - label_w) / std::max<std::size_t>(1, ids.size())));
  std::ostringstream out;

  const Json& in = report["input"];
  std::string shape = cell_at(in, "/shape");
  std::string source = in["source"] == "npy" ? in["path"].get<std::string>() + " (" + in["layout"].get<std::string>() + ")"
                                             : in["dist"].get<std::string>() + ", seed " + std::to_string(in["seed"].get<std::uint64_t>());
  out << "bnlab compare: input " << shape << " (N,C,H,W), " << source << "\n";
  out << "               eps " << compact(report["config"]["eps"].get<double>()) << ", momentum "
      << compact(report["config"]["momentum"].get<double>()) << "\n\n";

  auto header = [&](const std::string& title) {
    out << pad_right(title, label_w);
    for (const auto& id : ids) out << pad_left(column_title(id), col_w);
    out << "\n";
  };
  auto row = [&](const std::string& label, const std::function<std::string(const Json&)>& cell) {
    out << pad_right(label, label_w);
    for (const auto& id : ids) out << pad_left(cell(report["methods"][id]), col_w);
    out << "\n";
  };
  auto at = [&](const std::string& pointer) { return [pointer](const Json& m) { return cell_at(m, pointer); }; };
  auto when_measured = [&](const std::string& pointer) {
    return [pointer](const Json& m) { return m.value("degenerate", false) ? std::string("-") : cell_at(m, pointer); };
  };

  header("Axes and counts");
  row("  statistics over", [](const Json& m) {
    std::string s;
    for (const auto& a : m["reduce_axes"]) s += a.get<std::string>() == "C/G" ? "c" : a.get<std::string>();
    return s;
  });
  row("  statistic shape", at("/stat_shape"));
  row("  elements per statistic", at("/elements_per_statistic"));
  row("  gamma/beta shape", at("/param_shape"));
  out << "\n";
  header("Output (gamma=1, beta=0)");
  row("  max |channel mean|", when_measured("/output/per_channel/max_abs_mean"));
  row("  max |channel var - 1|", when_measured("/output/per_channel/max_abs_var_minus_one"));
  row("  channel std ratio (min/max)", when_measured("/output/channel_std_ratio"));
  row("  shared spatial pattern kept", when_measured("/output/pattern_survival"));
  row("  gradient check (max rel err)", when_measured("/gradients/finite_difference/max_rel_error"));
  out << "\n";
  header("Properties (measured)");
  const Json& props = report["verdict"]["properties"];
  for (const PropertyRule& rule : property_rules()) {
    if (!props.contains(rule.key)) continue;
    const Json& p = props[rule.key];
    out << pad_right("  " + rule.short_name, label_w);
    for (const auto& id : ids) out << pad_left(p["holds"][id].get<bool>() ? "yes" : "NO", col_w);
    out << "\n";
  }
  out << "\n" << wrap_text("Verdict: " + report["verdict"]["summary"].get<std::string>(), kWidth, "");
  return out.str();
}

}  // namespace bnlab
