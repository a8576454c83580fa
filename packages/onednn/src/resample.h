// Separable resampling of NHWC arrays: out[n, i, j, c] = Σ_{y, x} rows[i, y] · columns[j, x] · in[n, y, x, c],
// the matrices given dense but mostly zeros (a bilinear row has two taps, a subsampling row one). Each
// output row is made from its taps only: the rows pass into a scratch row of W·C floats, then the columns
// pass from it, instead of two dense matrix products and three transposes.
// `transposed` applies rowsᵀ and columnsᵀ: the gradient with respect to `in`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace resample {

// The nonzero entries of each row of a matrix: row r's are index/weight[start[r] .. start[r + 1]).
struct Taps {
  std::vector<size_t> start;
  std::vector<uint32_t> index;
  std::vector<float> weight;
};

// The taps of `matrix` [outer, inner], or of its transpose: one row per output index.
inline Taps taps(const float* matrix, size_t outer, size_t inner, bool transposed) {
  const size_t outputs = transposed ? inner : outer, inputs = transposed ? outer : inner;
  Taps t;
  t.start.reserve(outputs + 1);
  t.start.push_back(0);
  for (size_t o = 0; o < outputs; o++) {
    for (size_t i = 0; i < inputs; i++) {
      const float w = transposed ? matrix[i * inner + o] : matrix[o * inner + i];
      if (w != 0.0f) {
        t.index.push_back(static_cast<uint32_t>(i));
        t.weight.push_back(w);
      }
    }
    t.start.push_back(t.index.size());
  }
  return t;
}

// in [n, h, w, c] → out [n, oh, ow, c] with rowTaps (oh rows over h) and columnTaps (ow rows over w),
// on `threads` OpenMP threads (output rows split between them).
inline void apply(const float* in, float* out, size_t n, size_t h, size_t w, size_t c, const Taps& rowTaps, size_t oh,
                  const Taps& columnTaps, size_t ow, int threads) {
  const size_t rowLength = w * c;
  const int64_t outputRows = static_cast<int64_t>(n * oh);
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> scratch(rowLength);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < outputRows; r++) {
      const size_t batch = size_t(r) / oh, i = size_t(r) % oh;
      // Rows pass: scratch[x, c] = Σ_y rows[i, y] · in[batch, y, x, c].
      float* row = scratch.data();
      for (size_t k = 0; k < rowLength; k++) row[k] = 0.0f;
      for (size_t t = rowTaps.start[i]; t < rowTaps.start[i + 1]; t++) {
        const float weight = rowTaps.weight[t];
        const float* source = in + (batch * h + rowTaps.index[t]) * rowLength;
        for (size_t k = 0; k < rowLength; k++) row[k] += weight * source[k];
      }
      // Columns pass: out[batch, i, j, c] = Σ_x columns[j, x] · scratch[x, c].
      float* target = out + size_t(r) * ow * c;
      for (size_t j = 0; j < ow; j++) {
        float* pixel = target + j * c;
        for (size_t k = 0; k < c; k++) pixel[k] = 0.0f;
        for (size_t t = columnTaps.start[j]; t < columnTaps.start[j + 1]; t++) {
          const float weight = columnTaps.weight[t];
          const float* source = row + size_t(columnTaps.index[t]) * c;
          for (size_t k = 0; k < c; k++) pixel[k] += weight * source[k];
        }
      }
    }
  }
}

}  // namespace resample
