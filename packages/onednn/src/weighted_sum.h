// Σ_i w_i · t_i over same-length arrays, and its gradients: dw_i = ⟨dy, t_i⟩, dt_i = w_i · dy. Both run
// over blocks of elements on OpenMP's threads (parallel.h).
#pragma once
#include <cstddef>
#include <vector>

#include "parallel.h"

namespace weighted_sum {

// Elements per block: the unit of the threads' work and of the dot products' float partial sums.
constexpr int64_t kBlock = 1024;

inline void forward(const float* weights, const std::vector<const float*>& terms, float* out, size_t length) {
  parallel::forChunks(length, kBlock, length * terms.size(), [&](int64_t begin, int64_t end) {
    const float w0 = weights[0];
    const float* t0 = terms[0];
    for (int64_t j = begin; j < end; j++) out[j] = w0 * t0[j];
    for (size_t i = 1; i < terms.size(); i++) {
      const float w = weights[i];
      const float* t = terms[i];
      for (int64_t j = begin; j < end; j++) out[j] += w * t[j];
    }
  });
}

inline void backward(const float* dy, const float* weights, const std::vector<const float*>& terms, float* dWeights,
                     const std::vector<float*>& dTerms, size_t length) {
  const size_t blocks = (length + kBlock - 1) / kBlock;
  // Float partial sums per (term, block), vectorisable; then added in block order in double: accurate,
  // and the same on any number of threads.
  std::vector<float> partial(terms.size() * blocks);
  parallel::forChunks(length, kBlock, length * terms.size(), [&](int64_t begin, int64_t end) {
    for (size_t i = 0; i < terms.size(); i++) {
      const float w = weights[i];
      const float* t = terms[i];
      float* dt = dTerms[i];
      float sum = 0.0f;
      for (int64_t j = begin; j < end; j++) {
        sum += dy[j] * t[j];
        dt[j] = w * dy[j];
      }
      partial[i * blocks + begin / kBlock] = sum;
    }
  });
  for (size_t i = 0; i < terms.size(); i++) {
    double dot = 0.0;
    for (size_t b = 0; b < blocks; b++) dot += partial[i * blocks + b];
    dWeights[i] = float(dot);
  }
}

}  // namespace weighted_sum
