// Training-mode batch normalisation over the rows of an NHWC array (rows = N·H·W), optionally with a
// per-channel scale and shift: one pass for the statistics, one for the output, and the analytic
// gradient in two.
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

namespace batch_norm {

// y = (x − mean) / √(variance + epsilon) · scale + offset (scale and offset may be null: 1 and 0);
// mean and the biased variance per channel are written out.
inline void forward(const float* x, float* y, float* mean, float* variance, size_t rows, size_t channels, double epsilon,
                    const float* scaleIn = nullptr, const float* offset = nullptr) {
  std::vector<double> sum(channels, 0.0), squares(channels, 0.0);
  for (size_t r = 0; r < rows; r++) {
    const float* row = x + r * channels;
    for (size_t c = 0; c < channels; c++) sum[c] += row[c];
  }
  for (size_t c = 0; c < channels; c++) sum[c] /= double(rows);
  // Second pass on the centred values: no cancellation when |mean| ≫ std.
  for (size_t r = 0; r < rows; r++) {
    const float* row = x + r * channels;
    for (size_t c = 0; c < channels; c++) {
      const double d = row[c] - sum[c];
      squares[c] += d * d;
    }
  }
  std::vector<float> shift(channels), scale(channels);
  for (size_t c = 0; c < channels; c++) {
    const double var = squares[c] / double(rows);
    mean[c] = float(sum[c]);
    variance[c] = float(var);
    shift[c] = float(sum[c]);
    scale[c] = float(1.0 / std::sqrt(var + epsilon));
  }
  if (scaleIn == nullptr) {
    for (size_t r = 0; r < rows; r++) {
      const float* in = x + r * channels;
      float* out = y + r * channels;
      for (size_t c = 0; c < channels; c++) out[c] = (in[c] - shift[c]) * scale[c];
    }
    return;
  }
  // Normalised first, then scaled and shifted: the same float operations as the two-step form.
  for (size_t r = 0; r < rows; r++) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
    for (size_t c = 0; c < channels; c++) out[c] = (in[c] - shift[c]) * scale[c] * scaleIn[c] + offset[c];
  }
}

// dx = scale · (dy − mean(dy) − x̂ · mean(dy · x̂)) / √(variance + epsilon), x̂ the normalised input
// (scale 1 when null); with a scale, also dScale = Σ dy · x̂ and dOffset = Σ dy.
inline void backward(const float* dy, const float* x, const float* mean, const float* variance, float* dx, size_t rows,
                     size_t channels, double epsilon, const float* scaleIn = nullptr, float* dScale = nullptr,
                     float* dOffset = nullptr) {
  std::vector<double> sumDy(channels, 0.0), sumDyXhat(channels, 0.0);
  std::vector<float> scale(channels);
  for (size_t c = 0; c < channels; c++) scale[c] = float(1.0 / std::sqrt(double(variance[c]) + epsilon));
  for (size_t r = 0; r < rows; r++) {
    const float* g = dy + r * channels;
    const float* in = x + r * channels;
    for (size_t c = 0; c < channels; c++) {
      sumDy[c] += g[c];
      sumDyXhat[c] += double(g[c]) * ((in[c] - mean[c]) * scale[c]);
    }
  }
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
  for (size_t r = 0; r < rows; r++) {
    const float* g = dy + r * channels;
    const float* in = x + r * channels;
    float* out = dx + r * channels;
    for (size_t c = 0; c < channels; c++) {
      const float xhat = (in[c] - mean[c]) * scale[c];
      out[c] = (g[c] - meanDy[c] - xhat * meanDyXhat[c]) * gain[c];
    }
  }
}

}  // namespace batch_norm
