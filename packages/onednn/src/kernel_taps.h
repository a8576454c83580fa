// Dilated convolutions on maps smaller than their reach. A tap whose every read falls in the padding
// adds nothing to the output and gets a zero gradient, so the convolution equals the one with only the
// taps that reach the map, and the padding moved by the dropped taps. ASPP's 3×3 at rate 24 on a 17×17
// map is then a 1×1 convolution (oneDNN computed the full one with its slow gemm-based gradients).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace kernel_taps {

// Taps [first, first + count) of one dimension.
struct Range {
  int64_t first, count;
};

// The taps of a `kernel`-long dimension that read the input (length `in`) at some output position
// (`out` of them): tap k reads k·dilation − pad + i·stride for i in [0, out). They form one interval.
inline Range used(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad) {
  int64_t first = -1, last = -1;
  for (int64_t k = 0; k < kernel; k++) {
    const int64_t lowest = k * dilation - pad, highest = (out - 1) * stride + k * dilation - pad;
    if (lowest <= in - 1 && highest >= 0) {
      if (first < 0) first = k;
      last = k;
    }
  }
  if (first < 0) return {0, kernel};
  return {first, last - first + 1};
}

// The taps (rows × columns) of a filter [kh, kw, block] copied into [rows.count, columns.count, block].
inline void gather(const float* filter, float* taps, int64_t kw, int64_t block, Range rows, Range columns) {
  for (int64_t y = 0; y < rows.count; y++) {
    const float* source = filter + ((rows.first + y) * kw + columns.first) * block;
    std::memcpy(taps + y * columns.count * block, source, sizeof(float) * columns.count * block);
  }
}

// The reverse for a gradient: the taps' values into their places in [kh, kw, block], zeros elsewhere.
inline void scatter(const float* taps, float* filter, int64_t kh, int64_t kw, int64_t block, Range rows, Range columns) {
  std::fill(filter, filter + kh * kw * block, 0.0f);
  for (int64_t y = 0; y < rows.count; y++) {
    float* target = filter + ((rows.first + y) * kw + columns.first) * block;
    std::memcpy(target, taps + y * columns.count * block, sizeof(float) * columns.count * block);
  }
}

}  // namespace kernel_taps
