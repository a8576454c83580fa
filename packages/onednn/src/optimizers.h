// Optimizer updates as one pass over a variable, PyTorch's formulas with L2 weight decay added to
// the gradient (SGD with momentum; Adam with bias correction).
#pragma once
#include <cmath>
#include <cstddef>

namespace optimizers {

struct SgdParams {
  double learningRate, momentum, weightDecay;
};

// g = ∇ + wd·w; v ← μ·v + g; w ← w − lr·v
inline void sgdMomentum(const float* value, const float* velocity, const float* gradient, float* outValue,
                        float* outVelocity, size_t length, const SgdParams& p) {
  const float lr = float(p.learningRate), mu = float(p.momentum), wd = float(p.weightDecay);
  for (size_t i = 0; i < length; i++) {
    const float v = mu * velocity[i] + (gradient[i] + wd * value[i]);
    outVelocity[i] = v;
    outValue[i] = value[i] - lr * v;
  }
}

struct AdamParams {
  double learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2;
};

// g = ∇ + wd·w; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; w ← w − lr·(m/c1) / (√(v/c2) + ε)
inline void adam(const float* value, const float* first, const float* second, const float* gradient, float* outValue,
                 float* outFirst, float* outSecond, size_t length, const AdamParams& p) {
  const float lr = float(p.learningRate), b1 = float(p.beta1), b2 = float(p.beta2), eps = float(p.epsilon);
  const float wd = float(p.weightDecay), c1 = float(p.correction1), c2 = float(p.correction2);
  for (size_t i = 0; i < length; i++) {
    const float g = gradient[i] + wd * value[i];
    const float m = b1 * first[i] + (1.0f - b1) * g;
    const float v = b2 * second[i] + (1.0f - b2) * g * g;
    outFirst[i] = m;
    outSecond[i] = v;
    outValue[i] = value[i] - lr * ((m / c1) / (std::sqrt(v / c2) + eps));
  }
}

}  // namespace optimizers
