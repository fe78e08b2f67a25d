// ReadOnlyMapping (mapped_file.hpp): mmap(2), and the SIGBUS handler that
// names the mapped file whose end moved.
#include "bnlab/io/mapped_file.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <utility>

#include "bnlab/core/escape.hpp"
#include "bnlab/io/atomic_file.hpp"

namespace bnlab {
namespace {

// A fixed table, so that the handler touches no allocator or lock: it reads
// slots, write(2)s a line prepared beforehand and calls async-signal-safe
// functions only.
constexpr int kSlots = 16;
struct Slot {
  std::atomic<bool> claimed{false};
  std::atomic<bool> ready{false};  // begin, end and line are whole
  const char* begin = nullptr;
  const char* end = nullptr;
  std::size_t line_length = 0;
  char line[4608];
};
Slot g_slots[kSlots];
struct sigaction g_previous {};  // SIGBUS's handler before bnlab's

extern "C" void on_sigbus(int signal_number, siginfo_t* info, void* context) {
  // A fault (si_code > 0: the kernel's) has an address; a SIGBUS another
  // process sent (kill) has none and is not a mapped input's.
  const char* address = info->si_code > 0 ? static_cast<const char*>(info->si_addr) : nullptr;
  for (const Slot& slot : g_slots) {
    if (address != nullptr && slot.ready.load() && address >= slot.begin && address < slot.end) {
      // Threads reading the file at once fault at once: one line, from the
      // first; the others wait for its _exit, which ends them too.
      static std::atomic<bool> reporting{false};
      if (reporting.exchange(true)) {
        for (;;) ::pause();
      }
      (void)!::write(STDERR_FILENO, slot.line, slot.line_length);
      remove_leftovers_from_signal_handler();
      ::_exit(1);
    }
  }
  // Not a mapped input's: the previous handler, or the default action: a
  // faulting access runs again and meets it (a fault cannot be ignored), a
  // sent signal is raised again unless it was ignored.
  if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
    g_previous.sa_sigaction(signal_number, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signal_number);
  } else if (address != nullptr || g_previous.sa_handler == SIG_DFL) {
    ::signal(SIGBUS, SIG_DFL);
    if (address == nullptr) ::raise(SIGBUS);
  }
}

void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &g_previous);
  });
}

// The slot now watching [begin, end) for `path`, or -1 when the table is
// full or the line too long (then a SIGBUS there takes the default action).
int watch(const char* begin, std::size_t size, const std::string& path) {
  const std::string line =
      "bnlab: " + escape_control(path + ": " + std::string(kFileShrank)) + "\n";
  if (line.size() > sizeof(Slot::line)) return -1;
  install_sigbus_handler();
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!g_slots[i].claimed.compare_exchange_strong(expected, true)) continue;
    Slot& slot = g_slots[i];
    slot.begin = begin;
    slot.end = begin + size;
    std::memcpy(slot.line, line.data(), line.size());
    slot.line_length = line.size();
    slot.ready.store(true);
    return i;
  }
  return -1;
}

void unwatch(int slot) {
  if (slot < 0) return;
  g_slots[slot].ready.store(false);
  g_slots[slot].claimed.store(false);
}

}  // namespace

ReadOnlyMapping::ReadOnlyMapping(int fd, std::size_t size, const std::string& path) {
  if (size == 0) return;
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return;
  data_ = static_cast<const char*>(map);
  size_ = size;
  slot_ = watch(data_, size_, path);
}

ReadOnlyMapping::~ReadOnlyMapping() { release(); }

ReadOnlyMapping::ReadOnlyMapping(ReadOnlyMapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      slot_(std::exchange(other.slot_, -1)) {}

ReadOnlyMapping& ReadOnlyMapping::operator=(ReadOnlyMapping&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

void ReadOnlyMapping::release() {
  if (data_ == nullptr) return;
  unwatch(slot_);  // before the range can be mapped again for something else
  ::munmap(const_cast<char*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
  slot_ = -1;
}

}  // namespace bnlab
