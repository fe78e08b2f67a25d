// bnlab: measures how batch normalization should be applied to an (N, C, H, W)
// feature map. Subcommands live in cmd_*.cpp; this file wires them and turns
// every error into one line on stderr and a non-zero exit.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <sstream>
#include <streambuf>

#include <CLI/CLI.hpp>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/size.hpp"
#include "bnlab/core/wait_policy.hpp"
#include "commands.hpp"
#include "usage.hpp"

namespace {

// Lists each subcommand with the first line of its description only; the
// whole description heads the subcommand's own --help.
class OneLineSubcommandFormatter : public CLI::Formatter {
 public:
  std::string make_subcommand(const CLI::App* sub) const override {
    std::stringstream out;
    std::string description = sub->get_description();
    CLI::detail::format_help(out, sub->get_display_name(true), description.substr(0, description.find('\n')),
                             column_width_);
    return out.str();
  }
};

// "compare " when a subcommand was chosen, "" otherwise.
std::string subcommand_name(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) return sub->get_name() + " ";
  return "";
}

// A closed stdin, stdout or stderr (`bnlab compare >&-`) is held by
// /dev/null opened read-only: no file bnlab opens can take its number (the
// report would go into a staged output), and a write to it fails with EBADF,
// which check_standard_output reports.
void hold_closed_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0 && null_fd != fd) {
      ::dup2(null_fd, fd);
      ::close(null_fd);
    }
  }
}

// std::cout's buffer: writes straight to descriptor 1 (the reports and
// tables are written in a few large pieces) and keeps the errno of the first
// write that failed, which stdio forgets by the time it is asked.
class StandardOutput : public std::streambuf {
 public:
  int failure() const { return failure_; }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    std::streamsize done = 0;
    while (done < size && failure_ == 0) {
      const ssize_t written = ::write(STDOUT_FILENO, data + done, static_cast<std::size_t>(size - done));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        failure_ = written < 0 ? errno : EIO;
        break;
      }
      done += written;
    }
    return done;
  }
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    const char byte = traits_type::to_char_type(ch);
    return xsputn(&byte, 1) == 1 ? ch : traits_type::eof();
  }

 private:
  int failure_ = 0;
};

// A report or table that did not reach stdout (a full disk, a closed or
// broken descriptor: `bnlab compare > /dev/full`) is an error, not exit 0:
// one line naming the reason, and exit 1.
int check_standard_output(const StandardOutput& out, int code) {
  std::cout.flush();
  const bool stdio_failed = std::fflush(stdout) != 0 || std::ferror(stdout);  // nothing bnlab writes goes there; checked all the same
  const int error_number = out.failure() != 0 ? out.failure() : stdio_failed ? errno : 0;
  if (error_number == 0 && !stdio_failed && !std::cout.bad()) return code;
  std::cerr << "bnlab: cannot write to standard output"
            << (error_number != 0 ? std::string(": ") + std::strerror(error_number) : std::string()) << "\n";
  return code == 0 ? 1 : code;
}

// Every failure ends here as ONE line on stderr (control characters
// escaped) and a non-zero exit: bnlab::Error names its culprit itself.
int run(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // an exit code chosen by a subcommand, already reported
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {  // a usage error: one line naming the nearest valid word, exit 2
    std::cerr << "bnlab: " << bnlab::escape_control(bnlab::app::usage_error_line(app, e, argc, argv)) << "\n";
    return bnlab::app::kUsageError;
  } catch (const bnlab::Error& e) {
    std::cerr << "bnlab: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "bnlab: out of memory in bnlab " << subcommand_name(app)
              << "(std::bad_alloc): the input or shape needs more than this machine's "
              << bnlab::human_bytes(double(bnlab::physical_memory_bytes())) << " of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bnlab: internal error: " << bnlab::escape_control(e.what()) << "\n";
    return 1;
  } catch (...) {
    std::cerr << "bnlab: internal error: an unknown exception\n";
    return 1;
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  hold_closed_standard_descriptors();
  StandardOutput standard_output;
  std::cout.rdbuf(&standard_output);
  bnlab::restart_with_passive_waiting(argv);  // before libgomp starts a thread
  CLI::App app{"bnlab: a laboratory for batch normalization of (N, C, H, W) feature maps.\n" +
                   bnlab::app::methods_overview() +
                   "Exit codes: 0 ok, 1 run-time error (bad input, files, check found differences), 2 usage error.",
               "bnlab"};
  app.formatter(std::make_shared<OneLineSubcommandFormatter>());
  app.require_subcommand(1);
  app.set_version_flag("--version", "bnlab 0.1.0");
  bnlab::app::setup_normalize(app);
  bnlab::app::setup_synth(app);
  bnlab::app::setup_compare(app);
  bnlab::app::setup_check(app);
  bnlab::app::setup_explain(app);
  bnlab::app::setup_bench(app);
  bnlab::app::setup_train(app);
  bnlab::app::setup_render(app);
  bnlab::app::setup_audit(app);
  const int code = run(app, argc, argv);
  const int exit_code = check_standard_output(standard_output, code);
  std::cout.rdbuf(nullptr);  // the buffer ends with main; nothing is written after
  return exit_code;
}
