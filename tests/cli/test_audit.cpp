// bnlab audit (issue 21): findings on dumps with known defects, made by
// scripts/make_audit_fixtures.py with PyTorch (tests/fixtures/audit/), the
// eval/train gap and the recalibrated statistics against PyTorch's float64
// numbers, and the one-line errors of bad dumps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "bnlab/audit/audit.hpp"
#include "bnlab/audit/findings.hpp"
#include "bnlab/io/npz.hpp"
#include "bnlab/io/npz_write.hpp"
#include "support/test_support.hpp"

using namespace testing;

namespace {
const std::string kFixtures = std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/audit/";
const std::string kDefects = kFixtures + "defects.npz";
const std::string kBinary = BNLAB_BINARY;

std::vector<double> read_doubles(const bnlab::NpzArchive& archive, const std::string& name) {
  const bnlab::NpzEntry* entry = archive.find(name);
  REQUIRE(entry != nullptr);
  const bnlab::Array<float> values = archive.read(*entry);
  return std::vector<double>(values.begin(), values.end());
}

const bnlab::audit::LayerAudit& layer_named(const bnlab::audit::AuditResult& result, const std::string& name) {
  for (const auto& layer : result.layers) {
    if (layer.layer.name == name) return layer;
  }
  FAIL("no layer " << name);
  throw;
}
}  // namespace

TEST_CASE("audit: each fixture layer gets exactly the finding of its defect, in the dump's order") {
  const auto result = bnlab::audit::run_audit(kDefects);
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"healthy", {}},
      {"stale", {"stale_running_stats"}},
      {"tiny", {"few_values_per_statistic"}},
      {"dead", {"dead_channels"}},
      {"gamma", {"zero_gamma_channels"}},
      {"gn", {"not_batch_norm"}},
  };
  REQUIRE(result.layers.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(expected[i].first);
    CHECK(result.layers[i].layer.name == expected[i].first);
    CHECK(result.layers[i].findings == expected[i].second);
  }
  CHECK(layer_named(result, "dead").dead_channels == std::vector<std::size_t>{2});
  CHECK(layer_named(result, "gamma").zero_gamma_channels == std::vector<std::size_t>{0});
  // The stale layer's running means were shifted by 3 batch std in channels 1 and 3.
  const auto& stale = *layer_named(result, "stale").statistics;
  CHECK(stale.channel[1].mean_shift == Approx(-3.0).epsilon(1e-5));
  CHECK(stale.channel[3].mean_shift == Approx(-3.0).epsilon(1e-5));
  CHECK(std::abs(stale.channel[0].mean_shift) < 1e-5);
  CHECK(layer_named(result, "tiny").statistics->values_per_statistic == 16);
}

TEST_CASE("audit: the eval/train gap matches PyTorch's float64 outputs and a float64 computation here") {
  const auto result = bnlab::audit::run_audit(kDefects);
  const bnlab::NpzArchive expected(kFixtures + "expected.npz");
  const bnlab::NpzArchive dump(kDefects);
  for (const std::string name : {"healthy", "stale", "tiny", "dead", "gamma"}) {
    INFO(name);
    const double gap = layer_named(result, name).statistics->eval_train_gap;
    CHECK(gap == Approx(read_doubles(expected, name + ".gap")[0]).epsilon(1e-6));
    // Independently: y = gamma (x - mean) / sqrt(var + eps) + beta, with batch (biased) or running statistics.
    const bnlab::Array<float> x = dump.read(*dump.find(name + ".input"));
    const auto rm = read_doubles(dump, name + ".running_mean"), rv = read_doubles(dump, name + ".running_var");
    const auto w = read_doubles(dump, name + ".weight"), b = read_doubles(dump, name + ".bias");
    const double eps = read_doubles(dump, name + ".eps")[0];
    const std::size_t N = x.shape()[0], C = x.shape()[1], P = x.shape()[2] * x.shape()[3];
    double diff = 0, norm = 0;
    for (std::size_t c = 0; c < C; ++c) {
      double mean = 0, var = 0;
      for (std::size_t i = 0; i < N; ++i)
        for (std::size_t k = 0; k < P; ++k) mean += x.data()[(i * C + c) * P + k];
      mean /= double(N * P);
      for (std::size_t i = 0; i < N; ++i)
        for (std::size_t k = 0; k < P; ++k) var += std::pow(x.data()[(i * C + c) * P + k] - mean, 2);
      var /= double(N * P);
      for (std::size_t i = 0; i < N; ++i) {
        for (std::size_t k = 0; k < P; ++k) {
          const double v = x.data()[(i * C + c) * P + k];
          const double train = w[c] * (v - mean) / std::sqrt(var + eps) + b[c];
          const double eval = w[c] * (v - rm[c]) / std::sqrt(rv[c] + eps) + b[c];
          diff += (eval - train) * (eval - train);
          norm += train * train;
        }
      }
    }
    CHECK(gap == Approx(std::sqrt(diff / norm)).epsilon(1e-9));
  }
}

TEST_CASE("audit --recalibrate: PyTorch's population statistics, which make eval match train in the fixture script") {
  TempDir dir("audit");
  const Run r = run(kBinary + " audit " + kDefects + " --recalibrate " + dir / "recal.npz" + " --output " +
                    dir / "audit.json");
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());  // --output given, stdout not a terminal: the JSON goes to the file only
  const bnlab::NpzArchive recal(dir / "recal.npz");
  const bnlab::NpzArchive expected(kFixtures + "expected.npz");
  // Only the BatchNorm2d layers with running statistics, two arrays each.
  CHECK(recal.entries().size() == 10);
  CHECK(recal.find("gn.running_mean") == nullptr);
  for (const std::string name : {"healthy", "stale", "tiny", "dead", "gamma"}) {
    INFO(name);
    const auto mean = read_doubles(recal, name + ".running_mean"), var = read_doubles(recal, name + ".running_var");
    const auto want_mean = read_doubles(expected, name + ".recal_mean");
    const auto want_var = read_doubles(expected, name + ".recal_var");
    REQUIRE(mean.size() == want_mean.size());
    for (std::size_t c = 0; c < mean.size(); ++c) {
      CHECK(mean[c] == Approx(want_mean[c]).epsilon(1e-6).margin(1e-6));
      CHECK(var[c] == Approx(want_var[c]).epsilon(1e-6).margin(1e-12));
    }
  }
  const auto report = nlohmann::json::parse(read_text(dir / "audit.json"));
  CHECK(report["schema"] == "bnlab.audit/1");
  CHECK(report["layers"]["stale"]["findings"] == nlohmann::json::array({"stale_running_stats"}));
  CHECK(report["layers"]["healthy"]["findings"] == nlohmann::json::array());
  CHECK(report["summary"]["healthy"] == 1);
}

TEST_CASE("audit: JSON on a pipe, the table with --format table, the help from the findings table") {
  const Run json = run(kBinary + " audit " + kDefects);
  REQUIRE(json.code == 0);
  const auto report = nlohmann::json::parse(json.out);
  CHECK(report["layers"]["tiny"]["findings"] == nlohmann::json::array({"few_values_per_statistic"}));
  CHECK(report["findings"].size() == bnlab::audit::finding_rules().size());
  const Run table = run(kBinary + " audit " + kDefects + " --format table");
  REQUIRE(table.code == 0);
  // The worst first: the stale layer (gap 2.4) before the tiny one, healthy last among the BN layers.
  CHECK(table.out.find("stale ") < table.out.find("tiny "));
  CHECK(table.out.find("recalibrate with >= ") != std::string::npos);
  CHECK(table.out.find("or GroupNorm") != std::string::npos);
  CHECK(run(kBinary + " audit " + kDefects + " --format TABLE").out == table.out);  // case-insensitive, as everywhere
  const Run help = run(kBinary + " audit --help");
  for (const auto& rule : bnlab::audit::finding_rules()) CHECK(help.out.find(rule.id) != std::string::npos);
}

TEST_CASE("audit: bad dumps get one line naming the layer and the array") {
  const Run wrong = run(kBinary + " audit " + kFixtures + "bad_wrong_length.npz");
  CHECK(wrong.code != 0);
  CHECK(wrong.err.find("bad_wrong_length.npz:layer2.bn.running_mean: expected shape (4,)") != std::string::npos);
  CHECK(wrong.err.find("got (3,)") != std::string::npos);
  CHECK(std::count(wrong.err.begin(), wrong.err.end(), '\n') == 1);

  const Run none = run(kBinary + " audit " + kFixtures + "bad_no_input.npz");
  CHECK(none.code != 0);
  CHECK(none.err.find("no array named L.input") != std::string::npos);
  CHECK(none.err.find("bn.running_mean") != std::string::npos);
  CHECK(std::count(none.err.begin(), none.err.end(), '\n') == 1);
}

TEST_CASE("audit: N = 1, a layer without running statistics, an NHWC-looking input: notes, not errors") {
  const Run one = run(kBinary + " audit " + kFixtures + "batch_one.npz");
  REQUIRE(one.code == 0);
  const auto report = nlohmann::json::parse(one.out);
  CHECK(report["layers"]["bn"]["batch_mean_standard_error"].is_null());
  CHECK(report["layers"]["bn"]["findings"] == nlohmann::json::array());
  CHECK(one.err.find("N = 1") != std::string::npos);

  const Run batch_only = run(kBinary + " audit " + kFixtures + "batch_only.npz");
  REQUIRE(batch_only.code == 0);
  const auto only = nlohmann::json::parse(batch_only.out);
  CHECK(only["layers"]["bn"]["has_running_statistics"] == false);
  CHECK(only["layers"]["bn"]["eval_train_gap"].is_null());
  CHECK(batch_only.err.find("no running statistics") != std::string::npos);

  const Run nhwc = run(kBinary + " audit " + kFixtures + "nhwc.npz");
  REQUIRE(nhwc.code == 0);
  CHECK(nhwc.err.find("looks like channels") != std::string::npos);
}

TEST_CASE("audit: one of running_mean/running_var without the other, or a bad kind code, is one line naming the array") {
  TempDir dir("audit-bad");
  bnlab::Array<float> input = bnlab::Array<float>::from_shape({2, 3, 4, 4});
  for (std::size_t i = 0; i < input.size(); ++i) input.data()[i] = float(i % 7) * 0.5f;
  bnlab::Array<float> zeros = bnlab::Array<float>::from_shape({3});
  zeros.fill(0.0f);
  bnlab::write_npz(dir / "half.npz", {{"block.bn.input", input}, {"block.bn.running_mean", zeros}});
  const Run half = run(kBinary + " audit " + dir / "half.npz");
  CHECK(half.code != 0);
  CHECK(half.err.find("half.npz:block.bn.running_var: missing while block.bn.running_mean is given") !=
        std::string::npos);
  CHECK(std::count(half.err.begin(), half.err.end(), '\n') == 1);

  // A note about an earlier layer (NHWC-looking: C = H = 4 < W = 16) is dropped when a later one is an error.
  bnlab::Array<float> nhwc = bnlab::Array<float>::from_shape({2, 4, 4, 16});
  for (std::size_t i = 0; i < nhwc.size(); ++i) nhwc.data()[i] = float(i % 5);
  bnlab::write_npz(dir / "late.npz", {{"first.input", nhwc}, {"block.bn.input", input}, {"block.bn.running_mean", zeros}});
  const Run late = run(kBinary + " audit " + dir / "late.npz");
  CHECK(late.code != 0);
  CHECK(late.err.find("block.bn.running_var: missing") != std::string::npos);
  CHECK(std::count(late.err.begin(), late.err.end(), '\n') == 1);

  bnlab::Array<float> kind = bnlab::Array<float>::from_shape({});
  kind.fill(7.0f);
  bnlab::write_npz(dir / "kind.npz", {{"bn.input", input}, {"bn.kind", kind}});
  const Run bad_kind = run(kBinary + " audit " + dir / "kind.npz");
  CHECK(bad_kind.code != 0);
  CHECK(bad_kind.err.find("kind.npz:bn.kind: expected 0, 1, 2 or 3") != std::string::npos);
  CHECK(std::count(bad_kind.err.begin(), bad_kind.err.end(), '\n') == 1);
}

TEST_CASE("write_npz: an archive NpzArchive (and numpy) reads back, arrays and names as given") {
  TempDir dir("npz-write");
  bnlab::Array<float> a = bnlab::Array<float>::from_shape({2, 3});
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = float(i) - 2.5f;
  bnlab::Array<float> b = bnlab::Array<float>::from_shape({4});
  b.fill(1.25f);
  bnlab::write_npz(dir / "x.npz", {{"layer1.0.bn1.running_mean", a}, {"b", b}});
  const bnlab::NpzArchive archive(dir / "x.npz");
  REQUIRE(archive.entries().size() == 2);
  CHECK(archive.entries()[0].name == "layer1.0.bn1.running_mean");
  CHECK(archive.entries()[0].shape == bnlab::Shape{2, 3});
  CHECK(bool(archive.read(archive.entries()[0]) == a));
  CHECK(bool(archive.read(archive.entries()[1]) == b));
}

TEST_CASE("audit: the advice in the report is the findings table's, with the layer's number") {
  const auto result = bnlab::audit::run_audit(kDefects);
  const auto& stale = layer_named(result, "stale");
  REQUIRE(stale.advice.size() == 1);
  CHECK(stale.advice[0] == bnlab::audit::advice_text("stale_running_stats",
                                                     std::to_string(std::lround(stale.precise_bn_images))));
  const auto& tiny = layer_named(result, "tiny");
  REQUIRE(tiny.advice.size() == 1);
  CHECK(tiny.advice[0] == bnlab::audit::advice_text("few_values_per_statistic",
                                                    std::to_string(std::lround(tiny.recommended_batch))));
  // The recommended batch brings the mean's standard error to the threshold: SE ~ 1/sqrt(batch).
  const double se_there = tiny.batch_mean_standard_error * std::sqrt(4.0 / tiny.recommended_batch);
  CHECK(se_there <= bnlab::audit::noisy_mean_threshold());
}

TEST_CASE("audit --html: one self-contained page, a row per layer with its findings, bars red beyond the threshold") {
  TempDir dir("audit-html");
  const Run r = run(kBinary + " audit " + kDefects + " --format json --html " + dir / "audit.html");
  REQUIRE(r.code == 0);
  const std::string page = read_text(dir / "audit.html");
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  for (const std::string name : {"healthy", "stale", "tiny", "dead", "gamma", "gn"}) {
    CHECK(page.find("<tr><td>" + name + "</td>") != std::string::npos);
  }
  CHECK(page.find("<b>stale_running_stats</b>") != std::string::npos);
  // Two bars beyond their threshold: the stale layer's gap and the tiny layer's standard error.
  std::size_t red = 0;
  for (std::size_t at = page.find("#c0392b"); at != std::string::npos; at = page.find("#c0392b", at + 1)) ++red;
  CHECK(red == 2);
  CHECK(page.find("http") == std::string::npos);  // nothing fetched: self-contained
}
