// Training-mode batch normalisation over the rows of an NHWC array (rows = N·H·W), without scale
// and shift: one pass for the statistics, one for the output, and the analytic gradient in two.
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

namespace batch_norm {

// y = (x − mean) / √(variance + epsilon); mean and the biased variance per channel are written out.
inline void forward(const float* x, float* y, float* mean, float* variance, size_t rows, size_t channels, double epsilon) {
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
  for (size_t r = 0; r < rows; r++) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
    for (size_t c = 0; c < channels; c++) out[c] = (in[c] - shift[c]) * scale[c];
  }
}

// dx = (dy − mean(dy) − x̂ · mean(dy · x̂)) / √(variance + epsilon), x̂ the normalised input.
inline void backward(const float* dy, const float* x, const float* mean, const float* variance, float* dx, size_t rows,
                     size_t channels, double epsilon) {
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
  for (size_t r = 0; r < rows; r++) {
    const float* g = dy + r * channels;
    const float* in = x + r * channels;
    float* out = dx + r * channels;
    for (size_t c = 0; c < channels; c++) {
      const float xhat = (in[c] - mean[c]) * scale[c];
      out[c] = (g[c] - meanDy[c] - xhat * meanDyXhat[c]) * scale[c];
    }
  }
}

}  // namespace batch_norm
