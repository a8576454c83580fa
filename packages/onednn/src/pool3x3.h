// 3×3 pooling at stride 1 with one pixel of padding on NHWC arrays, as the search space's
// max_pool_3x3 and avg_pool_3x3: padding never wins a max and is not counted in an average.
// The max gradient goes to the first maximum of each window in row-major order.
#pragma once
#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

namespace pool3x3 {

enum Mode { kMax = 0, kAverage = 1 };

struct Shape {
  size_t n, h, w, c;
};

inline size_t lo(size_t i) { return i == 0 ? 0 : i - 1; }
inline size_t hi(size_t i, size_t length) { return std::min(i + 1, length - 1); }

inline void forward(int mode, const float* x, float* y, const Shape& s) {
  for (size_t b = 0; b < s.n; b++) {
    const float* image = x + b * s.h * s.w * s.c;
    for (size_t i = 0; i < s.h; i++) {
      for (size_t j = 0; j < s.w; j++) {
        float* out = y + ((b * s.h + i) * s.w + j) * s.c;
        const size_t count = (hi(i, s.h) - lo(i) + 1) * (hi(j, s.w) - lo(j) + 1);
        std::fill(out, out + s.c, mode == kMax ? -std::numeric_limits<float>::infinity() : 0.0f);
        for (size_t p = lo(i); p <= hi(i, s.h); p++) {
          for (size_t q = lo(j); q <= hi(j, s.w); q++) {
            const float* in = image + (p * s.w + q) * s.c;
            if (mode == kMax) {
              for (size_t c = 0; c < s.c; c++) out[c] = in[c] > out[c] ? in[c] : out[c];
            } else {
              for (size_t c = 0; c < s.c; c++) out[c] += in[c];
            }
          }
        }
        if (mode == kAverage) {
          const float inverse = 1.0f / float(count);
          for (size_t c = 0; c < s.c; c++) out[c] *= inverse;
        }
      }
    }
  }
}

inline void backward(int mode, const float* x, const float* dy, float* dx, const Shape& s) {
  std::fill(dx, dx + s.n * s.h * s.w * s.c, 0.0f);
  std::vector<float> best(s.c);
  std::vector<size_t> winner(s.c);
  for (size_t b = 0; b < s.n; b++) {
    const size_t base = b * s.h * s.w * s.c;
    for (size_t i = 0; i < s.h; i++) {
      for (size_t j = 0; j < s.w; j++) {
        const float* g = dy + base + (i * s.w + j) * s.c;
        if (mode == kMax) {
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(winner.begin(), winner.end(), base + (lo(i) * s.w + lo(j)) * s.c);
          for (size_t p = lo(i); p <= hi(i, s.h); p++) {
            for (size_t q = lo(j); q <= hi(j, s.w); q++) {
              const size_t offset = base + (p * s.w + q) * s.c;
              for (size_t c = 0; c < s.c; c++) {
                if (x[offset + c] > best[c]) {
                  best[c] = x[offset + c];
                  winner[c] = offset;
                }
              }
            }
          }
          for (size_t c = 0; c < s.c; c++) dx[winner[c] + c] += g[c];
        } else {
          const size_t count = (hi(i, s.h) - lo(i) + 1) * (hi(j, s.w) - lo(j) + 1);
          const float inverse = 1.0f / float(count);
          for (size_t p = lo(i); p <= hi(i, s.h); p++) {
            for (size_t q = lo(j); q <= hi(j, s.w); q++) {
              float* out = dx + base + (p * s.w + q) * s.c;
              for (size_t c = 0; c < s.c; c++) out[c] += g[c] * inverse;
            }
          }
        }
      }
    }
  }
}

}  // namespace pool3x3
