// Every reader bounded (issue 24): the crafted inputs of the review, each
// built here, each refused with one line or read within bounds. Inputs that
// used to hang run under `timeout`, so a regression fails instead of hanging.
#include <sys/stat.h>
#include <sys/types.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/io/idx.hpp"
#include "bnlab/io/json_text.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/io/npz.hpp"
#include "bnlab/io/regular_file.hpp"
#include "bnlab/report/compare.hpp"
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/html_report.hpp"
#include "bnlab/report/html/plot.hpp"
#include "bnlab/report/html/svg.hpp"
#include "bnlab/train/dataset.hpp"
#include "support/test_support.hpp"
#include "support/zip_writer.hpp"

using Catch::Contains;
using Json = nlohmann::ordered_json;
using testing::TempDir;
using testing::ZipMember;

namespace {

// prefix + i + suffix, appended piece by piece: GCC 12 warns (-Wrestrict, a
// false positive) on "literal" + std::to_string(i) + "literal".
std::string numbered(const char* prefix, int i, const char* suffix) {
  std::string out = prefix;
  out += std::to_string(i);
  out += suffix;
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const bnlab::Error& e) {
    return e.what();
  }
  return "no error";
}

// The binary on `args`, in `dir`, killed after 20 s (a hang fails the test).
testing::Run run_in(const TempDir& dir, const std::string& args) {
  return testing::run("cd '" + dir.path.string() + "' && timeout -s KILL 20 " + BNLAB_BINARY + " " + args);
}

// One line on stderr, starting "bnlab: ", and the exit status 1.
void check_one_line_error(const testing::Run& r, const std::string& culprit) {
  INFO("stderr: " << r.err);
  CHECK(r.code == 1);
  CHECK(r.err.rfind("bnlab: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_THAT(r.err, Contains(culprit));
}

std::string npy_of(const bnlab::Shape& shape, float value = 1.0f) {
  auto a = bnlab::Array<float>::from_shape(shape);
  for (float& v : a) v = value;
  return bnlab::npy_bytes(a);
}

}  // namespace

// ---- 3. inputs must be regular files ------------------------------------------

TEST_CASE("a FIFO or a device given as any input is refused by type, at once") {
  TempDir dir("readers");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  const std::vector<std::string> commands = {
      "compare --input fifo", "compare --config fifo", "normalize --method 3 --input fifo --out-dir out",
      "render fifo --html page.html", "train --config fifo", "check --golden fifo --report fifo",
      "render /dev/zero --html page.html", "train --config /dev/zero", "compare --input /dev/urandom"};
  for (const std::string& command : commands) {
    INFO(command);
    const auto start = std::chrono::steady_clock::now();
    const testing::Run r = run_in(dir, command);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    check_one_line_error(r, "not a regular file (a ");
  }
  CHECK_THAT(error_of([&] { bnlab::read_idx(dir / "fifo", 1); }), Contains("fifo: not a regular file (a FIFO)"));
  CHECK_THAT(error_of([&] { bnlab::RegularFile file(dir.path.string()); }), Contains("not a regular file (a directory)"));
  CHECK_FALSE(bnlab::file_starts_like_zip(dir / "fifo"));  // never blocks
}

// ---- 1. one strict JSON reader ----------------------------------------------------

TEST_CASE("render and train configs read JSON strictly: depth, duplicate keys at any depth, size") {
  TempDir dir("readers");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  dir.write("deep.json", "{\"schema\": \"bnlab.compare/3\", \"x\": " + deep + "}");
  dir.write("deep_config.json", "{\"description\": " + deep + "}");
  dir.write("dup_config.json", R"({"data": "stand-in", "methods": ["3"], "canvas": {"a": 1, "a": 2}})");
  check_one_line_error(run_in(dir, "render deep.json --html page.html"), "deep.json: /x/0/0/0");
  check_one_line_error(run_in(dir, "render deep.json --html page.html"), "nested deeper than 64 levels");
  check_one_line_error(run_in(dir, "train --config deep_config.json"), "deep_config.json: /description/0/0");
  check_one_line_error(run_in(dir, "train --config dup_config.json"), "dup_config.json: /canvas/a: duplicate key");
  CHECK(bnlab::parse_json_text<Json>(R"({"b": 1, "a": 2})", "t.json").begin().key() == "b");  // order kept
}

// ---- 2. a saved report validated before the figures read it -------------------------

namespace {

const Json& small_report() {
  static const Json report = [] {
    bnlab::CompareConfig config;
    config.shape = {4, 5, 6, 6};
    return bnlab::run_compare(config);
  }();
  return report;
}

std::string render_error(const Json& report) {
  return error_of([&] { (void)bnlab::html::render_report_html(report, "r.json"); });
}

}  // namespace

TEST_CASE("render refuses a report whose lengths disagree with its shape, naming the JSON pointer") {
  REQUIRE(render_error(small_report()) == "no error");
  Json short_var = small_report();
  Json& var = short_var["methods"]["3"]["output"]["per_channel"]["var"];
  var.erase(var.begin() + 3, var.end());  // C = 5, 3 values: read past the array before
  CHECK(render_error(short_var) ==
        "r.json: /methods/3/output/per_channel/var: expected an array of C = 5 numbers, got an array of 3");

  Json short_shape = small_report();
  short_shape["input"]["shape"].erase(3);
  CHECK(render_error(short_shape) == "r.json: /input/shape: expected 4 extents (N, C, H, W), got an array of 3");

  Json channel = small_report();
  channel["input"]["maps"]["channels"][0] = 5;
  CHECK(render_error(channel) == "r.json: /input/maps/channels/0: expected an integer in [0, 4], got 5");

  Json big_map = small_report();
  big_map["methods"]["1"]["maps"]["output_mean"][0] = Json(std::vector<std::vector<double>>(1000, std::vector<double>(1000, 0.5)));
  CHECK_THAT(render_error(big_map), Contains("/methods/1/maps/output_mean/0: expected a map of 1 to 32 rows (bnlab writes "
                                             "at most 32 x 32), got an array of 1000"));

  Json n_zero = small_report();
  n_zero["methods"]["1"]["batch_size"]["sizes"].back()["n"] = 0;
  CHECK_THAT(render_error(n_zero), Contains("/methods/1/batch_size/sizes/"));
  CHECK_THAT(render_error(n_zero), Contains("/n: expected an integer in [1, 4], got 0"));
}

// ---- 6. figures terminate for any number -------------------------------------------

TEST_CASE("axis ticks: bounded and finite for 0, negative, subnormal, huge, inf and NaN spans") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const double awkward[] = {0.0, -1.0, 5e-324, 1.7e308, inf, -inf, nan};
  for (double lo : awkward)
    for (double hi : awkward) {
      const std::vector<double> ticks = bnlab::html::axis_ticks(lo, hi, 5);
      CHECK(ticks.size() <= 17);
      for (double t : ticks) CHECK(std::isfinite(t));
    }
  CHECK(bnlab::html::axis_ticks(0, 1, 4) == std::vector<double>{0, 0.5, 1});  // steps of 1, 2 or 5 x 10^k
  CHECK(bnlab::html::axis_ticks(-1, 1, 4) == std::vector<double>{-1, -0.5, 0, 0.5, 1});
  CHECK(bnlab::html::axis_ticks(1e300, 1e300 * (1 + 1e-15), 4).size() <= 14);  // a step below t's precision: no stall
  CHECK(bnlab::html::tick_step(0, 4) == 0);
  CHECK(bnlab::html::tick_step(5e-324, 4) == 0);
  CHECK(bnlab::html::plottable(1.7e308) == 1e300);
  // The loss figure's ticks from 0 and the batch-size figure's decades and octaves.
  for (double step : awkward)
    for (double limit : awkward) {
      const std::vector<double> ticks = bnlab::html::multiples_up_to(step, limit, 20);
      CHECK(ticks.size() <= 21);
      for (double t : ticks) CHECK(std::isfinite(t));
      const std::vector<double> exponents = bnlab::html::exponent_ticks(step, limit, limit - step, 12);
      CHECK(exponents.size() <= 14);
      for (double e : exponents) CHECK(std::isfinite(e));
    }
  CHECK(bnlab::html::multiples_up_to(0.5, 2.2, 20) == std::vector<double>{0, 0.5, 1, 1.5, 2});
  CHECK(bnlab::html::exponent_ticks(-324, 309, 633, 12).size() == 12);  // every 53rd decade of 633
  CHECK(bnlab::html::exponent_ticks(0, 3, 3, 12) == std::vector<double>{0, 1, 2, 3});
}

TEST_CASE("the figures draw huge values and a batch size of 0 without hanging") {
  // Straight to the figures, past the validation render does first.
  Json huge = small_report();
  huge["methods"]["1"]["output"]["per_channel"]["mean"][0] = 1.7e308;
  huge["methods"]["1"]["output"]["per_channel"]["var"][0] = 1.7e308;
  CHECK(bnlab::html::channels_figure(huge).find("<svg") != std::string::npos);
  CHECK(bnlab::html::render_report_html(huge).find("fig-channels") != std::string::npos);  // valid: finite values

  Json n_zero = small_report();
  for (Json& size : n_zero["methods"]["1"]["batch_size"]["sizes"]) size["n"] = 0;
  CHECK(bnlab::html::batch_size_figure(n_zero).find("fig-batch-size") != std::string::npos);
  Json tiny = small_report();
  for (Json& size : tiny["methods"]["1"]["batch_size"]["sizes"]) size["var_error"] = 5e-324;
  tiny["methods"]["1"]["batch_size"]["sizes"][0]["var_error"] = 1.7e308;
  CHECK(bnlab::html::batch_size_figure(tiny).find("<svg") != std::string::npos);

  // A training result whose loss is 1.7e308: the axis top used to overflow to inf.
  Json result;
  result["config"] = {{"loss_every", 10}, {"batch_size", 8}, {"seeds", {1}}};
  result["methods"]["3"] = {{"loss_curve", {{"mean", {2.3, 1.7e308}}, {"std", {0.0, 1.7e308}}}},
                            {"final_loss", {{"mean", 1.7e308}, {"std", 0.0}}},
                            {"seeds", Json::array({Json{{"steps", 20}}})}};
  const std::string figure = bnlab::html::train_loss_figure(result);
  CHECK(figure.find("fig-train-loss") != std::string::npos);
  CHECK(figure.find("inf") == std::string::npos);
}

// ---- 4. .npz archives --------------------------------------------------------------------

TEST_CASE(".npz: archives numpy never writes are refused before anything is inflated") {
  TempDir dir("readers");
  const std::string a = npy_of({1, 2, 3, 3});
  const auto refused = [&](const std::vector<ZipMember>& members) {
    const std::string path = dir.write("x.npz", testing::zip_bytes(members));
    return error_of([&] { bnlab::NpzArchive archive(path); });
  };
  // Two members of one name: numpy.load returns the last, bnlab compared the first.
  CHECK_THAT(refused({{"a.npy", a}, {"a.npy", npy_of({1, 2, 3, 3}, 2.0f)}}), Contains("two members are named \"a.npy\""));
  // Central entries that point at one member's data (the 100 x 256 MiB bomb).
  std::vector<ZipMember> shared = {{"a.npy", a, true}};
  for (int i = 0; i < 100; ++i) {
    ZipMember m{numbered("s", i, ".npy"), ""};
    m.share_with = 0;
    shared.push_back(m);
  }
  CHECK_THAT(refused(shared), Contains("x.npz: inconsistent .npz (zip) archive"));
  // A declared size deflate cannot produce from the compressed bytes.
  ZipMember liar{"a.npy", a, true};
  liar.declared_size = 4000000000u;
  CHECK_THAT(refused({liar}), Contains("bytes uncompressed from") && Contains("more than deflate can produce (1032:1)"));
  // zip64: 2^62 bytes declared for a few dozen, deflated or stored.
  ZipMember huge{"a.npy", a, true};
  huge.zip64_size = std::uint64_t{1} << 62;
  CHECK_THAT(refused({huge}), Contains("declares 4611686018427387904 bytes uncompressed from"));
  huge.deflate = false;
  CHECK_THAT(refused({huge}), Contains("a stored member declares 4611686018427387904 bytes uncompressed"));
  // A stored member whose sizes differ.
  ZipMember stored{"a.npy", a};
  stored.declared_size = static_cast<std::uint32_t>(a.size() + 1);
  CHECK_THAT(refused({stored}), Contains("a stored member declares"));
  // The local header names another file than the central directory.
  ZipMember renamed{"a.npy", a};
  renamed.local_name = "b.npy";
  CHECK_THAT(refused({renamed}), Contains("local header disagrees with the central directory"));
}

TEST_CASE(".npz: a member is inflated no further than its declared size, and only when read") {
  TempDir dir("readers");
  const std::string a = npy_of({1, 2, 3, 3});
  // "b" declares 200 bytes but inflates to 8 MiB (its .npy header is whole in the 200).
  std::string b = npy_of({1, 2, 3, 3});
  b += std::string(std::size_t{8} << 20, '\0');
  ZipMember bomb{"b.npy", b, true};
  bomb.declared_size = 200;
  const std::string path = dir.write("x.npz", testing::zip_bytes({{"a.npy", a, true}, bomb}));
  const bnlab::NpzArchive archive(path);
  REQUIRE(archive.entries().size() == 2);
  CHECK(archive.find("b")->shape == bnlab::Shape{1, 2, 3, 3});  // from its first bytes
  CHECK(archive.read(*archive.find("a")).size() == 18);
  CHECK(error_of([&] { (void)archive.read(*archive.find("b")); }) ==
        path + ":b: cannot read: the member inflates to more than the 200 bytes the archive declares");
  // A member that ends before its declared size: refused, naming it.
  std::string noise = npy_of({1, 1, 1, 5000});
  for (std::size_t i = 128; i < noise.size(); ++i) noise[i] = char((i * 2654435761u) >> 13);
  ZipMember early{"c.npy", noise, true};
  early.declared_size = static_cast<std::uint32_t>(noise.size() + 1000);
  const std::string early_path = dir.write("early.npz", testing::zip_bytes({early}));
  const bnlab::NpzArchive early_archive(early_path);
  CHECK_THAT(error_of([&] { (void)early_archive.read(early_archive.entries().at(0)); }),
             Contains(early_path + ":c: cannot read: "));
  // compare --layers a never inflates b; all layers names b.
  dir.write("x.npz", testing::zip_bytes({{"a.npy", a, true}, bomb}));
  const testing::Run picked = run_in(dir, "compare --input x.npz --layers a --format json");
  CHECK(picked.code == 0);
  check_one_line_error(run_in(dir, "compare --input x.npz --format json"), "x.npz:b: cannot read: the member inflates to more");
}

TEST_CASE(".npz: many layers: at most 1000 compared, and their notes summarized") {
  TempDir dir("readers");
  std::vector<ZipMember> many;
  for (int i = 0; i < 1001; ++i) many.push_back({numbered("l", i, ".npy"), npy_of({2, 1, 1, 1})});
  dir.write("many.npz", testing::zip_bytes(many));
  check_one_line_error(run_in(dir, "compare --input many.npz"),
                       "many.npz: holds 1001 4-d arrays; bnlab compares at most 1000 in one run");

  // Twelve layers that each draw the channels-last note: ten shown, then one line for the rest.
  std::vector<ZipMember> looking;
  std::string names;
  for (int i = 0; i < 12; ++i) {
    looking.push_back({numbered("l", i, ".npy"), npy_of({2, 2, 2, 3}, float(i))});
    names += numbered(i ? ",l" : "l", i, "");
  }
  dir.write("looking.npz", testing::zip_bytes(looking));
  const testing::Run r = run_in(dir, "compare --input looking.npz --methods 3 --format json");
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 11);
  CHECK_THAT(r.err, Contains("bnlab: note: ... and 2 more notes like these (left out)"));
}

// ---- 5. IDX files ------------------------------------------------------------------------

TEST_CASE("IDX: the header's count is checked against the file before allocating; gzip errors name the path once") {
  TempDir dir("readers");
  // A 32-byte gzip'ed header announcing 2^32 - 1 images of 1 x 1: "truncated" at once, no 4 GiB zeroed.
  std::string header = {0, 0, 8, 3, '\xff', '\xff', '\xff', '\xff', 0, 0, 0, 1, 0, 0, 0, 1};
  gzFile out = gzopen((dir / "h.gz").c_str(), "wb");
  REQUIRE(out != nullptr);
  gzwrite(out, header.data(), static_cast<unsigned>(header.size()));
  gzclose(out);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THAT(error_of([&] { bnlab::read_idx(dir / "h.gz", 3); }),
             Contains("h.gz: truncated file: the header announces 4294967295 bytes of data, more than its"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  // The same header plain: the file holds 0 bytes of data.
  dir.write("h.idx", header);
  CHECK(error_of([&] { bnlab::read_idx(dir / "h.idx", 3); }) ==
        dir / "h.idx" + ": truncated file: the header announces 4294967295 bytes of data, the file holds 0");
  // A damaged gzip stream: the path once, no "<fd:N>" either.
  std::string gz = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + std::string(40, '\x5a');
  dir.write("bad.gz", gz);
  const std::string message = error_of([&] { bnlab::read_idx(dir / "bad.gz", 3); });
  INFO(message);
  CHECK(message.rfind(dir / "bad.gz" + ": ", 0) == 0);
  CHECK(message.find(dir / "bad.gz", 1) == std::string::npos);
  CHECK(message.find("<fd:") == std::string::npos);
}

// ---- 7. messages -------------------------------------------------------------------------

TEST_CASE("a canvas smaller than the images names both sizes") {
  bnlab::train::Images images{1, 28, 28, std::vector<std::uint8_t>(28 * 28), {0}};
  CHECK(error_of([&] { (void)bnlab::train::on_canvas(images, 20); }) == "canvas: 20x20 is smaller than the 28x28 images");
}

TEST_CASE("notes beyond a limit are counted and summarized in one line") {
  std::vector<std::string> seen;
  const bnlab::NoteSink previous = bnlab::set_note_sink([&](const std::string& text) { seen.push_back(text); });
  {
    const bnlab::NoteLimit limit(2);
    for (int i = 0; i < 5; ++i) bnlab::note(numbered("n", i, ""));
  }
  bnlab::set_note_sink(previous);
  CHECK(seen == std::vector<std::string>{"n0", "n1", "... and 3 more notes like these (left out)"});
}
