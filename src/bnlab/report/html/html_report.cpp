#include "bnlab/report/html/html_report.hpp"

#include <algorithm>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/train_schema.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/io/json_text.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/html_page.hpp"
#include "bnlab/report/html/report_maps.hpp"
#include "bnlab/report/html/report_validation.hpp"
#include "bnlab/report/html/svg.hpp"
#include "bnlab/report/verdict.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> method_ids(const Json& report) {
  return report.at("config").at("methods").get<std::vector<std::string>>();
}

// The property row of a key; nullptr for a key this build does not know (a
// report from another version: the report's own texts are used then).
const Property* property_of(const std::string& key) {
  for (const Property& p : properties())
    if (key == p.key) return &p;
  return nullptr;
}

std::string legend_of(const std::string& key, const Json& saved) {
  const Property* p = property_of(key);
  return p ? p->legend : saved.value("description", "");
}

// What was measured: the tensor, where it came from, its moments.
std::string input_section(const Json& report) {
  const Json& in = report.at("input");
  const Json& summary = in.at("summary");
  std::string where = in.contains("path")
                          ? "file " + in.at("path").get<std::string>() + " (" + in.value("layout", "NCHW") + ")"
                          : "synthetic, " + in.value("dist", "?") + ", seed " + std::to_string(in.value("seed", 0));
  std::string out = "<section id=\"input\">\n<h2>The input</h2>\n<table>\n";
  const auto row = [&](const std::string& label, const std::string& value) {
    out += "<tr><td>" + escape(label) + "</td><td>" + escape(value) + "</td></tr>\n";
  };
  row("shape (N, C, H, W)", shape_text(in.at("shape")));
  row("source", where);
  row("mean, std", number(summary.at("mean").get<double>()) + ", " + number(summary.at("std").get<double>()));
  row("min, max", number(summary.at("min").get<double>()) + ", " + number(summary.at("max").get<double>()));
  row("channel std, smallest to largest",
      number(summary.at("channel_std_min").get<double>()) + " to " + number(summary.at("channel_std_max").get<double>()));
  row("eps, momentum",
      number(report.at("config").at("eps").get<double>()) + ", " + number(report.at("config").at("momentum").get<double>()));
  return out + "</table>\n</section>\n";
}

// The judged properties: value and yes/NO per method (yes/NO in words, the
// colour only repeats it), the legend line under the table, the verdict.
std::string verdict_section(const Json& report) {
  const std::vector<std::string> ids = method_ids(report);
  const Json& verdict = report.at("verdict");
  std::string out = "<section id=\"verdict\">\n<h2>The verdict</h2>\n<p class=\"summary\">" +
                    escape(verdict.value("summary", "")) + "</p>\n<table>\n<tr><th>property (criterion)</th>";
  for (const std::string& id : ids) out += "<th>" + escape(parse_method(id, "methods").column) + "</th>";
  out += "</tr>\n";
  std::string group;
  for (const auto& [key, p] : verdict.at("properties").items()) {
    const std::string g = p.value("group", "question");
    if (g != group) {
      group = g;
      out += "<tr><th colspan=\"" + std::to_string(ids.size() + 1) + "\">" +
             (g == "question" ? "Properties (judged)" : "Trade-off (not in the verdict)") + "</th></tr>\n";
    }
    out += "<tr><td>" + escape(p.value("label", key)) + " (" + escape(p.value("criterion", "")) + ")</td>";
    for (const std::string& id : ids) {
      const bool holds = p.at("holds").value(id, false);
      const Json& v = p.at("values").contains(id) ? p.at("values").at(id) : Json(nullptr);
      const Property* row = property_of(key);
      const bool yes_no = row && row->yes_no;  // the value is 1 or 0: yes/NO says it all
      const std::string value = yes_no ? "" : v.is_number() ? number(v.get<double>()) + " " : "- ";
      out += std::string("<td class=\"") + (holds ? "yes" : "no") + "\">" + escape(value) + (holds ? "yes" : "NO") +
             "</td>";
    }
    out += "</tr>\n";
  }
  out += "<tr><td>constant statistics (left out)</td>";
  for (const std::string& id : ids)
    out += "<td>" + std::to_string(verdict.at("constant_statistics").value(id, 0)) + "</td>";
  out += "</tr>\n</table>\n<ul class=\"legend\">\n";
  for (const std::string& id : ids) {
    const Method m = parse_method(id, "methods");
    out += "<li><b>" + escape(m.column) + "</b> = " + escape(m.title) + "</li>\n";
  }
  for (const auto& [key, p] : verdict.at("properties").items())
    out += "<li><b>" + escape(p.value("label", key)) + "</b>: " + escape(legend_of(key, p)) + ".</li>\n";
  out += "</ul>\n<p>" + escape(verdict.value("note", "")) + "</p>\n";
  out += "<p>Full definitions: docs/properties.md in the bnlab repository and <code>bnlab explain</code>.</p>\n";
  return out + "</section>\n";
}

std::string compare_body(const Json& report) {
  std::string body = "<h1>bnlab compare: where should batch normalization take its statistics?</h1>\n<p>" +
                     escape(report.value("question", "")) + "</p>\n";
  // The answer first: the verdict and the figure of where each method takes
  // its statistics; then the input and the measurements behind the verdict.
  body += verdict_section(report);
  body += axes_figure(report);
  body += input_section(report);
  body += channels_figure(report);
  body += spatial_figure(report);
  body += shift_figure(report);
  body += statistics_figure(report);
  body += batch_size_figure(report);
  return body;
}

// The .npz layers report: properties held per layer and method, layers where each property holds.
std::string layers_body(const Json& report) {
  const std::vector<std::string> ids = method_ids(report);
  const Json& layers = report.at("layers");
  const Json& across = report.at("across_layers");
  const std::size_t total = layers.size(), n_properties = across.at("properties").size();
  std::string body = "<h1>bnlab compare: " + std::to_string(total) + (total == 1 ? " layer of " : " layers of ") +
                     escape(report.at("input").value("path", "an archive")) + "</h1>\n<p class=\"summary\">" +
                     escape(across.value("summary", "")) + "</p>\n";
  const auto header = [&](const std::string& first) {
    std::string h = "<tr><th>" + escape(first) + "</th>";
    for (const std::string& id : ids) h += "<th>" + escape(parse_method(id, "methods").column) + "</th>";
    return h + "</tr>\n";
  };
  body += "<section id=\"layers\">\n<h2>Properties held per layer, of " + std::to_string(n_properties) +
          "</h2>\n<table>\n" + header("layer (N, C, H, W)");
  for (const auto& [name, layer] : layers.items()) {
    body += "<tr><td>" + escape(name) + " (" + escape(shape_text(layer.at("input").at("shape"))) + ")</td>";
    for (const std::string& id : ids) {
      if (layer.at("methods").at(id).value("degenerate", false)) {
        body += "<td>not measured</td>";
        continue;
      }
      std::size_t held = 0;
      for (const auto& [key, p] : across.at("properties").items())
        held += layer.at("verdict").at("properties").at(key).at("holds").value(id, false);
      body +=
          std::string("<td class=\"") + (held == n_properties ? "yes" : "no") + "\">" + std::to_string(held) + "</td>";
    }
    body += "</tr>\n";
  }
  body += "<tr><td>layers with every property</td>";
  for (const std::string& id : ids)
    body += "<td>" + std::to_string(across.at("methods").at(id).at("layers_with_every_property").get<std::size_t>()) + "/" +
            std::to_string(total) + "</td>";
  body +=
      "</tr>\n</table>\n</section>\n<section id=\"properties\">\n<h2>Layers where each property holds</h2>\n<table>\n" +
      header("property");
  for (const auto& [key, p] : across.at("properties").items()) {
    const Property* row = property_of(key);
    const std::string label = row ? row->label : key;
    body += "<tr><td>" + escape(label) + "</td>";
    for (const std::string& id : ids)
      body += "<td>" + std::to_string(p.at("holds_in").at(id).get<std::size_t>()) + "/" + std::to_string(total) + "</td>";
    body += "</tr>\n";
  }
  body += "</table>\n<ul class=\"legend\">\n";
  for (const std::string& id : ids) {
    const Method m = parse_method(id, "methods");
    body += "<li><b>" + escape(m.column) + "</b> = " + escape(m.title) + "</li>\n";
  }
  body +=
      "</ul>\n</section>\n";
  body += layer_figures(report);
  return body;
}

// One renderable schema: its page title and the body that draws it.
struct Schema {
  const char* name;
  const char* title;
  std::string (*body)(const Json&);
};

const Schema kSchemas[] = {
    {kCompareSchema, "bnlab compare report", compare_body},
    {kCompareLayersSchema, "bnlab compare report (layers)", layers_body},
    {train::kTrainSchema, "bnlab train report", train_section},
};

// The schema row of a report; Error naming `source` when the schema is missing,
// unknown or not one of `allowed` (empty: any).
const Schema& schema_of(const Json& report, const std::string& source, const std::vector<std::string>& allowed) {
  const std::string schema = report.is_object() && report.contains("schema") && report.at("schema").is_string()
                                 ? report.at("schema").get<std::string>()
                                 : "";
  for (const Schema& s : kSchemas) {
    if (schema == s.name && (allowed.empty() || std::find(allowed.begin(), allowed.end(), schema) != allowed.end()))
      return s;
  }
  std::vector<std::string> names;  // "a", "b" or "c"
  for (const Schema& s : kSchemas) {
    if (allowed.empty() || std::find(allowed.begin(), allowed.end(), s.name) != allowed.end())
      names.push_back(Json(s.name).dump());
  }
  std::string expected;
  for (std::size_t i = 0; i < names.size(); ++i)
    expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  throw Error(source + ": /schema: expected " + expected + ", got " +
              (schema.empty() ? std::string("none") : Json(schema).dump()));
}

// The body of one report; a key missing or of the wrong type (an edited or
// truncated report) is one line naming the source.
std::string body_of(const Schema& schema, const Json& report, const std::string& source) {
  try {
    return schema.body(report);
  } catch (const Json::exception& e) {
    std::string message = e.what();
    const std::size_t close = message.find("] ");
    if (!message.empty() && message.front() == '[' && close != std::string::npos) message = message.substr(close + 2);
    throw Error(source + ": not a complete " + schema.name + " report: " + message);
  }
}

// The page, or Error naming the report(s) when it is larger than kMaxPageBytes.
std::string bounded(std::string page, const std::string& source) {
  if (page.size() > kMaxPageBytes) {
    const std::string size = fixed(static_cast<double>(page.size()) / (1 << 20), 1) + " MiB";
    throw Error(source + ": the page would be " + size + ", more than the " + std::to_string(kMaxPageBytes >> 20) +
                " MiB bnlab writes at most (a report bnlab wrote draws far less: was it edited?)");
  }
  return page;
}

}  // namespace

std::string render_report_html(const Json& report, const std::string& source) {
  const Schema& schema = schema_of(report, source, {});
  validate_report(report, source);  // lengths, indices and map sizes before any figure reads them
  return bounded(page(schema.title, body_of(schema, report, source)), source);
}

std::string render_joined_html(const Json& report, const std::string& report_source, const Json& train_result,
                               const std::string& train_source) {
  const Schema& first = schema_of(report, report_source, {kCompareSchema, kCompareLayersSchema});
  const Schema& second = schema_of(train_result, train_source, {train::kTrainSchema});
  validate_report(report, report_source);
  validate_report(train_result, train_source);
  return bounded(page(std::string(first.title) + " and bnlab train report",
                      body_of(first, report, report_source) + body_of(second, train_result, train_source)),
                 report_source + " with " + train_source);
}

Json read_report_file(const std::string& path) {
  // The strict reader (io/json_text.hpp): a regular file of at most 64 MiB,
  // at most 64 levels deep (the figures and dump() recurse), no repeated key.
  const std::string text = read_text_file(path);
  // A tensor given by mistake is named as one, not reported as a parse error.
  if (text.rfind("\x93NUMPY", 0) == 0) {
    throw Error(path + ": this is a .npy array; render takes a report (bnlab compare --output REPORT.json)");
  }
  if (text.rfind("PK\x03\x04", 0) == 0) {
    throw Error(path + ": this is a zip archive (.npz or torch.save), not a report; render takes a report "
                       "(bnlab compare --output REPORT.json)");
  }
  return parse_json_text<Json>(text, path);
}

}  // namespace bnlab::html
