// Training-mode batch normalisation over the rows of an NHWC array (rows = N·H·W), optionally with a
// per-channel scale and shift: one pass for the statistics, one for the output, and the analytic
// gradient in two. Each pass runs over chunks of rows on OpenMP's threads (parallel.h).
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

#include "parallel.h"

namespace batch_norm {

// Rows per chunk: the unit of the threads' work and of the statistics' partial sums.
constexpr int64_t kRowsPerChunk = 128;

// Per-column sums (in double) of a `width`-column table whose row r addRow(r, acc) adds into acc:
// a partial sum per chunk of rows, the partials added in chunk order.
template <typename AddRow>
std::vector<double> columnSums(size_t rows, size_t width, size_t elements, const AddRow& addRow) {
  const size_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
  std::vector<double> partial(chunks * width, 0.0);
  parallel::forChunks(rows, kRowsPerChunk, elements, [&](int64_t begin, int64_t end) {
    double* acc = partial.data() + (begin / kRowsPerChunk) * width;
    for (int64_t r = begin; r < end; r++) addRow(size_t(r), acc);
  });
  std::vector<double> total(width, 0.0);
  for (size_t k = 0; k < chunks; k++) {
    for (size_t c = 0; c < width; c++) total[c] += partial[k * width + c];
  }
  return total;
}

// body(r) for every row, over chunks of rows on OpenMP's threads.
template <typename Body>
void forRows(size_t rows, size_t elements, const Body& body) {
  parallel::forChunks(rows, kRowsPerChunk, elements, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) body(size_t(r));
  });
}

// y = (x − mean) / √(variance + epsilon) · scale + offset (scale and offset may be null: 1 and 0);
// mean and the biased variance per channel are written out.
inline void forward(const float* x, float* y, float* mean, float* variance, size_t rows, size_t channels, double epsilon,
                    const float* scaleIn = nullptr, const float* offset = nullptr) {
  const size_t elements = rows * channels;
  std::vector<double> sum = columnSums(rows, channels, elements, [&](size_t r, double* acc) {
    const float* row = x + r * channels;
    for (size_t c = 0; c < channels; c++) acc[c] += row[c];
  });
  for (size_t c = 0; c < channels; c++) sum[c] /= double(rows);
  // Second pass on the centred values: no cancellation when |mean| ≫ std.
  const std::vector<double> squares = columnSums(rows, channels, elements, [&](size_t r, double* acc) {
    const float* row = x + r * channels;
    for (size_t c = 0; c < channels; c++) {
      const double d = row[c] - sum[c];
      acc[c] += d * d;
    }
  });
  std::vector<float> shift(channels), scale(channels);
  for (size_t c = 0; c < channels; c++) {
    const double var = squares[c] / double(rows);
    mean[c] = float(sum[c]);
    variance[c] = float(var);
    shift[c] = float(sum[c]);
    scale[c] = float(1.0 / std::sqrt(var + epsilon));
  }
  if (scaleIn == nullptr) {
    forRows(rows, elements, [&](size_t r) {
      const float* in = x + r * channels;
      float* out = y + r * channels;
      for (size_t c = 0; c < channels; c++) out[c] = (in[c] - shift[c]) * scale[c];
    });
    return;
  }
  // Normalised first, then scaled and shifted: the same float operations as the two-step form.
  forRows(rows, elements, [&](size_t r) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
    for (size_t c = 0; c < channels; c++) out[c] = (in[c] - shift[c]) * scale[c] * scaleIn[c] + offset[c];
  });
}

// dx = scale · (dy − mean(dy) − x̂ · mean(dy · x̂)) / √(variance + epsilon), x̂ the normalised input
// (scale 1 when null); with a scale, also dScale = Σ dy · x̂ and dOffset = Σ dy.
inline void backward(const float* dy, const float* x, const float* mean, const float* variance, float* dx, size_t rows,
                     size_t channels, double epsilon, const float* scaleIn = nullptr, float* dScale = nullptr,
                     float* dOffset = nullptr) {
  const size_t elements = rows * channels;
  std::vector<float> scale(channels);
  for (size_t c = 0; c < channels; c++) scale[c] = float(1.0 / std::sqrt(double(variance[c]) + epsilon));
  // Columns [0, channels): Σ dy; [channels, 2·channels): Σ dy · x̂.
  const std::vector<double> sums = columnSums(rows, 2 * channels, 2 * elements, [&](size_t r, double* acc) {
    const float* g = dy + r * channels;
    const float* in = x + r * channels;
    for (size_t c = 0; c < channels; c++) {
      acc[c] += g[c];
      acc[channels + c] += double(g[c]) * ((in[c] - mean[c]) * scale[c]);
    }
  });
  const double* sumDy = sums.data();
  const double* sumDyXhat = sums.data() + channels;
  std::vector<float> meanDy(channels), meanDyXhat(channels);
  for (size_t c = 0; c < channels; c++) {
    meanDy[c] = float(sumDy[c] / double(rows));
    meanDyXhat[c] = float(sumDyXhat[c] / double(rows));
  }
  // The input gradient is the unscaled one times the scale.
  std::vector<float> gain(scale);
  if (scaleIn != nullptr) {
    for (size_t c = 0; c < channels; c++) {
      dScale[c] = float(sumDyXhat[c]);
      dOffset[c] = float(sumDy[c]);
      gain[c] = scale[c] * scaleIn[c];
    }
  }
  forRows(rows, 2 * elements, [&](size_t r) {
    const float* g = dy + r * channels;
    const float* in = x + r * channels;
    float* out = dx + r * channels;
    for (size_t c = 0; c < channels; c++) {
      const float xhat = (in[c] - mean[c]) * scale[c];
      out[c] = (g[c] - meanDy[c] - xhat * meanDyXhat[c]) * gain[c];
    }
  });
}

}  // namespace batch_norm
