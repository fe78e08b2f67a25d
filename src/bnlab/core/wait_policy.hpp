#pragma once
// How bnlab's OpenMP threads wait between parallel regions.
//
// libgomp's default lets an idle thread spin for a while before it sleeps.
// On a machine where other processes want the same cores, a spinning thread
// takes the time slice its partner needs to finish the region, and every
// barrier waits a whole scheduling period: a 0.1 s `compare` became 2 to 14 s
// with one busy neighbour on 2 cores. Waiting passively (sleep at once)
// costs a few microseconds per region on an idle machine and nothing under
// load. libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, when it is
// loaded, before main() runs, so setting them in main() is too late: the
// process has to start again with them in its environment.

namespace bnlab {

// When neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets
// OMP_WAIT_POLICY=passive and replaces this process with a fresh copy of
// itself (/proc/self/exe, the same argv); it does not return then. When the
// user set either variable, or the restart is impossible (no /proc), it
// returns and the program runs as it is. OMP_NUM_THREADS is untouched.
// Call first thing in main(), before any output or thread.
void restart_with_passive_waiting(char** argv);

}  // namespace bnlab
