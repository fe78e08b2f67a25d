#include "bnlab/explain/explain.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"

namespace bnlab {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::size_t kWidth = 80;      // hard limit of every line
constexpr std::size_t kParagraph = 78;  // prose is wrapped a little narrower
constexpr const char* kSource = "Ioffe & Szegedy 2015, arXiv:1502.03167, §3.2";

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

// {"h","w"} -> "_{h,w}", {"c"} -> "_c", {} -> "".
std::string subscript(const std::vector<std::string>& indices) {
  if (indices.empty()) return "";
  if (indices.size() == 1 && indices[0].size() == 1) return "_" + indices[0];
  return "_{" + join(indices, ",") + "}";
}

// "(C, H, W)" from {"C","H","W"}; "()" for none.
std::string axes_tuple(const std::vector<std::string>& axes) { return "(" + join(axes, ", ") + ")"; }

// The facts of one method on one shape, in words and symbols, derived from
// the method's reduce/param flags and the plan's counts.
struct Facts {
  MethodPlan plan;
  std::string mean, variance, normalized, output, where;  // formula lines
  std::string elements_formula;   // "N·H·W = 2·4·5 = 40"
  bool has_running = false;
  bool other_spatial_size = false;
  std::string running_text, spatial_text;
};

Facts facts_for(const Method& m, const Dims& d) {
  Facts f;
  f.plan = make_plan(m, AffineMode::natural, d);
  const MethodPlan& L = f.plan;

  // Indices the statistic keeps, indices the sums run over, factors of its size.
  std::vector<std::string> kept, summed, factors, factor_values;
  if (!m.reduce_n) kept.push_back("n");
  if (m.groups) kept.push_back("g");
  if (!m.reduce_c) kept.push_back("c");
  if (!m.reduce_s) { kept.push_back("h"); kept.push_back("w"); }
  if (m.reduce_n) { summed.push_back("n"); factors.push_back("N"); factor_values.push_back(std::to_string(d.n)); }
  if (m.reduce_c) {
    summed.push_back(m.groups ? "c∈g" : "c");
    factors.push_back(m.groups ? "(C/G)" : "C");
    factor_values.push_back(std::to_string(m.groups ? d.c / m.groups : d.c));
  }
  if (m.reduce_s) {
    summed.push_back("h"); summed.push_back("w");
    factors.push_back("H"); factors.push_back("W");
    factor_values.push_back(std::to_string(d.h)); factor_values.push_back(std::to_string(d.w));
  }
  std::vector<std::string> param_indices;
  for (const std::string& axis : L.param_axes()) param_indices.push_back(axis == "C" ? "c" : axis == "H" ? "h" : "w");

  const std::string x = "x[n,c,h,w]";
  const std::string stat = subscript(kept);
  const std::string count = factors.size() == 1 ? factors[0] : "(" + join(factors, "·") + ")";
  const std::string sum = "Σ" + subscript(summed);
  f.mean = "mu" + stat + " = 1/" + count + " " + sum + " " + x;
  f.variance = "sigma²" + stat + " = 1/" + count + " " + sum + " (" + x + " - mu" + stat + ")²";
  f.normalized = "xhat[n,c,h,w] = (" + x + " - mu" + stat + ") / sqrt(sigma²" + stat + " + eps)";
  f.output = "y[n,c,h,w] = gamma" + subscript(param_indices) + " · xhat[n,c,h,w] + beta" + subscript(param_indices);
  if (m.groups) f.where = "g = c div (C/G): the group of channel c";

  f.elements_formula = join(factors, "·") + " = " +
                       (factors.size() > 1 ? join(factor_values, "·") + " = " : "") +
                       std::to_string(L.elements_per_stat);

  // Running statistics exist exactly when the statistics pool over the batch.
  f.has_running = m.batch_dependent();
  f.running_text = f.has_running
                       ? "yes, shape " + shape_to_string(L.stat_shape) +
                             "; eval mode normalizes with them: one fixed affine map per statistic"
                       : "no; the statistics come from each sample, the same in train and eval mode";

  // A layer applies at another H×W in eval mode when nothing it stores (running
  // statistics, gamma, beta) has an H or W axis.
  std::vector<std::string> bound;
  if (f.has_running && !m.reduce_s) bound.push_back("the running statistics " + axes_tuple(L.stat_axes()));
  if (!L.param_shape.empty() && m.param_s) bound.push_back("gamma, beta " + axes_tuple(L.param_axes()));
  f.other_spatial_size = bound.empty();
  f.spatial_text = bound.empty() ? "yes; nothing it stores has an H or W axis"
                                 : "no; H and W are axes of " + join(bound, " and of ");
  return f;
}

// Words of `text` split at spaces; with keep_groups, a parenthesized group
// such as a shape "(6, 4, 5)" stays one word.
std::vector<std::string> words_of(const std::string& text, bool keep_groups) {
  std::vector<std::string> words;
  std::string word;
  int depth = 0;
  for (char ch : text) {
    if (ch == ' ' && (depth == 0 || !keep_groups)) {
      if (!word.empty()) words.push_back(word);
      word.clear();
      continue;
    }
    if (ch == '(') ++depth;
    if (ch == ')' && depth > 0) --depth;
    word += ch;
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

// Greedy word wrap at `width` columns; continuation lines start with `indent`.
std::string wrap(const std::string& text, std::size_t width, const std::string& first_indent,
                 const std::string& indent, bool keep_groups = false) {
  std::string out, line = first_indent;
  bool line_has_word = false;
  for (const std::string& word : words_of(text, keep_groups)) {
    if (line_has_word && display_width(line) + 1 + display_width(word) > width) {
      out += line + "\n";
      line = indent;
      line_has_word = false;
    }
    line += (line_has_word ? " " : "") + word;
    line_has_word = true;
  }
  return out + line + "\n";
}

// "    label:        value", the value wrapped under itself.
std::string field(const std::string& label, const std::string& value) {
  const std::string indent(28, ' ');
  std::string first = "    " + label + ":";
  first += std::string(indent.size() - std::min(display_width(first), indent.size() - 1), ' ');
  return wrap(value, kWidth, first, indent, true);
}

// "20 mean/variance pairs, shape (4, 5) over (H, W)"
std::string count_with_axes(std::size_t count, const std::string& what, const std::vector<std::size_t>& shape,
                            const std::vector<std::string>& axes) {
  std::string text = std::to_string(count) + " " + what + ", shape " + shape_to_string(shape);
  if (!axes.empty()) text += " over " + axes_tuple(axes);
  return text;
}

std::string method_text(const Facts& f) {
  const MethodPlan& L = f.plan;
  std::string out = wrap("[" + L.method.id + "] " + L.method.title, kWidth, "", "    ");
  for (const std::string* line : {&f.mean, &f.variance, &f.normalized, &f.output, &f.where}) {
    if (!line->empty()) out += wrap(*line, kWidth, "    ", "        ");
  }
  out += field("reduce axes", join(L.reduce_axes(), ", "));
  out += field("statistics",
               count_with_axes(L.num_stats, L.num_stats == 1 ? "mean/variance pair" : "mean/variance pairs",
                               L.stat_shape, L.stat_axes()));
  out += field("elements per statistic", f.elements_formula);
  out += field("gamma, beta", count_with_axes(L.num_params, "each", L.param_shape, L.param_axes()));
  out += field("running statistics", f.running_text);
  out += field("other H×W in eval mode", f.spatial_text);
  return out;
}

std::string underline(const std::string& title) { return title + "\n" + std::string(display_width(title), '-') + "\n"; }

// The closing section: what "per feature map" means in the BN paper.
std::string per_feature_map_text(const Dims& d) {
  MethodPlan bn = make_plan(parse_method("3", "explain"), AffineMode::natural, d);
  std::string out = underline("What does \"per feature map\" mean?");
  out += wrap(std::string("In the batch normalization paper (") + kSource +
                  ") a feature map is one channel c of a convolution's output: the H×W plane that one filter "
                  "produces as it slides over the input. For convolutional layers the paper asks that the "
                  "normalization obey the convolutional property: different elements of the same feature map, "
                  "at different locations, are normalized in the same way.",
              kParagraph, "", "");
  out += "\n";
  out += wrap("\"Per feature map\" therefore means one mean mu_c, one variance sigma²_c and one pair gamma_c, "
              "beta_c per channel (not per activation), with the statistics pooled jointly over the mini-batch "
              "and all spatial locations. For a mini-batch of m samples and p×q feature maps the effective "
              "mini-batch is m' = m·p·q = N·H·W: here " +
                  std::to_string(d.n) + "·" + std::to_string(d.h) + "·" + std::to_string(d.w) + " = " +
                  std::to_string(bn.elements_per_stat) + " elements for each of the C = " +
                  std::to_string(bn.num_stats) +
                  " channels. At inference the paper uses population statistics (the unbiased variance "
                  "m/(m-1)·E[sigma²_B]), so the layer becomes one fixed affine map per feature map.",
              kParagraph, "", "");
  out += "\n";
  out += wrap("That is Method 3, what PyTorch's BatchNorm2d computes.", kParagraph, "", "");
  out += "\n";
  out += wrap("Methods 1 and 2 break the convolutional property: their statistics carry the (h,w) index, so "
              "the same filter response is normalized differently at different locations of one feature map. "
              "Translating one sample's input (or any input in eval mode) no longer just translates its "
              "output, their natural gamma, beta have H and W axes, and in eval mode neither applies at "
              "another H×W. Method 1 also pools channels of different scales into one statistic; Method 2 "
              "estimates each statistic from only N = " +
                  std::to_string(d.n) +
                  " elements (with N = 1 every x is its own mean and the output is beta everywhere).",
              kParagraph, "", "");
  out += "\n";
  out += wrap("InstanceNorm and GroupNorm also normalize every location of a feature map the same way, but "
              "take their statistics per sample instead of over the mini-batch (Wu & He 2018, "
              "arXiv:1803.08494, §3.1).",
              kParagraph, "", "");
  return out;
}

// Safety net for extreme shapes (20-digit extents): break any line still
// wider than kWidth at its last space that fits, indenting the rest.
std::string fit_lines(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (display_width(line) <= kWidth) { out += line + "\n"; continue; }
    std::size_t lead = std::min(line.find_first_not_of(' '), line.size());
    out += wrap(line.substr(lead), kWidth, line.substr(0, lead), std::string(lead + 4, ' '));
  }
  return out;
}

std::string skip_reason(const Method& m, const Dims& d) {
  try {
    make_plan(m, AffineMode::natural, d);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

std::size_t display_width(const std::string& line) {
  std::size_t width = 0;
  for (unsigned char ch : line) {
    if ((ch & 0xC0) != 0x80) ++width;  // count lead bytes, not UTF-8 continuation bytes
  }
  return width;
}

std::string explain_text(const Dims& d, const std::vector<Method>& methods) {
  std::string out = underline("bnlab explain: where batch normalization takes its statistics");
  out += wrap("Feature map x of shape (N, C, H, W) = " + shape_to_string(d.to_vector()) + ", " +
                  std::to_string(d.count()) +
                  " elements. Every method computes y = gamma · (x - mu) / sqrt(sigma² + eps) + beta; they "
                  "differ in the axes that mu and sigma² (the biased variance in train mode) are taken over, "
                  "and in the natural shape of gamma and beta.",
              kParagraph, "", "");
  for (const Method& m : methods) {
    out += "\n";
    std::string reason = skip_reason(m, d);
    if (!reason.empty()) {
      out += wrap("note: skipped " + reason, kParagraph, "", "    ");
      continue;
    }
    out += method_text(facts_for(m, d));
  }
  out += "\n";
  out += per_feature_map_text(d);
  return fit_lines(out);
}

ojson explain_json(const Dims& d, const std::vector<Method>& methods) {
  ojson doc;
  doc["schema"] = "bnlab.explain/1";
  doc["shape"] = d.to_vector();
  doc["methods"] = ojson::object();
  doc["skipped"] = ojson::array();
  for (const Method& m : methods) {
    std::string reason = skip_reason(m, d);
    if (!reason.empty()) {
      doc["skipped"].push_back({{"method", m.id}, {"reason", reason}});
      continue;
    }
    Facts f = facts_for(m, d);
    const MethodPlan& L = f.plan;
    ojson formula = {{"mean", f.mean}, {"variance", f.variance}, {"normalized", f.normalized}, {"output", f.output}};
    if (!f.where.empty()) formula["where"] = f.where;
    doc["methods"][m.id] = {
        {"title", m.title},
        {"formula", formula},
        {"reduce_axes", L.reduce_axes()},
        {"stat_axes", L.stat_axes()},
        {"stat_shape", L.stat_shape},
        {"num_statistics", L.num_stats},
        {"elements_per_statistic", L.elements_per_stat},
        {"param_axes", L.param_axes()},
        {"param_shape", L.param_shape},
        {"num_parameters", L.num_params},
        {"has_running_statistics", f.has_running},
        {"other_spatial_size_in_eval", f.other_spatial_size},
    };
  }
  MethodPlan bn = make_plan(parse_method("3", "explain"), AffineMode::natural, d);
  doc["per_feature_map"] = {
      {"source", kSource},
      {"feature_map", "one channel c of a convolution's output: the H×W plane produced by one filter"},
      {"meaning",
       "one mean and one variance per channel, and one gamma, beta pair per channel, with the statistics "
       "pooled over the mini-batch and all spatial locations"},
      {"method", "3"},
      {"effective_batch", "m' = m·p·q = N·H·W"},
      {"effective_batch_size", bn.elements_per_stat},
  };
  return doc;
}

}  // namespace bnlab
