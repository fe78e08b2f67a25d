#include "bnlab/engine/method.hpp"

#include <charconv>

#include "bnlab/core/error.hpp"
#include "bnlab/core/split.hpp"

namespace bnlab {
namespace {

const char* kValidMethods = "1, 2, 3, bn, ln, in, gn:G";

// The table of DESIGN.md: reduce (N, C, S) and natural parameter axes (C, S).
Method make_method(const std::string& id, const std::string& title, bool rn, bool rc, bool rs,
                   bool pc, bool ps) {
  Method m;
  m.id = id;
  m.title = title;
  m.reduce_n = rn;
  m.reduce_c = rc;
  m.reduce_s = rs;
  m.param_c = pc;
  m.param_s = ps;
  return m;
}

}  // namespace

AffineMode parse_affine_mode(const std::string& text, const std::string& what) {
  if (text == "natural") return AffineMode::natural;
  if (text == "channel") return AffineMode::channel;
  if (text == "none") return AffineMode::none;
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
  //                      id    title                                   N      C      S      pC     pS
  if (text == "1") return make_method("1", "Method 1 (per location, over N and C)", true, true, false, false, true);
  if (text == "2") return make_method("2", "Method 2 (per activation, over N)", true, false, false, true, true);
  if (text == "3" || text == "bn")
    return make_method("3", "Method 3 (per channel, over N, H, W: BatchNorm2d)", true, false, true, true, false);
  if (text == "ln") return make_method("ln", "LayerNorm (per sample, over C, H, W)", false, true, true, true, true);
  if (text == "in") return make_method("in", "InstanceNorm (per sample and channel, over H, W)", false, false, true, true, false);
  if (text.rfind("gn:", 0) == 0) {
    std::string digits = text.substr(3);
    std::size_t groups = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), groups);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || groups == 0) {
      throw Error(what + ": method \"" + text + "\": G must be a positive integer (e.g. gn:32)");
    }
    Method m = make_method(text, "GroupNorm with " + digits + " groups (per sample and group, over C/G, H, W)",
                           false, true, true, true, false);
    m.id = "gn:" + std::to_string(groups);
    m.groups = groups;
    return m;
  }
  throw Error(what + ": unknown method \"" + text + "\" (valid: " + kValidMethods + ")");
}

std::vector<Method> parse_method_list(const std::string& text, const std::string& what) {
  std::vector<Method> methods;
  for (const std::string& item : split_commas(text)) {
    Method m = parse_method(item, what);
    for (const Method& seen : methods) {
      if (seen.id == m.id) throw Error(what + ": method \"" + item + "\" is listed twice");
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
  plan.stat = strides_for(dims, groups, per_group,
                            Kept{!method.reduce_n, method.groups > 0, !method.reduce_c, !method.reduce_s});
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
    plan.param = strides_for(dims, 1, dims.c, Kept{false, false, param_c, param_s});
    if (param_c) plan.param_shape.push_back(dims.c);
    if (param_s) { plan.param_shape.push_back(dims.h); plan.param_shape.push_back(dims.w); }
    plan.num_params = 1;
    for (std::size_t e : plan.param_shape) plan.num_params *= e;
  }
  return plan;
}

}  // namespace bnlab
