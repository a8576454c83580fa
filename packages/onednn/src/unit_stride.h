// Strided 1×1 convolutions as unit-stride ones on the pixels they read. oneDNN 2.6 does the same
// internally (its "reduce to unit stride" driver), and there its AVX2 filter gradient (jit_1x1:avx2)
// writes past a block it allocated when the input has few channels (1–5 seen) and the stride skips
// the map's last row or column (an even map at stride 2): valgrind reports the invalid writes, and
// glibc's heap aborts later ("corrupted size vs. prev_size", "free(): invalid next size"). Reduced
// here, oneDNN is only given unit-stride 1×1 convolutions, on every instruction set.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "parallel.h"

namespace unit_stride {

// A 1×1 convolution's sampling: output pixel (i, j) reads input pixel (i·sh − pt, j·sw − pl), or zeros
// where that lies outside the h × w map.
struct Sampling {
  int64_t n, h, w, c, oh, ow, sh, sw, pt, pl;
};

// The input pixel an output pixel reads in one dimension, or -1 where it falls in the padding.
inline int64_t source(int64_t out, int64_t stride, int64_t pad, int64_t in) {
  const int64_t at = out * stride - pad;
  return at >= 0 && at < in ? at : -1;
}

// sampled[n, oh, ow, c] = x at the pixels the convolution reads (zeros in the padding).
inline void gather(const float* x, float* sampled, const Sampling& s) {
  parallel::forChunks(s.n * s.oh, 1, s.n * s.oh * s.ow * s.c, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const int64_t image = row / s.oh, y = source(row % s.oh, s.sh, s.pt, s.h);
      float* target = sampled + row * s.ow * s.c;
      for (int64_t j = 0; j < s.ow; j++, target += s.c) {
        const int64_t x0 = source(j, s.sw, s.pl, s.w);
        if (y < 0 || x0 < 0) {
          std::fill(target, target + s.c, 0.0f);
        } else {
          std::memcpy(target, x + ((image * s.h + y) * s.w + x0) * s.c, sizeof(float) * s.c);
        }
      }
    }
  });
}

// The reverse, for the input gradient: dx is zero but at the sampled pixels, which each take their
// one gradient (a 1×1 kernel reads each input pixel at most once).
inline void scatter(const float* sampled, float* dx, const Sampling& s) {
  std::fill(dx, dx + s.n * s.h * s.w * s.c, 0.0f);
  parallel::forChunks(s.n * s.oh, 1, s.n * s.oh * s.ow * s.c, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const int64_t image = row / s.oh, y = source(row % s.oh, s.sh, s.pt, s.h);
      if (y < 0) continue;
      const float* from = sampled + row * s.ow * s.c;
      for (int64_t j = 0; j < s.ow; j++, from += s.c) {
        const int64_t x0 = source(j, s.sw, s.pl, s.w);
        if (x0 >= 0) std::memcpy(dx + ((image * s.h + y) * s.w + x0) * s.c, from, sizeof(float) * s.c);
      }
    }
  });
}

}  // namespace unit_stride
