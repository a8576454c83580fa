// How many OpenMP threads a primitive runs on, chosen by its work. Waking a second thread costs more
// than it saves on small primitives: on 2 cores, a weight reorder took 49 µs on 2 threads and 14 µs on
// one, small products 3–5× longer on two, and convolutions gained from a second thread only above
// ~2·10⁸ floating-point operations (a 129² retraining step of autodeeplab-s, ONEDNN_VERBOSE timings).
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace team_size {

// Work (floating-point operations) that pays for one more thread.
constexpr double kWorkPerThread = 1e8;

// Threads for `work` operations: one per kWorkPerThread, at least 1, at most the configured count.
inline int forWork(double work) {
  const int most = omp_get_max_threads();
  return static_cast<int>(std::clamp(work / kWorkPerThread, 1.0, static_cast<double>(most)));
}

// Sets the threads of this thread's parallel regions for the scope's lifetime. oneDNN sizes a
// primitive's work split by the count in effect when it is created, so a primitive is created and
// executed under the same scope.
class Scope {
 public:
  explicit Scope(int threads) : previous_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~Scope() { omp_set_num_threads(previous_); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  int previous_;
};

}  // namespace team_size
