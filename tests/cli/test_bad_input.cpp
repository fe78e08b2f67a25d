// The bad-input suite: the real bnlab binary (BNLAB_BINARY) run on crafted
// files and arguments, one table row per case. Each row asserts
//   - the exit status (1 for a run-time error, CLI11's code for usage),
//   - exactly ONE line on stderr, naming the culprit (a substring),
//   - nothing on stdout,
//   - no file left behind: the directory holds exactly what the row put
//     there, byte for byte (no output, no partial file, no temporary).
// Every class of defect of the reliability review has rows: shape arithmetic
// overflow, memory, allocation, JSON depth, eps = 0 with a constant
// statistic, echoed newlines and NULs, output files, silent coercions.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace fs = std::filesystem;

namespace {

using testing::TempDir;

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every regular file under `dir` (recursively) with its bytes; directories as "<dir>/".
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = fs::relative(entry.path(), dir).string();
    if (entry.is_symlink()) files[name] = "-> " + fs::read_symlink(entry.path()).string();
    else if (entry.is_directory()) files[name + "/"] = "";
    else if (entry.is_regular_file()) files[name] = read_bytes(entry.path());
    else files[name] = "(special)";
  }
  return files;
}

using testing::Run;

// Runs bnlab with `args` in `dir`; optionally sends `signal_number` after
// `delay`; with file_size_limit > 0, bnlab can write no file larger than
// that (RLIMIT_FSIZE, SIGXFSZ ignored: the write fails with EFBIG, as a full
// disk fails with ENOSPC). Run::code is the exit code, or 128 + the signal
// that killed it.
Run run_bnlab(const fs::path& dir, const std::vector<std::string>& args, int signal_number = 0,
              std::chrono::milliseconds delay = std::chrono::milliseconds(0), rlim_t file_size_limit = 0) {
  const fs::path out_path = dir.parent_path() / (dir.filename().string() + ".stdout");
  const fs::path err_path = dir.parent_path() / (dir.filename().string() + ".stderr");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(127);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(127);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (file_size_limit > 0) {
      ::signal(SIGXFSZ, SIG_IGN);
      const struct rlimit limit {file_size_limit, file_size_limit};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(127);
    }
    std::vector<char*> argv;
    std::string binary = BNLAB_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (std::string& arg : copies) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::setenv("OMP_NUM_THREADS", "1", 1);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  if (signal_number) {
    std::this_thread::sleep_for(delay);
    ::kill(pid, signal_number);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  Run run;
  run.code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  run.out = read_bytes(out_path);
  run.err = read_bytes(err_path);
  fs::remove(out_path);
  fs::remove(err_path);
  return run;
}

// ---- crafted files ---------------------------------------------------------

using testing::padded_npy;

std::string floats(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::string f4_header(const std::string& shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

// x: (2, 3, 2, 2) with channel 1 constant (5.0): a zero-variance statistic for method 3.
std::string constant_channel_npy() {
  std::vector<float> v(24);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::size_t c = (i / 4) % 3;
    v[i] = c == 1 ? 5.0f : static_cast<float>(i % 7) - 3.0f;
  }
  return padded_npy(f4_header("(2, 3, 2, 2)"), floats(v));
}

std::string good_npy() {
  std::vector<float> v(24);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7) % 11) - 5.0f;
  return padded_npy(f4_header("(2, 3, 2, 2)"), floats(v));
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

struct Case {
  std::string name;
  std::map<std::string, std::string> files;  // created before the run
  std::vector<std::string> args;
  int status = 1;
  std::string culprit;  // a substring of the one stderr line
};

std::vector<Case> cases() {
  const std::string x = good_npy();
  const std::string constant = constant_channel_npy();
  const std::string report = R"({"schema": "bnlab.compare/1", "a": [1, 2]})";
  std::string axes33 = "(";
  for (int i = 0; i < 33; ++i) axes33 += "1, ";
  axes33 += ")";
  return {
      // 1. Shape arithmetic: overflows, with the limit stated.
      {"synth: extents whose product wraps to 4", {}, {"synth", "--shape", "4611686018427387905,4,1,1", "--output", "x.npy"}, 1,
       "--shape: shape (4611686018427387905, 4, 1, 1) has more than 2^64 elements, more than bnlab's limit of 2^40"},
      {"synth: 2^64 elements", {}, {"synth", "--shape", "4294967296,4294967296,1,1", "--dist", "normal", "--output", "x.npy"}, 1,
       "limit of 2^40"},
      {"explain: 2^32 extents", {}, {"explain", "--shape", "4294967296,4294967296,1,1"}, 1, "--shape: shape (4294967296"},
      {"bench: overflowing shape", {}, {"bench", "--shape", "4294967296,4294967296,1,1"}, 1, "--shape: shape (4294967296"},
      {"bench: 100000 threads", {}, {"bench", "--shape", "2,2,2,2", "--threads", "100000"}, 1, "--threads: must be in [0, 1024] (got 100000)"},
      {"bench: a billion repeats", {}, {"bench", "--shape", "2,2,2,2", "--repeat", "1000000000"}, 1, "--repeat: must be in [1, 1000]"},
      {"compare: overflowing shape", {}, {"compare", "--shape", "4294967296,4294967296,1,1"}, 1, "limit of 2^40"},
      {"npy: a zero extent beside huge ones", {{"x.npy", padded_npy(f4_header("(0, 4611686018427387904, 4611686018427387904)"), "")}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out"}, 1, "x.npy: shape (0, 4611686018427387904"},
      {"npy: 2^62 x 4 elements claimed", {{"x.npy", padded_npy(f4_header("(4611686018427387904, 4, 1, 1)"), floats({1}))}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out"}, 1, "x.npy: shape (4611686018427387904, 4, 1, 1)"},
      {"npy: zero-size data", {{"x.npy", padded_npy(f4_header("(0, 3, 4, 5)"), "")}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out"}, 1, "x.npy: zero-sized dimension"},
      {"npy: 33 axes", {{"x.npy", padded_npy(f4_header(axes33), floats({1}))}}, {"compare", "--input", "x.npy"}, 1,
       "x.npy: 33 axes, more than the limit of 32"},
      // 2 and 8. Memory: the bytes needed and the option that asked for them.
      {"synth: more than the machine's memory", {}, {"synth", "--shape", "100000,100000,10,10", "--output", "x.npy"}, 1,
       "--shape: needs 4000000000000 bytes (3.6 TiB) for the synthesized float32 tensor, more than this machine's memory"},
      {"bench: more than the machine's memory", {}, {"bench", "--shape", "100000,1000,100,100"}, 1,
       "--shape (100000, 1000, 100, 100): needs 20000000000000 bytes"},
      {"compare: above the synthesis limit", {}, {"compare", "--shape", "100000,100000,10,10"}, 1, "limit of 268435456 (2^28)"},
      // 3. JSON nesting.
      {"check: 20,000 nested arrays", {{"g.json", nested_arrays(20000)}, {"r.json", report}},
       {"check", "--golden", "g.json", "--report", "r.json"}, 1, "g.json: /0/0/0"},
      {"config: a deeply nested value", {{"c.json", "{\"description\": " + nested_arrays(5000) + "}"}},
       {"compare", "--config", "c.json"}, 1, "c.json: /description/0/0"},
      // 4. eps = 0 with a constant statistic.
      {"normalize --eps 0, a constant channel", {{"x.npy", constant}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out", "--eps", "0"}, 1,
       "--eps 0.0: statistic (c=1) of shape (3,) over (C) of method 3 has batch variance 0"},
      {"compare --eps 0, a constant channel", {{"x.npy", constant}}, {"compare", "--input", "x.npy", "--eps", "0", "--methods", "3"},
       1, "eps 0: statistic (c=1) of shape (3,) over (C) of method 3 has batch variance 0"},
      {"normalize eval, running var 0 and --eps 0", {{"x.npy", x}, {"rm.npy", padded_npy(f4_header("(3,)"), floats({0, 0, 0}))},
                                                     {"rv.npy", padded_npy(f4_header("(3,)"), floats({1, 0, 1}))}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out", "--mode", "eval", "--running-mean", "rm.npy",
        "--running-var", "rv.npy", "--eps", "0"},
       1, "statistic (c=1) of shape (3,) over (C) of method 3 has running variance 0"},
      {"normalize: a negative running var", {{"x.npy", x}, {"rm.npy", padded_npy(f4_header("(3,)"), floats({0, 0, 0}))},
                                             {"rv.npy", padded_npy(f4_header("(3,)"), floats({1, -2, 1}))}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out", "--mode", "eval", "--running-mean", "rm.npy",
        "--running-var", "rv.npy"},
       1, "rv.npy: running var must be >= 0, got -2.0 at flat index 1"},
      {"normalize: an output overflowing float32", {{"x.npy", x}, {"g.npy", padded_npy(f4_header("(3,)"), floats({1, 3e38f, 1}))}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out", "--gamma", "g.npy"}, 1, "y.npy: would hold"},
      // 5. Echoed values are escaped: still one line.
      {"--methods with a newline", {}, {"compare", "--methods", "3\nX"}, 1, "--methods: unknown method \"3\\nX\""},
      {"--shape with a newline", {}, {"synth", "--shape", "1,2\n,3,4", "--output", "x.npy"}, 1, "got \"1,2\\n,3,4\""},
      {"npy: a dtype with a newline", {{"x.npy", padded_npy("{'descr': '<f4\nX', 'fortran_order': False, 'shape': (1,), }", "")}},
       {"compare", "--input", "x.npy"}, 1, "x.npy: unsupported dtype '<f4\\nX'"},
      {"config: a key with a newline and an escape", {{"c.json", "{\"se\\ned\\u001b\": 1}"}}, {"compare", "--config", "c.json"}, 1,
       "c.json: /se\\ned\\x1b: unknown key"},
      {"config: a NUL byte, then text", {{"c.json", std::string("{\"seed\": 1}\0{\"eps\": 5}", 23)}},
       {"compare", "--config", "c.json"}, 1, "c.json: byte 11 is a NUL byte"},
      {"usage error: an unknown option", {}, {"compare", "--bogus\nline"}, 2, "--bogus\\nline"},
      // 6. Output files: decided behaviours, nothing half-written.
      {"normalize: summary.json is a directory", {{"x.npy", x}, {"out/summary.json/keep", ""}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out"}, 1,
       "--out-dir: cannot write \"out/summary.json\": is not a regular file (a directory)"},
      {"synth: the output is a directory", {{"x.npy/keep", ""}}, {"synth", "--shape", "1,1,2,2", "--output", "x.npy"}, 1,
       "--output: cannot write \"x.npy\": is not a regular file (a directory)"},
      {"synth: the output's directory is missing", {}, {"synth", "--shape", "1,1,2,2", "--output", "no/x.npy"}, 1,
       "--output: cannot write \"no/x.npy\": directory \"no\" does not exist"},
      {"compare: the report's directory is missing", {}, {"compare", "--shape", "2,2,2,2", "--output", "no/r.json"}, 1,
       "cannot write \"no/r.json\""},
      {"npy: a device as input", {}, {"compare", "--input", "/dev/zero"}, 1, "/dev/zero: not a regular file"},
      {"config: an endless device", {}, {"compare", "--config", "/dev/zero"}, 1, "/dev/zero: not a regular file (a character device)"},
      // Outputs checked before any work: one line, no progress line or note before it.
      {"train --output /dev/full", {}, {"train", "--data", "stand-in", "--output", "/dev/full"}, 1,
       "--output: cannot write \"/dev/full\": is not a regular file (a character device); bnlab writes only regular files"},
      {"train --html /dev/full", {}, {"train", "--data", "stand-in", "--html", "/dev/full"}, 1,
       "--html: cannot write \"/dev/full\": is not a regular file (a character device)"},
      {"train: an empty --output", {}, {"train", "--data", "stand-in", "--output", ""}, 1, "--output: expected a path, got \"\""},
      {"train: an empty --html", {}, {"train", "--data", "stand-in", "--html", ""}, 1, "--html: expected a path, got \"\""},
      {"compare: an empty --html", {}, {"compare", "--shape", "2,2,2,2", "--html", ""}, 1, "--html: expected a path, got \"\""},
      {"train: a 300-byte name", {}, {"train", "--data", "stand-in", "--output", std::string(300, 'a') + ".json"}, 1,
       "bytes, more than the 255 its file system allows"},
      {"train: the output is the config", {{"c.json", "{}"}}, {"train", "--config", "c.json", "--output", "c.json"}, 1,
       "--output: cannot write \"c.json\": is the same file as --config \"c.json\"; bnlab does not write over its input"},
      {"compare: the output is the input", {{"x.npy", x}}, {"compare", "--input", "x.npy", "--output", "./x.npy"}, 1,
       "--output: cannot write \"./x.npy\": is the same file as --input \"x.npy\""},
      {"compare: --output and --html the same file", {}, {"compare", "--shape", "2,2,2,2", "--output", "r.json", "--html", "r.json"},
       1, "--html: cannot write \"r.json\": is the same file as --output \"r.json\"; each output needs a file of its own"},
      {"render: the page is the report", {{"r.json", report}}, {"render", "r.json", "--html", "r.json"}, 1,
       "--html: cannot write \"r.json\": is the same file as report \"r.json\""},
      {"normalize: an output is the input", {{"out/y.npy", x}}, {"normalize", "--method", "3", "--input", "out/y.npy", "--out-dir", "out"},
       1, "--out-dir: cannot write \"out/y.npy\": is the same file as --input \"out/y.npy\""},
      {"compare gn:3 on 4 channels, an input that draws a note", {{"x.npy", padded_npy(f4_header("(1, 4, 4, 8)"), floats(std::vector<float>(128, 1.0f)))}},
       {"compare", "--input", "x.npy", "--methods", "3,gn:3"}, 1, "method gn:3: C=4 is not a multiple of G=3"},
      // Hints for the usual reasons.
      {"compare: a 3-d array", {{"x.npy", padded_npy(f4_header("(3, 2, 2)"), floats(std::vector<float>(12, 1.0f)))}},
       {"compare", "--input", "x.npy"}, 1,
       "x.npy: expected a 4-d array (N,C,H,W), got 3-d (3, 2, 2); one sample without its batch axis? add it: x[None] in "
       "NumPy, x.unsqueeze(0) in PyTorch"},
      {"compare: a float16 Inf", {{"x.npy", padded_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 1, 1, 2), }",
                                                     std::string("\x00\x3c\x00\x7c", 4))}},
       {"compare", "--input", "x.npy"}, 1,
       "x.npy: Inf at index (0, 0, 0, 1) (float16 overflow? float16 holds at most 65504: save float32"},
      {"compare: a torch.save file", {}, {"compare", "--input", std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/torch_save.pt"}, 1,
       "this is a PyTorch archive (torch.save); save the tensor with numpy.save(path, t.detach().cpu().numpy()), or a dict "
       "of tensors with numpy.savez(path, **{k: v.detach().cpu().numpy() for k, v in d.items()})"},
      {"normalize gn:3 on 4 channels, an input that draws a note",
       {{"x.npy", padded_npy(f4_header("(1, 4, 4, 8)"), floats(std::vector<float>(128, 1.0f)))}},
       {"normalize", "--method", "gn:3", "--input", "x.npy", "--out-dir", "out"}, 1, "method gn:3: C=4 is not a multiple of G=3"},
      // Files of the wrong kind named as such.
      {"render: a .npy array", {{"x.npy", x}}, {"render", "x.npy", "--html", "x.html"}, 1,
       "x.npy: this is a .npy array; render takes a report (bnlab compare --output REPORT.json)"},
      {"check: a config file", {{"c.json", R"({"seed": 1})"}, {"r.json", report}}, {"check", "--golden", "r.json", "--report", "c.json"},
       1, "c.json: not a bnlab report (no schema key)"},
      {"--methods with a C1 control", {}, {"compare", "--methods", "3\xc2\x9b" "X"}, 1, "unknown method \"3\\xc2\\x9bX\""},
      {"--methods with invalid UTF-8", {}, {"compare", "--methods", "3\xff"}, 1, "unknown method \"3\\xff\""},
      // 7. Silent coercions.
      {"synth --seed -1", {}, {"synth", "--seed", "-1", "--output", "x.npy"}, 1, "--seed: expected an integer in [0, 2^64), got \"-1\""},
      {"synth --seed 2^64", {}, {"synth", "--seed", "18446744073709551616", "--output", "x.npy"}, 1, "got \"18446744073709551616\""},
      {"train --seeds -1", {}, {"train", "--data", "stand-in", "--seeds", "-1"}, 1, "--seeds: expected an integer in [0, 2^64), got \"-1\""},
      {"train --seeds 2^64", {}, {"train", "--data", "stand-in", "--seeds", "0,18446744073709551616"}, 1,
       "--seeds: expected an integer in [0, 2^64), got \"18446744073709551616\""},
      {"compare --seed 1.5", {}, {"compare", "--seed", "1.5"}, 1, "--seed: expected an integer in [0, 2^64), got \"1.5\""},
      // train's counts and numbers, read by their config rows (train_config.cpp), not by CLI11.
      {"train --epochs -1", {}, {"train", "--data", "stand-in", "--epochs", "-1"}, 1, "--epochs: expected an integer, got \"-1\""},
      {"train --lr abc", {}, {"train", "--data", "stand-in", "--lr", "abc"}, 1, "--lr: expected a number, got \"abc\""},
      {"train --epochs 0", {}, {"train", "--data", "stand-in", "--epochs", "0"}, 1, "--epochs: expected an integer in [1, 1000], got 0"},
      {"compare --eps 1e-400", {}, {"compare", "--eps", "1e-400"}, 1, "--eps: \"1e-400\" is not representable as a double (underflows)"},
      {"normalize --eps 1e-400", {{"x.npy", x}}, {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out", "--eps", "1e-400"},
       1, "--eps: \"1e-400\" is not representable"},
      {"normalize --eps 2: one range, [0, 1]", {{"x.npy", x}},
       {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out", "--eps", "2"}, 1, "--eps: must be in [0, 1] (got 2)"},
      {"compare --eps nan", {}, {"compare", "--eps", "nan"}, 1, "--eps: expected a number, got \"nan\""},
      {"config: eps 1e-400", {{"c.json", R"({"eps": 1e-400})"}}, {"compare", "--config", "c.json"}, 1,
       "c.json: /eps: \"1e-400\" is not representable as a double (underflows)"},
      {"config: seed 2^64", {{"c.json", R"({"seed": 18446744073709551616})"}}, {"compare", "--config", "c.json"}, 1,
       "c.json: /seed: expected a non-negative integer"},
      {"config: seed -1", {{"c.json", R"({"seed": -1})"}}, {"compare", "--config", "c.json"}, 1, "c.json: /seed: expected a non-negative integer"},
      {"config: a repeated key", {{"c.json", R"({"description": "x", "methods": ["1"], "shape": [2,2,2,2], "dist": "normal", "seed": 1, "eps": 0.1, "momentum": 0.1, "format": "json", "output": "a", "description": "y"})"}},
       {"compare", "--config", "c.json"}, 1, "c.json: /description: duplicate key"},
      {"check: a repeated key in a report", {{"g.json", R"({"a": {"b": 1, "b": 2}})"}, {"r.json", report}},
       {"check", "--golden", "g.json", "--report", "r.json"}, 1, "g.json: /a/b: duplicate key"},
  };
}

}  // namespace

TEST_CASE("every crafted input fails with one line naming the culprit and leaves nothing behind") {
  for (const Case& c : cases()) {
    INFO("case: " << c.name);
    TempDir dir;
    for (const auto& [name, bytes] : c.files) {
      fs::create_directories((dir.path / name).parent_path());
      if (name.size() > 5 && name.substr(name.size() - 5) == "/keep") continue;  // a directory only
      write_bytes(dir.path / name, bytes);
    }
    const auto before = snapshot(dir.path);
    const Run run = run_bnlab(dir.path, c.args);
    INFO("stderr: " << run.err);
    CHECK(run.code == c.status);
    CHECK(run.out.empty());
    REQUIRE(!run.err.empty());
    CHECK(run.err.back() == '\n');
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    CHECK(run.err.find('\0') == std::string::npos);
    CHECK(run.err.rfind("bnlab: ", 0) == 0);
    CHECK_THAT(run.err, Catch::Contains(c.culprit));
    CHECK(snapshot(dir.path) == before);
  }
}

TEST_CASE("an output the disk cannot take fails with one line naming it and leaves nothing behind") {
  // y.npy (6272 bytes) beyond a 4096-byte file-size limit: with the NCHW
  // layout y is computed into its reserved, mapped file (the reservation
  // fails); with NHWC it is written from a buffer (the write fails).
  std::vector<float> values(2 * 3 * 16 * 16);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 7) % 11) - 5.0f;
  for (const char* layout : {"NCHW", "NHWC"}) {
    INFO("layout " << layout);
    TempDir dir;
    write_bytes(dir.path / "x.npy", padded_npy(f4_header("(2, 3, 16, 16)"), floats(values)));
    const auto before = snapshot(dir.path);
    const Run run = run_bnlab(dir.path, {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out",
                                         "--layout", layout},
                              0, std::chrono::milliseconds(0), 4096);
    CHECK(run.code == 1);
    CHECK(run.out.empty());
    CHECK(run.err == "bnlab: out/y.npy: cannot write: File too large\n");
    CHECK(snapshot(dir.path) == before);
  }
}

TEST_CASE("a read-only output is refused and left as it was") {
  TempDir dir;
  write_bytes(dir.path / "x.npy", "old");
  fs::permissions(dir.path / "x.npy", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const auto before = snapshot(dir.path);
  const Run run = run_bnlab(dir.path, {"synth", "--shape", "1,1,2,2", "--output", "x.npy"});
  CHECK(run.code == 1);
  CHECK(run.err == "bnlab: --output: cannot write \"x.npy\": is read-only; bnlab does not replace a file without write permission\n");
  CHECK(snapshot(dir.path) == before);
}

TEST_CASE("train refuses a FIFO, a link loop or a dangling link as output before training, in one line") {
  TempDir dir;
  REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0644) == 0);
  fs::create_symlink("loop-b", dir.path / "loop-a");
  fs::create_symlink("loop-a", dir.path / "loop-b");
  fs::create_symlink("missing/target", dir.path / "dangling");
  // The entries by name (snapshot() would follow the looping links).
  const auto names = [&] {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir.path)) found.push_back(entry.path().filename().string());
    std::sort(found.begin(), found.end());
    return found;
  };
  const auto before = names();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"fifo", "is not a regular file (a FIFO)"},
      {"loop-a", "is a symbolic link loop (bnlab writes through a link to its target)"},
      {"dangling", "is a dangling symbolic link (bnlab writes through a link to its target)"}};
  for (const auto& [name, reason] : cases) {
    for (const char* option : {"--output", "--html"}) {
      INFO(option << " " << name);
      const Run run = run_bnlab(dir.path, {"train", "--data", "stand-in", option, name});
      CHECK(run.code == 1);
      CHECK(run.out.empty());
      CHECK(run.err == "bnlab: " + std::string(option) + ": cannot write \"" + name + "\": " + reason +
                           (name == "fifo" ? "; bnlab writes only regular files" : "") + "\n");
    }
  }
  CHECK(names() == before);
}

TEST_CASE("a full disk is found before training, in one line") {
  // A 256 KiB tmpfs, filled, in a mount namespace of our own (no privilege
  // needed where user namespaces are allowed; skipped where they are not).
  if (std::system("unshare -rm true 2>/dev/null") != 0) {
    WARN("unshare -rm is not available here: skipping the full-disk case");
    return;
  }
  TempDir dir;
  const std::string mount = (dir.path / "disk").string();
  fs::create_directory(mount);
  const std::string script = "mount -t tmpfs -o size=256k tmpfs " + mount + " && (dd if=/dev/zero of=" + mount +
                             "/fill bs=4096 2>/dev/null; true) && " + BNLAB_BINARY +
                             " train --data stand-in --output " + mount + "/t.json; echo \"exit $?\"";
  const Run run = testing::run("unshare -rm sh -c '" + script + "'");
  CHECK(run.out == "exit 1\n");
  CHECK(run.err == "bnlab: --output: cannot write \"" + mount + "/t.json\": cannot write in directory \"" + mount +
                       "\": No space left on device\n");
}

TEST_CASE("a symbolic link as output is written through: the link stays, its target is replaced") {
  TempDir dir;
  fs::create_directory(dir.path / "data");
  write_bytes(dir.path / "data" / "x.npy", "old");
  fs::create_symlink("data/x.npy", dir.path / "link.npy");
  const Run run = run_bnlab(dir.path, {"synth", "--shape", "1,1,2,2", "--output", "link.npy"});
  CHECK(run.code == 0);
  CHECK(fs::is_symlink(dir.path / "link.npy"));
  CHECK(read_bytes(dir.path / "data" / "x.npy").rfind("\x93NUMPY", 0) == 0);
  CHECK(std::distance(fs::directory_iterator(dir.path / "data"), fs::directory_iterator()) == 1);

  fs::create_symlink("data/nothing.npy", dir.path / "dangling.npy");
  const Run dangling = run_bnlab(dir.path, {"synth", "--shape", "1,1,2,2", "--output", "dangling.npy"});
  CHECK(dangling.code == 1);
  CHECK(dangling.err ==
        "bnlab: --output: cannot write \"dangling.npy\": is a dangling symbolic link (bnlab writes through a link to its target)\n");
}

TEST_CASE("a killed run leaves no temporary, no partial file and no empty directory of its own") {
  // 32 MiB of input: normalize on one thread takes about 0.12 s in a release
  // build (several times that under the sanitizers), so the delays spread
  // from reading through computing and writing to after the end; whenever
  // the signal lands, the directory must hold the input and either nothing
  // else or only complete outputs.
  const std::vector<std::pair<int, int>> kills = {{SIGKILL, 20},  {SIGTERM, 35}, {SIGKILL, 50},
                                                  {SIGINT, 55},   {SIGTERM, 70}, {SIGKILL, 90},
                                                  {SIGINT, 100},  {SIGTERM, 300}, {SIGINT, 600}};
  for (const auto& [signal_number, delay_ms] : kills) {
    {
      INFO("signal " << signal_number << " after " << delay_ms << " ms");
      TempDir dir;
      const Run synth = run_bnlab(dir.path, {"synth", "--shape", "16,32,128,128", "--dist", "normal", "--output", "x.npy"});
      REQUIRE(synth.code == 0);
      run_bnlab(dir.path, {"normalize", "--method", "3", "--input", "x.npy", "--out-dir", "out", "--dy", "x.npy"}, signal_number,
                std::chrono::milliseconds(delay_ms));
      for (const auto& [name, bytes] : snapshot(dir.path)) {
        INFO("file " << name);
        CHECK(name.find(".tmp-") == std::string::npos);
        if (name == "out/summary.json") CHECK(bytes.back() == '\n');
      }
      // Whatever is there is complete: y and dx have the input's size.
      for (const char* name : {"y.npy", "dx.npy"}) {
        if (fs::exists(dir.path / "out" / name)) CHECK(fs::file_size(dir.path / "out" / name) == fs::file_size(dir.path / "x.npy"));
      }
      // A signal bnlab catches also removes the output directory it created,
      // unless the outputs already appeared (SIGKILL cannot be caught: an
      // empty directory may stay).
      if (signal_number != SIGKILL && fs::exists(dir.path / "out")) CHECK(fs::exists(dir.path / "out" / "summary.json"));
    }
  }
}
