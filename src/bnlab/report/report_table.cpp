#include "bnlab/report/report_table.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <vector>

#include "bnlab/core/escape.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/terminal_text.hpp"

namespace bnlab {
namespace {

constexpr std::size_t kGap = 2;          // spaces between columns, so values never touch
constexpr std::size_t kVerdictWidth = 80;

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

// A shape that names its axes: "(H,W)=(16,16)"; "-" when empty.
std::string named_shape(const std::vector<std::string>& axes, const std::vector<std::size_t>& extents) {
  if (extents.empty()) return "-";
  std::vector<std::string> numbers;
  for (std::size_t e : extents) numbers.push_back(std::to_string(e));
  std::string out = "(";  // built step by step: GCC 12 warns (-Wrestrict, falsely) on one long + chain
  out += join(axes, ",");
  out += ")=(";
  out += join(numbers, ",");
  out += ")";
  return out;
}

// Padded to w columns (display columns: a cell may hold the mark ✓ or ✗).
std::string pad_right(const std::string& s, std::size_t w) {
  const std::size_t width = display_width(s);
  return width >= w ? s : s + std::string(w - width, ' ');
}
std::string pad_left(const std::string& s, std::size_t w) {
  const std::size_t width = display_width(s);
  return width >= w ? s : std::string(w - width, ' ') + s;
}

// Whether a property holds, as a mark: ✓/✗, or yes/NO where the terminal is not UTF-8.
std::string mark(bool holds, const TableOptions& options) {
  if (options.utf8_marks) return holds ? "\xe2\x9c\x93" : "\xe2\x9c\x97";  // U+2713, U+2717
  return holds ? "yes" : "NO";
}

// One line of the table: a label and one cell per method; a heading has no cells.
struct Line {
  std::string label;
  std::vector<std::string> cells;
  bool heading = false;
  bool blank = false;
};

// The probe value of a measured method, "-" otherwise.
template <class Probe, class F>
std::string measured(const std::optional<Probe>& probe, F field) {
  return probe ? field(*probe) : std::string("-");
}

// One line per judged property, under a heading per group of properties
// (`question_heading` for the verdict's, then the trade-off's), with a blank
// line before each heading that follows other lines. `label` gives a
// property's label, `cell` one method's cell from whether the property holds
// and its judged value (none: not measurable).
template <class Label, class Cell>
void append_property_lines(std::vector<Line>& lines, const CompareResult& r, const std::string& question_heading,
                           Label label, Cell cell) {
  std::optional<PropertyGroup> group;
  for (const PropertyJudgement& j : r.verdict.judgements) {
    const Property& p = *j.property;
    if (group != p.group) {
      if (!lines.empty()) lines.push_back(Line{"", {}, false, true});
      lines.push_back(Line{p.group == PropertyGroup::question ? question_heading : "Trade-off (not in the verdict)",
                           {}, true, false});
      group = p.group;
    }
    Line line{"  " + label(p), {}, false, false};
    for (std::size_t i = 0; i < r.methods.size(); ++i) line.cells.push_back(cell(p, j.holds[i], j.values[i]));
    lines.push_back(std::move(line));
  }
}

// The --explain table: axes and counts, output statistics, each property
// with its criterion, its judged value and yes/NO.
std::vector<Line> explained_lines(const CompareResult& r) {
  std::vector<Line> lines;
  auto heading = [&](const std::string& title) { lines.push_back(Line{title, {}, true, false}); };
  auto blank = [&] { lines.push_back(Line{"", {}, false, true}); };
  auto row = [&](const std::string& label, auto cell) {
    Line line{"  " + label, {}, false, false};
    for (const CompareMethod& m : r.methods) line.cells.push_back(cell(m));
    lines.push_back(std::move(line));
  };

  heading("Axes and counts");
  row("statistics over", [](const CompareMethod& m) { return join(m.plan.reduce_axes(), ","); });
  row("statistic shape", [](const CompareMethod& m) { return named_shape(m.plan.stat_axes(), m.plan.stat_shape); });
  row("values per statistic", [](const CompareMethod& m) { return std::to_string(m.plan.elements_per_stat); });
  row("gamma/beta shape", [](const CompareMethod& m) { return named_shape(m.plan.param_axes(), m.plan.param_shape); });
  row("constant statistics (left out)", [](const CompareMethod& m) { return std::to_string(m.constant_statistics); });
  blank();

  heading("Output (not judged)");
  row("channel std ratio (min/max)", [](const CompareMethod& m) {
    return measured(m.output, [](const OutputProbe& o) { return o.channel_std_ratio ? compact_number(*o.channel_std_ratio) : "-"; });
  });
  row("spatial pattern kept", [](const CompareMethod& m) {
    return measured(m.output, [](const OutputProbe& o) { return o.pattern_survival ? compact_number(*o.pattern_survival) : "-"; });
  });
  row("gradient check (max rel err)", [](const CompareMethod& m) {
    return measured(m.gradients, [](const GradientsProbe& g) { return compact_number(g.fd_max_rel_error); });
  });

  append_property_lines(lines, r, "Properties (judged)",
                        [](const Property& p) { return std::string(p.label) + " " + p.short_criterion(); },
                        [](const Property& p, bool holds, const std::optional<double>& value) {
                          const std::string verdict = holds ? "yes" : "NO";
                          if (!value) return verdict + " -";
                          return p.yes_no ? verdict : compact_number(*value) + " " + verdict;
                        });
  return lines;
}

// The default table: one line per property in plain words, the mark, then the
// judged value (yes/no properties: the mark alone; not measurable: "-").
std::vector<Line> short_lines(const CompareResult& r, const TableOptions& options) {
  std::vector<Line> lines;
  append_property_lines(lines, r, "Property (judged)", [](const Property& p) { return std::string(p.label); },
                        [&](const Property& p, bool holds, const std::optional<double>& value) {
                          const std::string mark_text = mark(holds, options);
                          if (!value) return mark_text + " -";
                          return p.yes_no ? mark_text : mark_text + " " + compact_number(*value);
                        });
  return lines;
}

// The lines laid out in columns, in blocks of methods that fit kTableWidth.
std::string layout(const CompareResult& r, const std::vector<Line>& lines) {
  std::ostringstream out;
  std::size_t label_w = 0;
  for (const Line& l : lines) label_w = std::max(label_w, display_width(l.label));
  std::vector<std::size_t> col_w(r.methods.size());
  for (std::size_t i = 0; i < r.methods.size(); ++i) {
    col_w[i] = r.methods[i].method.column.size();
    for (const Line& l : lines)
      if (!l.heading && !l.blank) col_w[i] = std::max(col_w[i], display_width(l.cells[i]));
  }
  // Blocks of methods that fit in kTableWidth next to the labels (at least one each).
  std::vector<std::pair<std::size_t, std::size_t>> blocks;
  for (std::size_t begin = 0; begin < r.methods.size();) {
    std::size_t end = begin, width = label_w;
    while (end < r.methods.size() && (end == begin || width + kGap + col_w[end] <= kTableWidth)) width += kGap + col_w[end++];
    blocks.emplace_back(begin, end);
    begin = end;
  }
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const auto [begin, end] = blocks[b];
    if (b) out << "\n";
    for (const Line& l : lines) {
      if (l.blank) {
        out << "\n";
        continue;
      }
      std::string text = pad_right(l.label, label_w);
      for (std::size_t i = begin; i < end; ++i)  // a heading names the methods above their columns
        text += std::string(kGap, ' ') + pad_left(l.heading ? r.methods[i].method.column : l.cells[i], col_w[i]);
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out << text << "\n";
    }
  }
  return out.str();
}

std::string method_names(const CompareResult& r) {
  std::vector<std::string> names;
  for (const CompareMethod& m : r.methods) names.push_back(m.method.column + " = " + m.method.title);
  return join(names, "; ");
}

}  // namespace

std::string wrap_text(const std::string& text, std::size_t width, const std::string& indent, const std::string& first) {
  std::istringstream words(text);
  std::string word, line, out;
  const std::string* lead = &first;
  while (words >> word) {
    if (!line.empty() && lead->size() + line.size() + 1 + word.size() > width) {
      out += *lead + line + "\n";
      line.clear();
      lead = &indent;
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += *lead + line + "\n";
  return out;
}

std::string format_compare_table(const CompareResult& r, const TableOptions& options) {
  std::ostringstream out;
  const CompareConfig& config = r.config;
  const std::string source = config.input  // the path escaped like every echo (core/escape.hpp)
                                 ? escape_control(config.input_as_written.value_or(*config.input)) + " (" + config.layout + ")"
                                 : config.dist + ", seed " + std::to_string(config.seed);
  out << "bnlab compare: input " << named_shape({"N", "C", "H", "W"}, r.dims.to_vector()) << ", " << source << "\n";
  out << "               eps " << compact_number(config.eps) << ", momentum " << compact_number(config.momentum) << "\n\n";
  // The answer first: the verdict, then the numbers behind it.
  out << wrap_text("Verdict: " + r.verdict.summary, kVerdictWidth, "");
  if (r.dims.n == 1) out << wrap_text(std::string("Note: ") + kBatchOfOneNote + ".", kVerdictWidth, "");
  out << "\n";

  if (!options.explain) {
    out << layout(r, short_lines(r, options)) << "\n";
    out << wrap_text(method_names(r) + ".", kTableWidth, "  ");
    out << wrap_text(mark(true, options) + " holds, " + mark(false, options) +
                         " does not; the number is the value judged against the property's criterion. Criteria, axes "
                         "and output statistics: bnlab compare --explain; definitions: docs/properties.md.",
                     kTableWidth, "  ");
    return out.str();
  }

  out << layout(r, explained_lines(r)) << "\n";
  out << wrap_text("Legend (methods: " + method_names(r) + ").", kTableWidth, "  ");
  for (const Property& p : properties()) {
    out << wrap_text(std::string(p.label) + ": " + p.legend + ".", kTableWidth, "    ", "  ");
  }
  out << wrap_text("Output rows are at the configured eps " + compact_number(config.eps) +
                       ", gamma 1, beta 0. spatial pattern kept: the share of each channel's variance explained "
                       "by the spatial mean pattern all samples share, output over input (1: kept as is, 0: erased, "
                       "above 1: amplified). gradient check: analytic gradient against finite differences.",
                   kTableWidth, "    ", "  ");
  out << wrap_text("Properties: the judged value (measured at eps 2.2e-308, i.e. 0 for every non-constant "
                   "statistic), then whether it meets the criterion beside the name.",
                   kTableWidth, "    ", "  ");
  out << "  Full definitions: docs/properties.md and `bnlab explain`.\n";
  return out.str();
}

}  // namespace bnlab
