#pragma once
// "Did you mean ...?": the valid name closest to a mistyped one, for unknown
// subcommands, options and method names alike.
#include <cstddef>
#include <string>
#include <vector>

namespace bnlab {

// The Levenshtein distance: single-byte insertions, deletions, substitutions.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The valid name closest to `word` (edit distance at most a third of its
// length, at least 2), or "" when none is close.
std::string nearest_name(const std::string& word, const std::vector<std::string>& names);

}  // namespace bnlab
