#include "bnlab/core/wait_policy.hpp"

#include <cstdlib>

#include <unistd.h>

namespace bnlab {

void restart_with_passive_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  // The child sees OMP_WAIT_POLICY set, so it runs on instead of restarting again.
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: exec failed. Run as we are (spinning only costs speed) and do
  // not hand the setting on to anything this process starts.
  unsetenv("OMP_WAIT_POLICY");
}

}  // namespace bnlab
