// Optimizer updates as one pass over a variable, PyTorch's formulas with L2 weight decay added to
// the gradient (SGD with momentum; Adam with bias correction). Elementwise, over blocks on OpenMP's
// threads (parallel.h).
#pragma once
#include <cmath>
#include <cstddef>

#include "parallel.h"

namespace optimizers {

// Elements per block of the threads' work.
constexpr int64_t kBlock = 4096;

struct SgdParams {
  double learningRate, momentum, weightDecay;
};

// g = ∇ + wd·w; v ← μ·v + g; w ← w − lr·v
inline void sgdMomentum(const float* value, const float* velocity, const float* gradient, float* outValue,
                        float* outVelocity, size_t length, const SgdParams& p) {
  const float lr = float(p.learningRate), mu = float(p.momentum), wd = float(p.weightDecay);
  parallel::forChunks(length, kBlock, 5 * length, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float v = mu * velocity[i] + (gradient[i] + wd * value[i]);
      outVelocity[i] = v;
      outValue[i] = value[i] - lr * v;
    }
  });
}

struct AdamParams {
  double learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2;
};

// g = ∇ + wd·w; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; w ← w − lr·(m/c1) / (√(v/c2) + ε)
inline void adam(const float* value, const float* first, const float* second, const float* gradient, float* outValue,
                 float* outFirst, float* outSecond, size_t length, const AdamParams& p) {
  const float lr = float(p.learningRate), b1 = float(p.beta1), b2 = float(p.beta2), eps = float(p.epsilon);
  const float wd = float(p.weightDecay), c1 = float(p.correction1), c2 = float(p.correction2);
  parallel::forChunks(length, kBlock, 7 * length, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float g = gradient[i] + wd * value[i];
      const float m = b1 * first[i] + (1.0f - b1) * g;
      const float v = b2 * second[i] + (1.0f - b2) * g * g;
      outFirst[i] = m;
      outSecond[i] = v;
      outValue[i] = value[i] - lr * ((m / c1) / (std::sqrt(v / c2) + eps));
    }
  });
}

}  // namespace optimizers
