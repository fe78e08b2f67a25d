// libFuzzer target: the parsers of option text - shapes ("N,C,H,W"), method
// lists ("1,2,3,gn:4"), seeds, numbers, layouts, distributions - and, for a
// shape and method list that parse, the plans and `bnlab explain` text built
// from them (the count arithmetic that once divided by zero).
// Input: "<shape>\n<methods>\n<seed>\n<number>\n<layout>\n<dist>".
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/explain/explain.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/synth/synth.hpp"

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (out.size() < 6) {
    const std::size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  out.resize(6);
  return out;
}

template <class F>
void attempt(F f) {
  try {
    f();
  } catch (const bnlab::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> field = lines(std::string(reinterpret_cast<const char*>(data), size));
  attempt([&] {
    const bnlab::Dims dims = bnlab::parse_dims(field[0], "--shape");
    const std::vector<bnlab::Method> methods = bnlab::parse_method_list(field[1], "--methods");
    for (const bnlab::Method& method : methods) attempt([&] { (void)bnlab::make_plan(method, bnlab::AffineMode::natural, dims); });
    (void)bnlab::explain_text(dims, methods);
    (void)bnlab::explain_json(dims, methods).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  });
  attempt([&] { (void)bnlab::parse_method_list(field[1], "--methods"); });
  attempt([&] { (void)bnlab::parse_seed(field[2], "--seed"); });
  attempt([&] { (void)bnlab::parse_number_in(field[3], bnlab::kEpsRange, "--eps"); });
  attempt([&] { (void)bnlab::parse_data_layout(field[4], "--layout"); });
  attempt([&] { (void)bnlab::parse_distribution(field[5], "--dist"); });
  return 0;
}
