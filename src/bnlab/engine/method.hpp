#pragma once
// A normalization is data: a choice of reduction axes plus a choice of
// parameter axes (the GroupNorm paper defines every method by its set S_i). This file holds the table of methods and turns a method and a
// feature-map shape into index maps the kernels walk.
//
// Axes, outermost to innermost: N (batch), G (channel group, GroupNorm only),
// C (channel, within its group), S (the spatial plane H*W, contiguous).
// H and W are reduced or kept together by every method, so S is one axis.
#include <cstddef>
#include <string>
#include <vector>

#include "bnlab/core/shape.hpp"

namespace bnlab {

enum class AffineMode { natural, channel, none };

AffineMode parse_affine_mode(const std::string& text, const std::string& what);
std::string to_string(AffineMode mode);

// Candidates answer the question (which axes should *batch* normalization
// reduce?); references are per-sample normalizations shown for comparison.
enum class MethodRole { candidate, reference };

struct Method {
  std::string id;           // canonical id: "1", "2", "3", "ln", "in", "gn:G"
  std::string title;        // "Method 3 (per channel, BatchNorm2d)"
  std::string name;         // in sentences: "Method 3", "ln", "gn:4"
  std::string column;       // table column heading: "M3", "ln", "gn:4"
  MethodRole role = MethodRole::reference;
  bool reduce_n = false;    // statistics pool over the batch
  bool reduce_c = false;    // ... over the channels (within a group for gn)
  bool reduce_s = false;    // ... over the spatial plane H, W
  std::size_t groups = 0;   // gn:G only; 0 for every other method
  bool param_c = false;     // natural gamma/beta vary along C
  bool param_s = false;     // natural gamma/beta vary along H, W
  bool batch_dependent() const { return reduce_n; }  // has running statistics, eval mode
};

// One row of the method table: everything help text, parsing, the verdict
// and the table know about a method comes from here.
struct MethodRow {
  const char* id;       // "3"; "gn" for the parametrized GroupNorm row
  const char* aliases;  // other accepted names, comma-separated ("bn"), or ""
  const char* title;    // for gn, "G" in the title is replaced by the group count
  const char* name;     // "Method 3"; "" means the id itself
  const char* column;   // "M3"; "" means the id itself
  MethodRole role;
  bool reduce_n, reduce_c, reduce_s, param_c, param_s;
  bool parametrized;    // "gn:G"
  // Names people also use, accepted but not listed in help and errors:
  // PyTorch's class names and their spellings ("batchnorm2d", "groupnorm",
  // which takes ":G" like the id), comma-separated, lower-case, or "".
  const char* spellings;
};
const std::vector<MethodRow>& method_table();

// "1, 2, 3, bn, ln, in, gn:G": generated from the table, for help and errors.
std::string valid_method_names();

// "1", "2", "3", "bn" (= 3), "ln", "in", "gn:G", case-insensitive, surrounding
// spaces ignored; also a row's spellings ("BatchNorm2d" = 3, "GroupNorm:8" =
// gn:8). Throws Error naming `what`, the nearest name when one is close
// ("did you mean"), and listing the valid names; "gn" without G asks for it.
Method parse_method(const std::string& text, const std::string& what);
// "1,2,3" or "1, 2, 3" -> three methods; duplicates are an error.
std::vector<Method> parse_method_list(const std::string& text, const std::string& what);

// Where an (n, c, s) element's statistic (or parameter) lives in a flat array:
//   index = n*n_stride + (c / channels_per_group)*group_stride
//         + (c % channels_per_group)*channel_stride + s*s_stride
// A stride is 0 exactly on the axes that are reduced away. s_stride is 0 or 1.
struct IndexMap {
  std::size_t n_stride = 0, group_stride = 0, channel_stride = 0, s_stride = 0;
  std::size_t channels_per_group = 1;
  std::size_t base(std::size_t n, std::size_t c) const {
    // Group c / channels_per_group, channel c % channels_per_group within it;
    // without groups (channels_per_group = C) that is group 0 and channel c,
    // found without a division (kernels call this once or more per run).
    const std::size_t group = c < channels_per_group ? 0 : c / channels_per_group;
    return n * n_stride + group * group_stride + (c - group * channels_per_group) * channel_stride;
  }
};

// A method applied to one feature-map shape: the counts, shapes and maps.
struct MethodPlan {
  Method method;
  AffineMode affine = AffineMode::natural;
  Dims dims;
  IndexMap stat;                    // element -> statistic
  IndexMap param;                   // element -> gamma/beta entry (unused for none)
  std::vector<std::size_t> stat_shape;   // e.g. (C) for method 3
  std::vector<std::size_t> param_shape;  // e.g. (C); empty for affine none
  std::size_t num_stats = 0;
  std::size_t elements_per_stat = 0;
  std::size_t num_params = 0;       // entries of gamma (0 for affine none)
  bool has_affine() const { return affine != AffineMode::none; }
  // gamma is constant on every statistic group: no reduced axis is a parameter axis.
  bool params_constant_per_stat() const;
  std::vector<std::string> reduce_axes() const;  // e.g. {"N","H","W"}
  std::vector<std::string> stat_axes() const;    // e.g. {"C"}
  std::vector<std::string> param_axes() const;   // e.g. {"C"}; {} for none
};

// Throws Error when the method cannot apply to this shape (gn:G with C % G != 0).
MethodPlan make_plan(const Method& method, AffineMode affine, const Dims& dims);

}  // namespace bnlab
