// Softmax cross-entropy over the last axis of [pixels, classes] logits with int32 labels, averaged over
// the pixels not labelled `ignore`, and its gradient, one pass each over chunks of pixels on OpenMP's
// threads (parallel.h). A label outside [0, classes) other than `ignore` counts but picks no class,
// as a one-hot of it does (all zeros).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "parallel.h"

namespace cross_entropy {

constexpr int64_t kPixelsPerChunk = 256;

// max_k x_k and Σ_k exp(x_k − max) of one pixel's logits.
struct Normaliser {
  float max, sum;
};

inline Normaliser normaliser(const float* x, size_t classes) {
  const float max = *std::max_element(x, x + classes);
  float sum = 0.0f;
  for (size_t k = 0; k < classes; k++) sum += std::exp(x[k] - max);
  return {max, sum};
}

inline bool picks(int32_t label, size_t classes) { return label >= 0 && size_t(label) < classes; }

// Pixels whose label is not `ignore`.
inline size_t counted(const int32_t* labels, size_t pixels, int32_t ignore) {
  return size_t(std::count_if(labels, labels + pixels, [ignore](int32_t l) { return l != ignore; }));
}

// Σ over counted pixels of −log softmax(x)[label] / max(count, 1).
inline float forward(const float* logits, const int32_t* labels, size_t pixels, size_t classes, int32_t ignore) {
  const size_t chunks = (pixels + kPixelsPerChunk - 1) / kPixelsPerChunk;
  std::vector<double> partial(chunks, 0.0);
  parallel::forChunks(pixels, kPixelsPerChunk, pixels * classes, [&](int64_t begin, int64_t end) {
    double sum = 0.0;
    for (int64_t p = begin; p < end; p++) {
      const int32_t label = labels[p];
      if (label == ignore || !picks(label, classes)) continue;
      const float* x = logits + p * classes;
      const Normaliser n = normaliser(x, classes);
      sum -= double(x[label] - n.max) - std::log(double(n.sum));
    }
    partial[begin / kPixelsPerChunk] = sum;
  });
  double total = 0.0;
  for (double s : partial) total += s;
  return float(total / double(std::max<size_t>(counted(labels, pixels, ignore), 1)));
}

// d loss / d logits · dy: (softmax(x) − one-hot(label)) · dy / max(count, 1) on counted pixels, 0 elsewhere.
inline void backward(float dy, const float* logits, const int32_t* labels, float* dx, size_t pixels, size_t classes,
                     int32_t ignore) {
  const float scale = float(double(dy) / double(std::max<size_t>(counted(labels, pixels, ignore), 1)));
  parallel::forChunks(pixels, kPixelsPerChunk, 2 * pixels * classes, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; p++) {
      const int32_t label = labels[p];
      const float* x = logits + p * classes;
      float* out = dx + p * classes;
      if (label == ignore) {
        std::fill(out, out + classes, 0.0f);
        continue;
      }
      // exp(x − max) into out, then scaled by 1/Σ: one exponential per class.
      const float max = *std::max_element(x, x + classes);
      float sum = 0.0f;
      for (size_t k = 0; k < classes; k++) sum += (out[k] = std::exp(x[k] - max));
      const float gain = scale / sum;
      for (size_t k = 0; k < classes; k++) out[k] *= gain;
      if (picks(label, classes)) out[label] -= scale;
    }
  });
}

}  // namespace cross_entropy
