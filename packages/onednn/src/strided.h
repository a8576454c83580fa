// Elementwise work over strided views: copies (slice, transpose, pad), broadcasting binary ops and
// reductions share one n-D loop. Adjacent dimensions that are contiguous for every operand are
// merged first, so the inner loop usually runs over long contiguous rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "parallel.h"

namespace strided {

enum Op : int {
  kCopy = 0,
  kAdd = 1,
  kSub = 2,
  kMul = 3,
  kDiv = 4,
  kMax = 5,
  kMin = 6,
  kSquaredDifference = 7,
  kReluGrad = 8,  // a · step(b): the ReLU's gradient dy · (y > 0), with NaN where y is NaN (as Step then Mul)
  kSumInto = 10,  // out[o] += a[i] (out is zeroed by the caller's allocation)
  kMaxInto = 11,  // out[o] = max(out[o], a[i]) (out starts at -inf)
  kMinInto = 12,
  kRelu = 20,  // unary: out[o] = f(a[i])
  kStep = 21,  // 1 where a > 0, 0 elsewhere, NaN stays NaN (tfjs Step with alpha 0)
  kSquare = 22,
  kExp = 23,  // in double, rounded to float, as tfjs's cpu kernel (Math.exp) computes it
};

struct View {
  float* data;
  std::vector<int64_t> strides;
};

template <int OP>
inline float apply(float a, float b) {
  if constexpr (OP == kAdd) return a + b;
  if constexpr (OP == kSub) return a - b;
  if constexpr (OP == kMul) return a * b;
  if constexpr (OP == kDiv) return a / b;
  if constexpr (OP == kMax) return (a > b || std::isnan(a)) ? a : b;
  if constexpr (OP == kMin) return (a < b || std::isnan(a)) ? a : b;
  if constexpr (OP == kSquaredDifference) return (a - b) * (a - b);
  if constexpr (OP == kReluGrad) return a * (b > 0 ? 1.0f : (std::isnan(b) ? b : 0.0f));
  return a;
}

template <int OP>
void innerRow(int64_t n, float* out, int64_t so, const float* a, int64_t sa, const float* b, int64_t sb) {
  if constexpr (OP == kCopy) {
    if (so == 1 && sa == 1) {
      std::copy(a, a + n, out);
    } else {
      for (int64_t i = 0; i < n; i++) out[i * so] = a[i * sa];
    }
  } else if constexpr (OP == kRelu || OP == kStep || OP == kSquare || OP == kExp) {
    auto f = [](float v) {
      if constexpr (OP == kRelu) return v > 0 ? v : (std::isnan(v) ? v : 0.0f);
      if constexpr (OP == kStep) return v > 0 ? 1.0f : (std::isnan(v) ? v : 0.0f);
      if constexpr (OP == kExp) return static_cast<float>(std::exp(static_cast<double>(v)));
      return v * v;
    };
    if (so == 1 && sa == 1) {
      for (int64_t i = 0; i < n; i++) out[i] = f(a[i]);
    } else {
      for (int64_t i = 0; i < n; i++) out[i * so] = f(a[i * sa]);
    }
  } else if constexpr (OP == kSumInto || OP == kMaxInto || OP == kMinInto) {
    auto combine = [](float acc, float v) {
      if constexpr (OP == kSumInto) return acc + v;
      if constexpr (OP == kMaxInto) return (v > acc || std::isnan(v)) ? v : acc;
      return (v < acc || std::isnan(v)) ? v : acc;
    };
    if (so == 0) {
      float acc = *out;
      for (int64_t i = 0; i < n; i++) acc = combine(acc, a[i * sa]);
      *out = acc;
    } else if (so == 1 && sa == 1) {
      for (int64_t i = 0; i < n; i++) out[i] = combine(out[i], a[i]);
    } else {
      for (int64_t i = 0; i < n; i++) out[i * so] = combine(out[i * so], a[i * sa]);
    }
  } else {
    if (so == 1 && sa == 1 && sb == 1) {
      for (int64_t i = 0; i < n; i++) out[i] = apply<OP>(a[i], b[i]);
    } else if (so == 1 && sa == 1 && sb == 0) {
      const float bv = *b;
      for (int64_t i = 0; i < n; i++) out[i] = apply<OP>(a[i], bv);
    } else if (so == 1 && sa == 0 && sb == 1) {
      const float av = *a;
      for (int64_t i = 0; i < n; i++) out[i] = apply<OP>(av, b[i]);
    } else {
      for (int64_t i = 0; i < n; i++) out[i * so] = apply<OP>(a[i * sa], b[i * sb]);
    }
  }
}

template <int OP>
void loop(const std::vector<int64_t>& shape, size_t dim, float* out, const int64_t* so, const float* a,
          const int64_t* sa, const float* b, const int64_t* sb) {
  const size_t last = shape.size() - 1;
  if (dim == last) {
    innerRow<OP>(shape[dim], out, so[dim], a, sa[dim], b, sb[dim]);
    return;
  }
  for (int64_t i = 0; i < shape[dim]; i++) {
    loop<OP>(shape, dim + 1, out + i * so[dim], so, a + i * sa[dim], sa, b ? b + i * sb[dim] : nullptr, sb);
  }
}

// Drops size-1 dimensions and merges neighbours that are contiguous for every operand.
inline void collapse(std::vector<int64_t>& shape, std::vector<std::vector<int64_t>*> strides) {
  std::vector<int64_t> s;
  std::vector<std::vector<int64_t>> st(strides.size());
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;
    bool merge = !s.empty();
    for (size_t k = 0; merge && k < strides.size(); k++) {
      merge = st[k].back() == (*strides[k])[d] * shape[d];
    }
    if (merge) {
      s.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); k++) st[k].back() = (*strides[k])[d];
    } else {
      s.push_back(shape[d]);
      for (size_t k = 0; k < strides.size(); k++) st[k].push_back((*strides[k])[d]);
    }
  }
  if (s.empty()) {
    s.push_back(1);
    for (auto& v : st) v.push_back(0);
  }
  shape = s;
  for (size_t k = 0; k < strides.size(); k++) *strides[k] = st[k];
}

template <int OP>
void run(std::vector<int64_t> shape, float* out, std::vector<int64_t> so, const float* a, std::vector<int64_t> sa,
         const float* b, std::vector<int64_t> sb) {
  for (int64_t d : shape) {
    if (d == 0) return;
  }
  if (sb.size() != shape.size()) sb.assign(shape.size(), 0);
  collapse(shape, {&so, &sa, &sb});
  if constexpr (OP != kSumInto && OP != kMaxInto && OP != kMinInto) {
    // Elementwise: each output element is written once from its own inputs, so the work splits over
    // OpenMP's threads with the same results. Reductions (several inputs into one output) stay serial.
    int64_t total = 1;
    for (int64_t d : shape) total *= d;
    if (total >= parallel::kMinElements) {
      if (shape.size() == 1) {
        parallel::forChunks(total, parallel::kMinElements / 4, total, [&](int64_t begin, int64_t end) {
          innerRow<OP>(end - begin, out + begin * so[0], so[0], a + begin * sa[0], sa[0], b ? b + begin * sb[0] : nullptr, sb[0]);
        });
        return;
      }
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < shape[0]; i++) {
        loop<OP>(shape, 1, out + i * so[0], so.data(), a + i * sa[0], sa.data(), b ? b + i * sb[0] : nullptr, sb.data());
      }
      return;
    }
  }
  loop<OP>(shape, 0, out, so.data(), a, sa.data(), b, sb.data());
}

inline bool dispatch(int op, const std::vector<int64_t>& shape, float* out, const std::vector<int64_t>& so,
                     const float* a, const std::vector<int64_t>& sa, const float* b, const std::vector<int64_t>& sb) {
  switch (op) {
    case kCopy: run<kCopy>(shape, out, so, a, sa, b, sb); return true;
    case kAdd: run<kAdd>(shape, out, so, a, sa, b, sb); return true;
    case kSub: run<kSub>(shape, out, so, a, sa, b, sb); return true;
    case kMul: run<kMul>(shape, out, so, a, sa, b, sb); return true;
    case kDiv: run<kDiv>(shape, out, so, a, sa, b, sb); return true;
    case kMax: run<kMax>(shape, out, so, a, sa, b, sb); return true;
    case kMin: run<kMin>(shape, out, so, a, sa, b, sb); return true;
    case kSquaredDifference: run<kSquaredDifference>(shape, out, so, a, sa, b, sb); return true;
    case kReluGrad: run<kReluGrad>(shape, out, so, a, sa, b, sb); return true;
    case kSumInto: run<kSumInto>(shape, out, so, a, sa, b, sb); return true;
    case kMaxInto: run<kMaxInto>(shape, out, so, a, sa, b, sb); return true;
    case kMinInto: run<kMinInto>(shape, out, so, a, sa, b, sb); return true;
    case kRelu: run<kRelu>(shape, out, so, a, sa, b, sb); return true;
    case kStep: run<kStep>(shape, out, so, a, sa, b, sb); return true;
    case kSquare: run<kSquare>(shape, out, so, a, sa, b, sb); return true;
    case kExp: run<kExp>(shape, out, so, a, sa, b, sb); return true;
    default: return false;
  }
}

}  // namespace strided
