// Σ_i w_i · t_i over same-length arrays, and its gradients: dw_i = ⟨dy, t_i⟩, dt_i = w_i · dy.
#pragma once
#include <cstddef>
#include <vector>

namespace weighted_sum {

inline void forward(const float* weights, const std::vector<const float*>& terms, float* out, size_t length) {
  const float w0 = weights[0];
  const float* t0 = terms[0];
  for (size_t j = 0; j < length; j++) out[j] = w0 * t0[j];
  for (size_t i = 1; i < terms.size(); i++) {
    const float w = weights[i];
    const float* t = terms[i];
    for (size_t j = 0; j < length; j++) out[j] += w * t[j];
  }
}

inline void backward(const float* dy, const float* weights, const std::vector<const float*>& terms, float* dWeights,
                     const std::vector<float*>& dTerms, size_t length) {
  for (size_t i = 0; i < terms.size(); i++) {
    const float w = weights[i];
    const float* t = terms[i];
    float* dt = dTerms[i];
    double dot = 0.0;
    // Blocks of float partial sums, accumulated in double: vectorisable and accurate.
    for (size_t start = 0; start < length; start += 1024) {
      const size_t end = start + 1024 < length ? start + 1024 : length;
      float partial = 0.0f;
      for (size_t j = start; j < end; j++) {
        partial += dy[j] * t[j];
        dt[j] = w * dy[j];
      }
      dot += partial;
    }
    dWeights[i] = float(dot);
  }
}

}  // namespace weighted_sum
