#include "bnlab/engine/method.hpp"

#include <cctype>
#include <charconv>

#include "bnlab/core/error.hpp"
#include "bnlab/core/nearest_name.hpp"
#include "bnlab/core/split.hpp"

namespace bnlab {
namespace {

// Lower-case copy with surrounding spaces removed: names are matched case-insensitively.
std::string normalized_name(const std::string& text) {
  std::size_t begin = text.find_first_not_of(" \t"), last = text.find_last_not_of(" \t");
  std::string out = begin == std::string::npos ? std::string() : text.substr(begin, last - begin + 1);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// The comma-separated names of a list ("bn", "batchnorm,batchnorm2d"); none for "".
std::vector<std::string> names_in(const char* list) {
  return *list == '\0' ? std::vector<std::string>() : split_commas(list);
}

// Every name of a row: its id, aliases and spellings.
std::vector<std::string> row_names(const MethodRow& row) {
  std::vector<std::string> names{row.id};
  for (const std::string& alias : names_in(row.aliases)) names.push_back(alias);
  for (const std::string& spelling : names_in(row.spellings)) names.push_back(spelling);
  return names;
}

bool names_row(const MethodRow& row, const std::string& name) {
  for (const std::string& known : row_names(row)) {
    if (known == name) return true;
  }
  return false;
}

// The name of `row` that `name` starts with followed by ':' ("gn" for
// "gn:8", "groupnorm" for "groupnorm:8"), or "" when none.
std::string parametrized_prefix(const MethodRow& row, const std::string& name) {
  for (const std::string& known : row_names(row)) {
    if (name.rfind(known + ":", 0) == 0) return known;
  }
  return "";
}

// "unknown method \"X\"; did you mean \"Y\"? (valid: ...)" with the nearest
// name of any row, a parametrized one spelled with ":G".
[[noreturn]] void fail_unknown(const std::string& text, const std::string& name, const std::string& what) {
  // A parametrized name takes the word's trailing digits as its G ("gn8" -> "gn:8").
  const std::size_t digits = name.find_last_not_of("0123456789") + 1;
  const std::string groups = digits < name.size() ? name.substr(digits) : "G";
  std::vector<std::string> candidates;
  for (const MethodRow& row : method_table()) {
    for (const std::string& known : row_names(row)) candidates.push_back(row.parametrized ? known + ":" + groups : known);
  }
  // Only a name sharing a character with the word: "4" is no typo of "1".
  std::string near = nearest_name(name, candidates);
  if (!near.empty() && edit_distance(name, near) >= name.size()) near.clear();
  throw Error(what + ": unknown method \"" + text + "\"" + (near.empty() ? "" : "; did you mean \"" + near + "\"?") +
              " (valid: " + valid_method_names() + ")");
}

Method from_row(const MethodRow& row) {
  Method m;
  m.id = row.id;
  m.title = row.title;
  m.name = *row.name ? row.name : row.id;
  m.column = *row.column ? row.column : row.id;
  m.role = row.role;
  m.reduce_n = row.reduce_n;
  m.reduce_c = row.reduce_c;
  m.reduce_s = row.reduce_s;
  m.param_c = row.param_c;
  m.param_s = row.param_s;
  return m;
}

}  // namespace

const std::vector<MethodRow>& method_table() {
  // Reduce over (N, C, S) and natural parameter axes (C, S); S = the plane H, W.
  static const std::vector<MethodRow> rows = {
      //  id    aliases  title                                                   name        column role                     N      C      S      pC     pS     G      spellings
      {"1", "", "Method 1 (per location, over N and C)", "Method 1", "M1", MethodRole::candidate, true, true, false, false, true, false, ""},
      {"2", "", "Method 2 (per activation, over N)", "Method 2", "M2", MethodRole::candidate, true, false, false, true, true, false, ""},
      {"3", "bn", "Method 3 (per channel, over N, H, W: BatchNorm2d)", "Method 3", "M3", MethodRole::candidate, true, false, true, true, false, false, "batchnorm,batchnorm2d"},
      {"ln", "", "LayerNorm (per sample, over C, H, W)", "", "", MethodRole::reference, false, true, true, true, true, false, "layernorm"},
      {"in", "", "InstanceNorm (per sample and channel, over H, W)", "", "", MethodRole::reference, false, false, true, true, false, false, "instancenorm,instancenorm2d"},
      {"gn", "", "GroupNorm with G groups (per sample and group, over C/G, H, W)", "", "", MethodRole::reference, false, true, true, true, false, true, "groupnorm"},
  };
  return rows;
}

std::string valid_method_names() {
  std::string out;
  for (const MethodRow& row : method_table()) {
    if (!out.empty()) out += ", ";
    out += row.parametrized ? std::string(row.id) + ":G" : std::string(row.id);
    if (*row.aliases) out += ", ";  // aliases follow their id: "3, bn"
    for (char ch : std::string(row.aliases)) out += ch == ',' ? std::string(", ") : std::string(1, ch);
  }
  return out;
}

AffineMode parse_affine_mode(const std::string& text, const std::string& what) {
  const std::string name = normalized_name(text);
  if (name == "natural") return AffineMode::natural;
  if (name == "channel") return AffineMode::channel;
  if (name == "none") return AffineMode::none;
  throw Error(what + ": unknown affine mode \"" + text + "\" (valid: natural, channel, none)");
}

std::string to_string(AffineMode mode) {
  switch (mode) {
    case AffineMode::natural: return "natural";
    case AffineMode::channel: return "channel";
    case AffineMode::none: return "none";
  }
  return "?";
}

Method parse_method(const std::string& text, const std::string& what) {
  const std::string name = normalized_name(text);
  for (const MethodRow& row : method_table()) {
    if (!row.parametrized) {
      if (names_row(row, name)) return from_row(row);
      continue;
    }
    if (names_row(row, name)) {  // "gn" alone: the group count is part of the method
      throw Error(what + ": method \"" + text + "\" needs its group count G, e.g. " + row.id +
                  ":4 (" + row.id + ":G, G dividing the channel count C)");
    }
    const std::string known = parametrized_prefix(row, name);
    if (known.empty()) continue;
    const std::string prefix = std::string(row.id) + ":";
    std::string digits = name.substr(known.size() + 1);
    std::size_t groups = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), groups);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || groups == 0) {
      throw Error(what + ": method \"" + text + "\": G must be a positive integer (e.g. gn:32)");
    }
    Method m = from_row(row);
    m.id = prefix + std::to_string(groups);
    m.name = m.column = m.id;
    std::string title = row.title;
    std::string count = " ";  // " G " -> " 4 " (built step by step: GCC 12's -Wrestrict misfires on " " + ...)
    count += std::to_string(groups);
    count += " ";
    title.replace(title.find(" G "), 3, count);
    m.title = title;
    m.groups = groups;
    return m;
  }
  fail_unknown(text, name, what);
}

std::vector<Method> parse_method_list(const std::string& text, const std::string& what) {
  std::vector<Method> methods;
  for (const std::string& item : split_commas(text)) {
    Method m = parse_method(item, what);
    for (const Method& seen : methods) {
      if (seen.id == m.id) throw Error(what + ": method \"" + normalized_name(item) + "\" is listed twice");
    }
    methods.push_back(m);
  }
  return methods;
}

namespace {

// Strides of a row-major array over the kept axes, innermost (S) first.
// `keep_*` say which of (N, G, C-within-group, S) survive.
struct Kept {
  bool n, g, c, s;
};

IndexMap strides_for(const Dims& d, std::size_t groups, std::size_t channels_per_group, Kept keep) {
  IndexMap map;
  map.channels_per_group = channels_per_group;
  std::size_t stride = 1;
  if (keep.s) { map.s_stride = stride; stride *= d.s(); }
  if (keep.c) { map.channel_stride = stride; stride *= channels_per_group; }
  if (keep.g) { map.group_stride = stride; stride *= groups; }
  if (keep.n) { map.n_stride = stride; }
  return map;
}

}  // namespace

bool MethodPlan::params_constant_per_stat() const {
  if (!has_affine()) return true;
  bool param_c = affine == AffineMode::channel || method.param_c;
  bool param_s = affine == AffineMode::natural && method.param_s;
  return !(param_c && method.reduce_c) && !(param_s && method.reduce_s);
}

std::vector<std::string> MethodPlan::reduce_axes() const {
  std::vector<std::string> axes;
  if (method.reduce_n) axes.push_back("N");
  if (method.reduce_c) axes.push_back(method.groups ? "C/G" : "C");
  if (method.reduce_s) { axes.push_back("H"); axes.push_back("W"); }
  return axes;
}

std::vector<std::string> MethodPlan::stat_axes() const {
  std::vector<std::string> axes;
  if (!method.reduce_n) axes.push_back("N");
  if (method.groups) axes.push_back("G");
  if (!method.reduce_c) axes.push_back("C");
  if (!method.reduce_s) { axes.push_back("H"); axes.push_back("W"); }
  return axes;
}

std::vector<std::string> MethodPlan::param_axes() const {
  std::vector<std::string> axes;
  if (!has_affine()) return axes;
  bool param_c = affine == AffineMode::channel || method.param_c;
  bool param_s = affine == AffineMode::natural && method.param_s;
  if (param_c) axes.push_back("C");
  if (param_s) { axes.push_back("H"); axes.push_back("W"); }
  return axes;
}

MethodPlan make_plan(const Method& method, AffineMode affine, const Dims& dims) {
  MethodPlan plan;
  plan.method = method;
  plan.affine = affine;
  plan.dims = dims;
  std::size_t groups = method.groups ? method.groups : 1;
  if (dims.c % groups != 0) {
    throw Error("method " + method.id + ": C=" + std::to_string(dims.c) + " is not a multiple of G=" +
                std::to_string(groups));
  }
  std::size_t per_group = dims.c / groups;

  // Statistics: one per combination of the kept axes.
  plan.stat = strides_for(
      dims, groups, per_group,
      Kept{.n = !method.reduce_n, .g = method.groups > 0, .c = !method.reduce_c, .s = !method.reduce_s});
  if (!method.reduce_n) plan.stat_shape.push_back(dims.n);
  if (method.groups) plan.stat_shape.push_back(groups);
  if (!method.reduce_c) plan.stat_shape.push_back(dims.c);
  if (!method.reduce_s) { plan.stat_shape.push_back(dims.h); plan.stat_shape.push_back(dims.w); }
  plan.num_stats = 1;
  for (std::size_t e : plan.stat_shape) plan.num_stats *= e;
  plan.elements_per_stat = dims.count() / plan.num_stats;

  // Parameters: natural axes, or (C) for affine channel, or none.
  if (affine != AffineMode::none) {
    bool param_c = affine == AffineMode::channel || method.param_c;
    bool param_s = affine == AffineMode::natural && method.param_s;
    plan.param = strides_for(dims, 1, dims.c, Kept{.n = false, .g = false, .c = param_c, .s = param_s});
    if (param_c) plan.param_shape.push_back(dims.c);
    if (param_s) { plan.param_shape.push_back(dims.h); plan.param_shape.push_back(dims.w); }
    plan.num_params = 1;
    for (std::size_t e : plan.param_shape) plan.num_params *= e;
  }
  return plan;
}

}  // namespace bnlab
