// Inputs as users dump them: float16 .npy, .npz archives (numpy.savez and
// numpy.savez_compressed), and the files handed over by mistake (torch.save,
// bfloat16 bits, channels-last arrays). Fixtures: tests/fixtures, written by
// NumPy and PyTorch (scripts/make_npy_fixtures.py). The reference tensor x:
// (N, C, H, W) = (2, 3, 4, 5), x.flat[i] = (i - 60) / 4, exact in float16.
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/io/float16.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/io/npz.hpp"
#include "bnlab/normalize/normalize_job.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/compare_layers.hpp"
#include "bnlab/report/layers_table.hpp"
#include "bnlab/synth/synth.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using bnlab::Array;
using bnlab::DataLayout;
using Catch::Contains;
using Catch::StartsWith;
using Json = nlohmann::ordered_json;

namespace {

std::string fixture(const std::string& name) { return std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/" + name; }

// Bitwise equality of two float arrays of the same shape (tells -0 from +0).
bool same_bits(const Array<float>& a, const Array<float>& b) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(a.data()[i]) != std::bit_cast<std::uint32_t>(b.data()[i])) return false;
  }
  return true;
}

// Collects the notes sent while it lives.
struct NoteCapture {
  std::vector<std::string> notes;
  bnlab::NoteSink previous;
  NoteCapture() : previous(bnlab::set_note_sink([this](const std::string& text) { notes.push_back(text); })) {}
  ~NoteCapture() { bnlab::set_note_sink(previous); }
};

using testing::TempDir;

using testing::Run;

// Runs the real binary; stderr is captured through a file.
Run run_bnlab(const std::string& args) { return testing::run(std::string(BNLAB_BINARY) + " " + args); }

bnlab::CompareConfig config_for(const std::string& input) {
  bnlab::CompareConfig config;
  config.input = input;
  return config;
}

}  // namespace

// ---- float16 -------------------------------------------------------------------

TEST_CASE("float16_to_float32 is exact for all 65536 bit patterns") {
  // Reference in double from the definition: (-1)^s * 2^(e-15) * (1 + f/1024),
  // subnormals (-1)^s * 2^-14 * f/1024, e = 31 Inf or NaN.
  std::size_t mismatches = 0;
  for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const int sign = (bits >> 15) ? -1 : 1;
    const int e = (bits >> 10) & 0x1f;
    const int f = bits & 0x3ff;
    const float got = bnlab::float16_to_float32(static_cast<std::uint16_t>(bits));
    if (e == 31) {
      const bool ok = f == 0 ? (std::isinf(got) && (got < 0) == (sign < 0)) : std::isnan(got);
      mismatches += !ok;
      continue;
    }
    const double expected = sign * (e == 0 ? std::ldexp(f / 1024.0, -14) : std::ldexp(1.0 + f / 1024.0, e - 15));
    const bool ok = double(got) == expected && std::signbit(got) == (sign < 0);
    if (!ok) INFO("bits 0x" << std::hex << bits << ": got " << got << ", expected " << expected);
    mismatches += !ok;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("read_npy widens NumPy's float16 exactly, as NumPy's astype(float32) does") {
  // Zeros of both signs, subnormals, the smallest normal, the largest finite value...
  const Array<float> edge = bnlab::read_npy(fixture("float16_edge_cases.npy"));
  const Array<float> numpy_f4 = bnlab::read_npy(fixture("float16_edge_cases_as_f4.npy"));
  REQUIRE(edge.size() == 14);
  CHECK(same_bits(edge, numpy_f4));
  CHECK(edge(9) == 65504.0f);
  CHECK(edge(2) == std::ldexp(1.0f, -24));
  // The reference tensor, stored as float16, reads as the float32 one.
  CHECK(same_bits(bnlab::read_npy(fixture("nchw_f2.npy")), bnlab::read_npy(fixture("nchw_f4.npy"))));
}

TEST_CASE("a float16 Inf (an overflow in a mixed-precision run) is refused with its index") {
  REQUIRE_THROWS_WITH(bnlab::read_npy(fixture("inf_f2.npy")),
                      fixture("inf_f2.npy") + ": Inf at index (0, 1, 2, 1) (float16 overflow? float16 holds at most 65504: "
                                              "save float32, numpy.save(path, x.astype(numpy.float32)))");
}

TEST_CASE("bfloat16 saved as raw 2-byte values is refused with how to convert it") {
  const std::string path = fixture("bfloat16_as_u2.npy");
  REQUIRE_THROWS_WITH(bnlab::read_npy(path),
                      StartsWith(path + ": unsupported dtype '<u2' (expected float32 '<f4', float64 '<f8' or float16 "
                                        "'<f2'); if it holds bfloat16 bits, convert to float32 before saving: "
                                        "numpy.save(path, t.float().cpu().numpy())"));
}

// ---- .npz archives ---------------------------------------------------------------

TEST_CASE("NpzArchive lists numpy.savez and numpy.savez_compressed archives from their headers") {
  for (const char* name : {"layers_savez.npz", "layers_savez_compressed.npz"}) {
    INFO(name);
    const bnlab::NpzArchive archive(fixture(name));
    const auto& e = archive.entries();
    REQUIRE(e.size() == 5);
    CHECK(e[0].name == "conv1");
    CHECK(e[0].descr == "<f4");
    CHECK(e[0].shape == bnlab::Shape{2, 3, 4, 5});
    CHECK(e[1].name == "conv1_half");
    CHECK(e[1].descr == "<f2");
    CHECK(e[2].name == "labels");  // '<i8': listed from its header, never read
    CHECK(e[2].descr == "<i8");
    CHECK(e[3].shape == bnlab::Shape{3, 4, 3, 3});
    CHECK(e[4].shape == bnlab::Shape{3, 3});
    CHECK(archive.find("stage2") == &e[3]);
    CHECK(archive.find("nothing") == nullptr);
    const Array<float> x = bnlab::read_npy(fixture("nchw_f4.npy"));
    CHECK(same_bits(archive.read(e[0]), x));
    CHECK(same_bits(archive.read(e[1]), x));
    REQUIRE_THROWS_WITH(archive.read(e[2]), StartsWith(fixture(name) + ":labels: unsupported dtype '<i8'"));
  }
}

TEST_CASE("an array with a NaN inside an .npz is named archive:array with the index") {
  const bnlab::NpzArchive archive(fixture("layers_nan.npz"));
  REQUIRE_THROWS_WITH(archive.read(*archive.find("bad")), fixture("layers_nan.npz") + ":bad: NaN at index (1, 2, 3, 4)");
  REQUIRE_THROWS_WITH(bnlab::build_layers_report(config_for(fixture("layers_nan.npz"))),
                      fixture("layers_nan.npz") + ":bad: NaN at index (1, 2, 3, 4)");
}

TEST_CASE("compare on an .npz measures every 4-d array exactly as compare on that array alone") {
  const Json single = bnlab::run_compare(config_for(fixture("nchw_f4.npy")));
  Json reports[2];
  int i = 0;
  for (const char* name : {"layers_savez.npz", "layers_savez_compressed.npz"}) {
    INFO(name);
    const Json report = bnlab::run_compare_any(config_for(fixture(name)));
    CHECK(report["schema"] == "bnlab.compare-layers/1");
    CHECK(report["input"]["source"] == "npz");
    CHECK(report["config"]["source"] == "npz");
    std::vector<std::string> names;
    for (const auto& [key, value] : report["layers"].items()) names.push_back(key);
    CHECK(names == std::vector<std::string>{"conv1", "conv1_half", "stage2"});  // 4-d only, archive order
    CHECK(report["input"]["arrays"][2]["compared"] == false);                  // labels
    // The same tensor gives the same measurements, whether alone, in an .npz, or as float16.
    CHECK(report["layers"]["conv1"]["methods"] == single["methods"]);
    CHECK(report["layers"]["conv1"]["verdict"] == single["verdict"]);
    CHECK(report["layers"]["conv1_half"]["methods"] == single["methods"]);
    CHECK(report["layers"]["conv1_half"]["dtype"] == "<f2");
    CHECK(report["layers"]["stage2"]["input"]["shape"] == Json{3, 4, 3, 3});
    CHECK(report["layers"]["stage2"]["input"]["path"] == fixture(name) + ":stage2");
    reports[i++] = report;
  }
  // Both writers hold the same arrays: the same layers, byte for byte.
  CHECK(reports[0]["layers"].dump().size() > 1000);
  Json a = reports[0]["across_layers"], b = reports[1]["across_layers"];
  CHECK(a == b);
}

TEST_CASE("an .npz of channels-last layers read with --layout NHWC measures the same as NCHW") {
  bnlab::CompareConfig nchw = config_for(fixture("layers_savez.npz"));
  nchw.layers = {"conv1", "stage2"};
  bnlab::CompareConfig nhwc = config_for(fixture("layers_nhwc.npz"));
  nhwc.layout = "NHWC";
  const Json a = bnlab::build_layers_report(nchw), b = bnlab::build_layers_report(nhwc);
  CHECK(b["input"]["arrays"][0]["shape"] == Json{2, 4, 5, 3});  // as stored
  for (const char* name : {"conv1", "stage2"}) {
    INFO(name);
    CHECK(b["layers"][name]["input"]["shape"] == a["layers"][name]["input"]["shape"]);  // (N, C, H, W)
    CHECK(b["layers"][name]["methods"] == a["layers"][name]["methods"]);
  }
  CHECK(b["across_layers"] == a["across_layers"]);
}

TEST_CASE("--layers chooses arrays in the order given; a missing or non-4-d one is named") {
  bnlab::CompareConfig config = config_for(fixture("layers_savez.npz"));
  config.layers = {"stage2", "conv1"};
  const Json report = bnlab::build_layers_report(config);
  CHECK(report["layers"].size() == 2);
  CHECK(report["layers"].begin().key() == "stage2");
  CHECK(report["config"]["layers"] == Json{"stage2", "conv1"});
  CHECK(report["across_layers"]["layers"] == 2);

  config.layers = {"conv1", "conv9"};
  REQUIRE_THROWS_WITH(bnlab::build_layers_report(config),
                      "--layers: " + fixture("layers_savez.npz") +
                          " holds no array named \"conv9\" (it holds: conv1 (2, 3, 4, 5) <f4, conv1_half (2, 3, 4, 5) "
                          "<f2, labels (2,) <i8, stage2 (3, 4, 3, 3) <f4, fc_weight (3, 3) <f4)");
  config.layers = {"fc_weight"};
  REQUIRE_THROWS_WITH(bnlab::build_layers_report(config),
                      "--layers: " + fixture("layers_savez.npz") + ":fc_weight is 2-d (3, 3), not a 4-d feature map (N,C,H,W)");
  // A method that does not suit a layer is refused before anything is measured, naming the layer.
  config.layers = {};
  config.methods = {"gn:2"};
  REQUIRE_THROWS_WITH(bnlab::build_layers_report(config), StartsWith(fixture("layers_savez.npz") + ":conv1: "));
  // --layers with a .npy input.
  bnlab::CompareConfig npy = config_for(fixture("nchw_f4.npy"));
  npy.layers = {"conv1"};
  REQUIRE_THROWS_WITH(bnlab::run_compare_any(npy), "--layers: " + fixture("nchw_f4.npy") +
                                                       " is not an .npz archive (--layers chooses arrays of an .npz)");
}

TEST_CASE("an .npz without a 4-d array lists what it holds") {
  REQUIRE_THROWS_WITH(bnlab::run_compare_any(config_for(fixture("no_feature_maps.npz"))),
                      fixture("no_feature_maps.npz") +
                          ": no 4-d array (N,C,H,W) to compare; it holds: labels (2,) <i8, fc_weight (3, 3) <f4");
}

TEST_CASE("the summary across layers counts, per method, the layers with every property") {
  // Two properties of the question, a and b, judged in three layers; method 3
  // has both everywhere, method 1 both in one layer. Typed verdicts, as compare gives them.
  std::vector<const bnlab::Property*> question;
  for (const bnlab::Property& p : bnlab::properties()) {
    if (p.group == bnlab::PropertyGroup::question && question.size() < 2) question.push_back(&p);
  }
  REQUIRE(question.size() == 2);
  const bnlab::Property *a = question[0], *b = question[1];
  // holds[property][method], methods in `ids` order.
  auto layer = [&](const std::string& name, const std::vector<std::string>& ids, std::vector<std::vector<bool>> holds) {
    bnlab::LayerResult l;
    l.name = name;
    for (const std::string& id : ids) {
      bnlab::CompareMethod m;
      m.method = bnlab::parse_method(id, "methods");
      l.result.methods.push_back(m);
    }
    for (std::size_t k = 0; k < 2; ++k) {
      bnlab::PropertyJudgement j;
      j.property = question[k];
      j.values.assign(ids.size(), 0.0);
      j.holds = holds[k];
      l.result.verdict.judgements.push_back(j);
    }
    for (std::size_t m = 0; m < ids.size(); ++m) {
      if (holds[0][m] && holds[1][m]) l.result.verdict.with_every_property.push_back(ids[m]);
    }
    return l;
  };
  const std::vector<std::string> ids = {"1", "3"};
  const std::vector<bnlab::LayerResult> layers = {layer("x", ids, {{true, true}, {true, true}}),
                                                  layer("y", ids, {{false, true}, {true, true}}),
                                                  layer("z", ids, {{false, true}, {false, true}})};
  const bnlab::LayersSummary summary = bnlab::summarize_layers(layers, ids);
  CHECK(summary.with_every_property == std::vector<std::size_t>{1, 3});
  CHECK(bnlab::properties_held(summary, layers[1], 0) == 1);
  CHECK(bnlab::properties_held(summary, layers[2], 0) == 0);
  CHECK(bnlab::properties_held(summary, layers[2], 1) == 2);
  const Json json = summary.to_json();
  CHECK(json["layers"] == 3);
  CHECK(json["methods"]["3"]["layers_with_every_property"] == 3);
  CHECK(json["methods"]["3"]["layers_lacking"] == Json::object());
  CHECK(json["methods"]["1"]["layers_with_every_property"] == 1);
  CHECK(json["methods"]["1"]["layers_lacking"][a->key] == Json{"y", "z"});
  CHECK(json["methods"]["1"]["layers_lacking"][b->key] == Json{"z"});
  CHECK(json["properties"][a->key]["holds_in"]["1"] == 1);
  CHECK(json["properties"][b->key]["holds_in"]["1"] == 2);
  CHECK(json["summary"] == "Method 3 has every property in 3 of 3 layers; Method 1 in 1.");

  // When the leading method falls short somewhere, the sentence says where.
  const std::vector<std::string> ids2 = {"3", "1"};
  const std::vector<bnlab::LayerResult> two = {layer("x", ids2, {{true, true}, {true, true}}),
                                               layer("z", ids2, {{true, false}, {false, false}})};
  CHECK(bnlab::summarize_layers(two, ids2).summary == "Method 3 has every property in 1 of 2 layers; Method 1 in 1. Method 3 lacks " +
                                                         std::string(b->label) + " in 1 layer (z).");

  // References are named by their norm, not by ids that read as words ("in in 0").
  const std::vector<std::string> ids3 = {"3", "in", "gn:8", "ln"};
  const std::vector<bnlab::LayerResult> refs = {layer("x", ids3, {{true, false, false, false}, {true, true, false, false}})};
  CHECK(bnlab::summarize_layers(refs, ids3).summary ==
        "Method 3 has every property in 1 of 1 layer; InstanceNorm in 0; GroupNorm with 8 groups in 0; LayerNorm in 0.");
}

TEST_CASE("the per-layer table escapes member names and the path: one row per layer whatever they hold") {
  bnlab::LayersResult result = bnlab::compare_layers(config_for(fixture("layers_savez.npz")));
  result.layers[0].name = "a\rb\nc\x7f" "d\xc2\x85" "e\xff";
  result.config.input = "in\x1b[2J.npz";
  const std::string table = bnlab::format_layers_table(result);
  INFO(table);
  CHECK_THAT(table, StartsWith("bnlab compare: 3 layers of in\\x1b[2J.npz (NCHW)"));
  CHECK_THAT(table, Contains("\n  a\\rb\\nc\\x7fd\\xc2\\x85e\\xff  (2,3,4,5)"));
  for (const char* raw : {"\r", "\x7f", "\x1b", "\xc2\x85", "\xff"}) CHECK(table.find(raw) == std::string::npos);
}

TEST_CASE("the per-layer table has one row per layer and the summary") {
  const std::string table = bnlab::format_layers_table(bnlab::compare_layers(config_for(fixture("layers_savez.npz"))));
  INFO(table);
  CHECK_THAT(table, StartsWith("bnlab compare: 3 layers of " + fixture("layers_savez.npz") + " (NCHW)"));
  CHECK_THAT(table, Contains("\n  conv1_half  (2,3,4,5)"));
  CHECK_THAT(table, Contains("\n  stage2      (3,4,3,3)"));
  CHECK_THAT(table, Contains("layers with every property"));
  CHECK_THAT(table, Contains("Summary: Method 3 has every property in"));
  // Every line after the first (which holds the archive's path) fits 80 columns.
  for (std::size_t start = table.find('\n') + 1, end; (end = table.find('\n', start)) != std::string::npos; start = end + 1) {
    CHECK(end - start <= 80);
  }
}

// ---- files handed over by mistake -------------------------------------------------

TEST_CASE("a torch.save file is named as such, with how to save the tensor instead") {
  const std::string how =
      "save the tensor with numpy.save(path, t.detach().cpu().numpy()), or a dict of tensors with "
      "numpy.savez(path, **{k: v.detach().cpu().numpy() for k, v in d.items()})";
  const std::string zip = fixture("torch_save.pt"), legacy = fixture("torch_save_legacy.pt");
  REQUIRE_THROWS_WITH(bnlab::read_npy(zip), zip + ": this is a PyTorch archive (torch.save); " + how);
  REQUIRE_THROWS_WITH(bnlab::run_compare_any(config_for(zip)), zip + ": this is a PyTorch archive (torch.save); " + how);
  REQUIRE_THROWS_WITH(bnlab::read_npy(legacy), legacy + ": this is a PyTorch file (torch.save, legacy format); " + how);
}

TEST_CASE("a Python pickle is named as such") {
  TempDir dir;
  const std::string path = (dir.path / "acts.pkl").string();
  std::ofstream(path, std::ios::binary) << std::string("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.", 14);
  REQUIRE_THROWS_WITH(bnlab::read_npy(path),
                      path + ": this is a Python pickle, not a .npy file; save arrays with numpy.save(path, array)");
}

TEST_CASE("an .npz given where one .npy is expected says so") {
  REQUIRE_THROWS_WITH(bnlab::read_npy(fixture("no_feature_maps.npz")),
                      fixture("no_feature_maps.npz") +
                          ": this is an .npz archive (numpy.savez) holding 2 arrays (labels, fc_weight), not a .npy "
                          "file; save the one array wanted here with numpy.save");
}

TEST_CASE("an NCHW read whose last axis looks like channels draws one note") {
  CHECK(bnlab::channels_last_note({16, 16, 16, 64}, "a.npy") ==
        "a.npy: read as NCHW (16, 16, 16, 64), but its last axis looks like channels: C = H = 16 and W = 64 is what "
        "a square feature map stored (N, H, W, C) gives; if it is, pass --layout NHWC");
  CHECK(bnlab::channels_last_note({16, 64, 16, 16}, "a.npy").empty());  // NCHW, square
  CHECK(bnlab::channels_last_note({8, 3, 224, 224}, "a.npy").empty());  // NCHW images
  CHECK(bnlab::channels_last_note({16, 16, 16, 16}, "a.npy").empty());  // cannot tell

  NoteCapture capture;
  bnlab::read_feature_map(fixture("channels_last_looking_f4.npy"), DataLayout::nchw);
  REQUIRE(capture.notes.size() == 1);
  CHECK_THAT(capture.notes[0], Contains("pass --layout NHWC"));
  bnlab::read_feature_map(fixture("channels_last_looking_f4.npy"), DataLayout::nhwc);
  bnlab::read_feature_map(fixture("nchw_f4.npy"), DataLayout::nchw);
  CHECK(capture.notes.size() == 1);
}

TEST_CASE("when the shape cannot tell (C = H = W), the values decide whether the last axis is the channels") {
  // A conv-like feature map (channels of very different mean and scale) as
  // NCHW, and the same values stored channels-last: (N, H, W, C).
  const bnlab::Dims d{8, 16, 16, 16};
  const bnlab::Array<float> nchw = bnlab::synthesize(bnlab::SynthSpec{d, bnlab::Distribution::conv_like, 0});
  bnlab::Array<float> nhwc = bnlab::Array<float>::from_shape({8, 16, 16, 16});  // (N, H, W, C)
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w)
          nhwc[((n * d.h + h) * d.w + w) * d.c + c] = nchw.data()[((n * d.c + c) * d.h + h) * d.w + w];
  const bnlab::Shape shape{8, 16, 16, 16};
  const std::string note = bnlab::channels_last_note(shape, "a.npy", nhwc.data());
  CHECK_THAT(note, Contains("a.npy: read as NCHW (8, 16, 16, 16), but its values vary along the last axis as "
                            "channels do"));
  CHECK_THAT(note, Contains("if it is, pass --layout NHWC"));
  CHECK(bnlab::channels_last_note(shape, "a.npy", nchw.data()).empty());  // really NCHW
  // Values with no channel structure: nothing to say.
  const bnlab::Array<float> normal = bnlab::synthesize(bnlab::SynthSpec{d, bnlab::Distribution::normal, 0});
  CHECK(bnlab::channels_last_note(shape, "a.npy", normal.data()).empty());
  // C = H but W > C: the shape already tells, whatever the values.
  CHECK_THAT(bnlab::channels_last_note({16, 16, 16, 64}, "a.npy", nullptr), Contains("C = H = 16 and W = 64"));
  // The whole read: a channels-last .npy of C = H = W draws the note once; read as NHWC, none.
  TempDir dir;
  NoteCapture capture;
  const std::string path = (dir.path / "nhwc.npy").string();
  bnlab::write_npy(path, nhwc);
  bnlab::read_feature_map(path, DataLayout::nchw);
  REQUIRE(capture.notes.size() == 1);
  CHECK_THAT(capture.notes[0], Contains("as channels do"));
  bnlab::read_feature_map(path, DataLayout::nhwc);
  CHECK(capture.notes.size() == 1);
}

// ---- normalize --layer --------------------------------------------------------------

TEST_CASE("normalize --layer reads one array of an .npz, as the same .npy would be read") {
  TempDir dir;
  bnlab::NormalizeRequest request;
  request.input = fixture("layers_savez_compressed.npz");
  request.layer = "conv1_half";
  request.out_dir = (dir.path / "npz").string();
  const Json summary = bnlab::run_normalize(request);
  CHECK(summary["input"]["layer"] == "conv1_half");
  bnlab::NormalizeRequest plain;
  plain.input = fixture("nchw_f4.npy");
  plain.out_dir = (dir.path / "npy").string();
  bnlab::run_normalize(plain);
  CHECK(same_bits(bnlab::read_npy((dir.path / "npz" / "y.npy").string()),
                  bnlab::read_npy((dir.path / "npy" / "y.npy").string())));

  request.layer.reset();
  request.out_dir = (dir.path / "none").string();
  REQUIRE_THROWS_WITH(bnlab::run_normalize(request),
                      StartsWith(request.input + ": an .npz archive of 5 arrays: choose one with layer NAME (it holds: conv1 "));
  request.layer = "conv9";
  REQUIRE_THROWS_WITH(bnlab::run_normalize(request),
                      StartsWith("layer: " + request.input + " holds no array named \"conv9\" (it holds: "));
  plain.layer = "conv1";
  REQUIRE_THROWS_WITH(bnlab::run_normalize(plain), "layer: " + plain.input +
                                                       " is not an .npz archive (layer chooses an array of an .npz)");
  CHECK(!fs::exists(dir.path / "none"));
}

// ---- the command line ------------------------------------------------------------------

TEST_CASE("bnlab compare --input X.npz prints the per-layer table; mistakes are one stderr line") {
  const Run table = run_bnlab("compare --input " + fixture("layers_savez.npz") + " --layers conv1,stage2 --format table");
  INFO(table.err);
  CHECK(table.code == 0);
  CHECK_THAT(table.out, StartsWith("bnlab compare: 2 layers of "));
  CHECK(table.err.empty());

  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"compare --input " + fixture("torch_save.pt"), "this is a PyTorch archive (torch.save); save the tensor with"},
      {"compare --input " + fixture("no_feature_maps.npz"), "no 4-d array (N,C,H,W) to compare; it holds: labels"},
      {"compare --input " + fixture("layers_savez.npz") + " --layers conv9", "holds no array named \"conv9\""},
      {"compare --layers conv1", "--layers: only applies to --input"},
      {"compare --input " + fixture("bfloat16_as_u2.npy"), "if it holds bfloat16 bits, convert to float32"},
      {"normalize --method 3 --input " + fixture("torch_save_legacy.pt") + " --out-dir /nonexistent/x",
       "this is a PyTorch file (torch.save, legacy format)"},
  };
  for (const Case& c : cases) {
    const Run r = run_bnlab(c.args);
    INFO(c.args << "\nstderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, StartsWith("bnlab: ") && Contains(c.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }

  const Run note = run_bnlab("compare --input " + fixture("channels_last_looking_f4.npy") + " --methods 3");
  CHECK(note.code == 0);
  CHECK_THAT(note.err, StartsWith("bnlab: note: ") && Contains("pass --layout NHWC"));
  CHECK(std::count(note.err.begin(), note.err.end(), '\n') == 1);
}
