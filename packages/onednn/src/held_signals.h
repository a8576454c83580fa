// Asynchronous signals are held (blocked, and delivered once unblocked) while oneDNN primitives run.
// oneDNN 2.6's gemm-based convolution passes (the backward passes of dilated convolutions) run JIT
// code during which a signal handled on that thread corrupts the heap: a flood of SIGUSR2 to a
// process computing the input gradient of a 3×3 convolution with dilation 24 aborted it with
// "corrupted size vs. prev_size" within ten signals. A profiler's SIGPROF, a terminal's SIGWINCH or
// a SIGINT handler that saves a checkpoint all reach that code.
#pragma once
#include <omp.h>
#include <pthread.h>
#include <signal.h>

namespace held_signals {

// Holds every signal but the synchronous ones (a fault must still reach its handler) in this thread
// for the scope's lifetime.
class Scope {
 public:
  Scope() {
    sigset_t all;
    sigfillset(&all);
    for (int synchronous : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, synchronous);
    pthread_sigmask(SIG_BLOCK, &all, &previous_);
  }
  ~Scope() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  sigset_t previous_;
};

// Starts this thread's OpenMP workers with every signal held: a thread inherits its creator's mask,
// so they never handle one (the kernel then picks a thread outside the primitives). To be called
// wherever the team may grow: at load and when the thread count changes.
inline void startWorkers() {
  Scope held;
#pragma omp parallel
  { (void)omp_get_thread_num(); }
}

}  // namespace held_signals
