// The addon's own loops on OpenMP's threads. Work is split into chunks that depend on the sizes
// alone, never on the thread count, and sums over chunks are added in chunk order: a kernel gives
// the same bits on one thread as on many.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace parallel {

// Loops over fewer elements than this stay on the calling thread: waking another costs more than it
// saves (an elementwise pass over 64k floats takes ~10 µs).
constexpr int64_t kMinElements = int64_t(1) << 16;

// body(begin, end) for [0, count) in chunks of `chunk`, on OpenMP's threads when `elements` (the
// floats the loop touches) reach kMinElements.
template <typename Body>
void forChunks(int64_t count, int64_t chunk, int64_t elements, const Body& body) {
  const int64_t chunks = (count + chunk - 1) / chunk;
  const bool wide = elements >= kMinElements && chunks > 1 && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(static) if (wide)
  for (int64_t k = 0; k < chunks; k++) body(k * chunk, std::min(count, (k + 1) * chunk));
}

}  // namespace parallel
