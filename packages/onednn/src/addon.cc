// oneDNN convolutions and matrix products on Float32Arrays, for the `onednn` tfjs backend, plus
// compiled loops for strided elementwise ops, weighted sums, training-mode batch norm, 3×3 pooling,
// optimizer updates and the softmax cross-entropy.
// Tensors are NHWC; filters are tfjs's [kh, kw, in, out] (dense) or [kh, kw, channels, multiplier]
// (grouped). Primitives are cached by their shapes, so a training step pays creation once.
#include <node_api.h>
#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include "batch_norm.h"
#include "held_signals.h"
#include "kernel_taps.h"
#include "optimizers.h"
#include "pool3x3.h"
#include "resample.h"
#include "strided.h"
#include "cross_entropy.h"
#include "team_size.h"
#include "unit_stride.h"
#include "weighted_sum.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;


// Parameters of one convolution, in the order JavaScript passes them.
struct ConvShape {
  memory::dim n, h, w, c, oh, ow, oc, kh, kw, groups, sh, sw, dh, dw, pt, pl;
};

struct ConvPrimitive {
  ConvShape shape;       // what the primitive computes: the call's, or with only the taps that reach the map
  kernel_taps::Range rows, columns;  // those taps, where fewer than the filter's
  std::vector<float> taps;           // the filter's (or its gradient's) taps, where fewer
  dnnl::primitive primitive;
  memory::desc weights;  // the layout the primitive wants its (diff_)weights in
  memory::desc user;     // tfjs's layout of the same weights
  memory blocked;        // the weights in the primitive's layout, where it differs from tfjs's: reused by every call
  dnnl::reorder reorder; // tfjs's layout to the primitive's (its diff_weights back, for filter gradients)
  int threads;           // the team the primitive was created for (its reorder runs on one thread)
  // The primitive's layouts of its source and destination (or their gradients), where they are not
  // tfjs's NHWC (`blockedActivations`), and the reorders between the two: into the primitive for
  // what it reads, back to NHWC for what it writes.
  memory::desc sourceLayout, destinationLayout;
  dnnl::reorder sourceReorder, destinationReorder;
};

// The engine, its stream and the primitives made for them, in one owner that is never destroyed.
// oneDNN's objects must not outlive their engine, and statics die at exit in the reverse order of
// their construction: as globals, the caches (built when the addon loads) were destroyed after the
// engine (built at first use), each primitive after its engine. Nothing is freed at exit now; the
// process is ending, and the system takes the memory back.
struct Runtime {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::unordered_map<std::string, ConvPrimitive> convs;
  std::unordered_map<std::string, dnnl::matmul> matMuls;
  std::vector<float> sampled;  // the pixels a strided 1×1 convolution reads (unit_stride.h), reused by every call
  std::vector<float> blockedSource, blockedDestination;  // activations in a primitive's own layout, reused by every call
};

Runtime& runtime() {
  static Runtime* const instance = new Runtime();
  return *instance;
}

dnnl::engine& cpuEngine() { return runtime().engine; }
dnnl::stream& cpuStream() { return runtime().stream; }

memory::desc activations(memory::dim n, memory::dim c, memory::dim h, memory::dim w) {
  return memory::desc({n, c, h, w}, dt::f32, tag::nhwc);
}

memory::desc userWeights(const ConvShape& s) {
  if (s.groups == 1) return memory::desc({s.oc, s.c, s.kh, s.kw}, dt::f32, tag::hwio);
  return memory::desc({s.groups, s.oc / s.groups, s.c / s.groups, s.kh, s.kw}, dt::f32, tag::hwigo);
}

memory::desc anyWeights(const ConvShape& s) {
  if (s.groups == 1) return memory::desc({s.oc, s.c, s.kh, s.kw}, dt::f32, tag::any);
  return memory::desc({s.groups, s.oc / s.groups, s.c / s.groups, s.kh, s.kw}, dt::f32, tag::any);
}

// Strides, dilation and padding in oneDNN's terms: dilation counts the skipped pixels, and the
// right/bottom padding follows from the output size.
struct Geometry {
  memory::dims strides, dilates, left, right;
};

Geometry geometry(const ConvShape& s) {
  return {{s.sh, s.sw},
          {s.dh - 1, s.dw - 1},
          {s.pt, s.pl},
          {(s.oh - 1) * s.sh + (s.kh - 1) * s.dh + 1 - s.h - s.pt, (s.ow - 1) * s.sw + (s.kw - 1) * s.dw + 1 - s.w - s.pl}};
}

memory::desc source(const ConvShape& s) { return activations(s.n, s.c, s.h, s.w); }
memory::desc destination(const ConvShape& s) { return activations(s.n, s.oc, s.oh, s.ow); }

bool hasAvx512() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return true;
    default:
      return false;
  }
}

// Whether a convolution runs on activations in the layout oneDNN picks (blocked by 8 channels)
// instead of NHWC, reordered on the way in and out. Below AVX-512, oneDNN 2.6's direct kernels for
// NHWC are slow for a spatial filter's weight gradients (the 3×3 decoder convs at 769²: 1.6× the time
// with the reorders) and it falls back to im2col + GEMM for dilated ones; with AVX-512 the NHWC
// kernels are as fast as the blocked ones, and the reorders would only add. Depthwise and 1×1
// convolutions keep NHWC: their NHWC kernels are good on every ISA.
bool blockedActivations(const ConvShape& s) {
  static const bool avx512 = hasAvx512();
  return !avx512 && s.groups == 1 && (s.kh > 1 || s.kw > 1);
}

memory::desc layoutOf(const memory::desc& nhwc, bool blocked) {
  return blocked ? memory::desc(nhwc.dims(), dt::f32, tag::any) : nhwc;
}

dnnl::convolution_forward::primitive_desc forwardDesc(const ConvShape& s, const Geometry& g, dnnl::prop_kind kind) {
  const bool blocked = blockedActivations(s);
  dnnl::convolution_forward::desc desc(kind, dnnl::algorithm::convolution_direct, layoutOf(source(s), blocked), anyWeights(s),
                                       layoutOf(destination(s), blocked), g.strides, g.dilates, g.left, g.right);
  return dnnl::convolution_forward::primitive_desc(desc, cpuEngine());
}

// The descriptor of a backward pass (`Pass`: convolution_backward_data or _weights), hinted by the
// forward pass it differentiates.
template <typename Pass>
typename Pass::primitive_desc backwardDesc(const ConvShape& s, const Geometry& g) {
  const bool blocked = blockedActivations(s);
  typename Pass::desc desc(dnnl::algorithm::convolution_direct, layoutOf(source(s), blocked), anyWeights(s),
                           layoutOf(destination(s), blocked), g.strides, g.dilates, g.left, g.right);
  return typename Pass::primitive_desc(desc, cpuEngine(), forwardDesc(s, g, dnnl::prop_kind::forward_training));
}

// Floating-point operations of one convolution pass (each pass costs the same).
double convWork(const ConvShape& s) {
  return 2.0 * double(s.n * s.oh * s.ow * s.oc) * double(s.kh * s.kw * (s.c / s.groups));
}

// The convolution with only the taps of `s` that reach the map, or `s` itself where all do (or where
// dropping taps would need negative left padding).
ConvShape reachingTaps(const ConvShape& s, kernel_taps::Range* rows, kernel_taps::Range* columns) {
  *rows = kernel_taps::used(s.h, s.oh, s.kh, s.sh, s.dh, s.pt);
  *columns = kernel_taps::used(s.w, s.ow, s.kw, s.sw, s.dw, s.pl);
  ConvShape cropped = s;
  cropped.kh = rows->count;
  cropped.kw = columns->count;
  cropped.pt = s.pt - rows->first * s.dh;
  cropped.pl = s.pl - columns->first * s.dw;
  if ((cropped.kh == s.kh && cropped.kw == s.kw) || cropped.pt < 0 || cropped.pl < 0) {
    *rows = {0, s.kh};
    *columns = {0, s.kw};
    return s;
  }
  return cropped;
}

ConvPrimitive& convPrimitive(int mode, const ConvShape& call) {
  std::string key(reinterpret_cast<const char*>(&call), sizeof call);
  key.push_back(static_cast<char>(mode));
  const int most = omp_get_max_threads();
  key.append(reinterpret_cast<const char*>(&most), sizeof most);
  auto& cache = runtime().convs;
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  ConvPrimitive entry;
  const ConvShape s = entry.shape = reachingTaps(call, &entry.rows, &entry.columns);
  if (s.kh != call.kh || s.kw != call.kw) entry.taps.resize(s.kh * s.kw * (s.c / s.groups) * s.oc);
  const int threads = team_size::forWork(convWork(s));
  const Geometry g = geometry(s);
  entry.user = userWeights(s);
  entry.threads = threads;
  {
    team_size::Scope team(threads);
    if (mode == 0) {
      auto pd = forwardDesc(s, g, dnnl::prop_kind::forward_inference);
      entry.primitive = dnnl::convolution_forward(pd);
      entry.weights = pd.weights_desc();
      entry.sourceLayout = pd.src_desc();
      entry.destinationLayout = pd.dst_desc();
    } else if (mode == 1) {
      auto pd = backwardDesc<dnnl::convolution_backward_data>(s, g);
      entry.primitive = dnnl::convolution_backward_data(pd);
      entry.weights = pd.weights_desc();
      entry.sourceLayout = pd.diff_src_desc();
      entry.destinationLayout = pd.diff_dst_desc();
    } else {
      auto pd = backwardDesc<dnnl::convolution_backward_weights>(s, g);
      entry.primitive = dnnl::convolution_backward_weights(pd);
      entry.weights = pd.diff_weights_desc();
      entry.sourceLayout = pd.src_desc();
      entry.destinationLayout = pd.diff_dst_desc();
    }
    // Mode 1 writes its source (the input gradient) and mode 0 its destination: those go back to NHWC.
    if (entry.sourceLayout != source(s)) {
      entry.sourceReorder = mode == 1 ? dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), entry.sourceLayout, cpuEngine(), source(s)))
                                      : dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), source(s), cpuEngine(), entry.sourceLayout));
    }
    if (entry.destinationLayout != destination(s)) {
      entry.destinationReorder = mode == 0 ? dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), entry.destinationLayout, cpuEngine(), destination(s)))
                                           : dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), destination(s), cpuEngine(), entry.destinationLayout));
    }
  }
  if (entry.weights != entry.user) {
    team_size::Scope one(1);
    entry.blocked = memory(entry.weights, cpuEngine());
    entry.reorder = mode == 2 ? dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), entry.weights, cpuEngine(), entry.user))
                              : dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), entry.user, cpuEngine(), entry.weights));
  }
  return cache.emplace(std::move(key), std::move(entry)).first->second;
}

// mode 0: y = conv(x, w); 1: dx = conv_backward_data(dy, w); 2: dw = conv_backward_weights(x, dy).
// (a, b, out) = (x, w, y), (dy, w, dx), (x, dy, dw). Every shape but a strided 1×1 one.
void primitiveConvolution(int mode, float* a, float* b, float* out, const ConvShape& call) {
  ConvPrimitive& p = convPrimitive(mode, call);
  const ConvShape& s = p.shape;
  auto& engine = cpuEngine();
  auto& stream = cpuStream();
  const int64_t block = (call.c / call.groups) * call.oc;  // floats per filter tap
  float* filter = mode == 2 ? out : b;
  if (!p.taps.empty() && mode != 2) kernel_taps::gather(filter, p.taps.data(), call.kw, block, p.rows, p.columns);
  memory userSrc(source(s), engine, mode == 1 ? out : a);
  memory userDst(destination(s), engine, mode == 0 ? out : mode == 1 ? a : b);
  memory user(p.user, engine, p.taps.empty() ? filter : p.taps.data());
  const bool reordered = p.weights != p.user;
  memory weights = reordered ? p.blocked : user;
  if (reordered && mode != 2) {
    team_size::Scope one(1);
    p.reorder.execute(stream, user, weights);
  }
  // Activations in the primitive's own layout, in buffers every call reuses.
  const bool blockedSrc = p.sourceLayout != userSrc.get_desc(), blockedDst = p.destinationLayout != userDst.get_desc();
  auto buffer = [&](std::vector<float>& floats, const memory::desc& layout) {
    floats.resize(std::max(floats.size(), layout.get_size() / sizeof(float)));
    return memory(layout, engine, floats.data());
  };
  memory src = blockedSrc ? buffer(runtime().blockedSource, p.sourceLayout) : userSrc;
  memory dst = blockedDst ? buffer(runtime().blockedDestination, p.destinationLayout) : userDst;
  {
    team_size::Scope team(p.threads);
    if (blockedSrc && mode != 1) p.sourceReorder.execute(stream, userSrc, src);
    if (blockedDst && mode != 0) p.destinationReorder.execute(stream, userDst, dst);
    if (mode == 0) {
      p.primitive.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
    } else if (mode == 1) {
      p.primitive.execute(stream, {{DNNL_ARG_DIFF_DST, dst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, src}});
    } else {
      p.primitive.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, dst}, {DNNL_ARG_DIFF_WEIGHTS, weights}});
    }
    if (blockedSrc && mode == 1) p.sourceReorder.execute(stream, src, userSrc);
    if (blockedDst && mode == 0) p.destinationReorder.execute(stream, dst, userDst);
  }
  if (reordered && mode == 2) {
    team_size::Scope one(1);
    p.reorder.execute(stream, weights, user);
  }
  stream.wait();
  if (!p.taps.empty() && mode == 2) kernel_taps::scatter(p.taps.data(), filter, call.kh, call.kw, block, p.rows, p.columns);
}

// The same passes; a strided 1×1 convolution as the unit-stride one on the pixels it reads (unit_stride.h).
void convolution(int mode, float* a, float* b, float* out, const ConvShape& call) {
  held_signals::Scope held;
  if (call.kh != 1 || call.kw != 1 || (call.sh == 1 && call.sw == 1)) return primitiveConvolution(mode, a, b, out, call);
  const unit_stride::Sampling sampling{call.n, call.h, call.w, call.c, call.oh, call.ow, call.sh, call.sw, call.pt, call.pl};
  ConvShape unit = call;
  unit.h = call.oh;
  unit.w = call.ow;
  unit.sh = unit.sw = unit.dh = unit.dw = 1;
  unit.pt = unit.pl = 0;
  std::vector<float>& sampled = runtime().sampled;
  sampled.resize(static_cast<size_t>(call.n * call.oh * call.ow * call.c));
  if (mode == 1) {
    primitiveConvolution(1, a, b, sampled.data(), unit);
    unit_stride::scatter(sampled.data(), out, sampling);
  } else {
    unit_stride::gather(a, sampled.data(), sampling);
    primitiveConvolution(mode, sampled.data(), b, out, unit);
  }
}

// out[batch, m, n] = op(a)[batch, m, k] · op(b)[batch, k, n]; a batch of 1 broadcasts.
struct MatMulShape {
  memory::dim batchA, batchB, m, k, n, transposeA, transposeB;
};

void matMul(float* a, float* b, float* out, const MatMulShape& s) {
  held_signals::Scope held;
  memory::dim batch = std::max(s.batchA, s.batchB);
  memory::desc aDesc({s.batchA, s.m, s.k}, dt::f32,
                     s.transposeA ? memory::dims{s.m * s.k, 1, s.m} : memory::dims{s.m * s.k, s.k, 1});
  memory::desc bDesc({s.batchB, s.k, s.n}, dt::f32,
                     s.transposeB ? memory::dims{s.k * s.n, 1, s.k} : memory::dims{s.k * s.n, s.n, 1});
  memory::desc outDesc({batch, s.m, s.n}, dt::f32, tag::abc);
  const int threads = team_size::forWork(2.0 * double(batch * s.m) * double(s.k * s.n));
  team_size::Scope team(threads);
  std::string key(reinterpret_cast<const char*>(&s), sizeof s);
  key.append(reinterpret_cast<const char*>(&threads), sizeof threads);
  auto& cache = runtime().matMuls;
  auto found = cache.find(key);
  if (found == cache.end()) {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aDesc, bDesc, outDesc), cpuEngine());
    found = cache.emplace(std::move(key), dnnl::matmul(pd)).first;
  }
  auto& engine = cpuEngine();
  memory aMem(aDesc, engine, a), bMem(bDesc, engine, b), outMem(outDesc, engine, out);
  found->second.execute(cpuStream(), {{DNNL_ARG_SRC, aMem}, {DNNL_ARG_WEIGHTS, bMem}, {DNNL_ARG_DST, outMem}});
  cpuStream().wait();
}

// ---- N-API glue ----

bool check(napi_env env, napi_status status, const char* what) {
  if (status == napi_ok) return true;
  napi_throw_error(env, nullptr, what);
  return false;
}

// The data of a typed array of `type` (named `typeName` in the error), or a thrown TypeError.
template <typename T>
bool typedArray(napi_env env, napi_value value, T** data, size_t* length, const char* name, napi_typedarray_type expected,
                const char* typeName) {
  napi_typedarray_type type;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok || type != expected) {
    napi_throw_type_error(env, nullptr, (std::string(name) + " must be " + typeName).c_str());
    return false;
  }
  *data = static_cast<T*>(raw);
  return true;
}

bool floatArray(napi_env env, napi_value value, float** data, size_t* length, const char* name) {
  return typedArray(env, value, data, length, name, napi_float32_array, "a Float32Array");
}

bool int32Array(napi_env env, napi_value value, int32_t** data, size_t* length, const char* name) {
  return typedArray(env, value, data, length, name, napi_int32_array, "an Int32Array");
}

bool intParams(napi_env env, napi_value value, memory::dim* out, size_t count) {
  napi_typedarray_type type;
  size_t length;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, &buffer, &offset) != napi_ok ||
      type != napi_int32_array || length != count) {
    napi_throw_type_error(env, nullptr, ("params must be an Int32Array of " + std::to_string(count)).c_str());
    return false;
  }
  for (size_t i = 0; i < count; i++) out[i] = static_cast<const int32_t*>(raw)[i];
  return true;
}

template <typename F>
napi_value guarded(napi_env env, F&& body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// conv(mode, a, b, out, Int32Array[n, h, w, c, oh, ow, oc, kh, kw, groups, sh, sw, dh, dw, pt, pl])
napi_value Conv(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  if (!check(env, napi_get_cb_info(env, info, &argc, args, nullptr, nullptr), "conv: bad call")) return nullptr;
  if (argc != 5) {
    napi_throw_type_error(env, nullptr, "conv(mode, a, b, out, params) takes 5 arguments");
    return nullptr;
  }
  int32_t mode;
  if (!check(env, napi_get_value_int32(env, args[0], &mode), "conv: mode must be 0, 1 or 2")) return nullptr;
  float *a, *b, *out;
  size_t la, lb, lo;
  ConvShape s;
  if (!floatArray(env, args[1], &a, &la, "a") || !floatArray(env, args[2], &b, &lb, "b") ||
      !floatArray(env, args[3], &out, &lo, "out") ||
      !intParams(env, args[4], reinterpret_cast<memory::dim*>(&s), sizeof s / sizeof(memory::dim)))
    return nullptr;
  size_t x = s.n * s.h * s.w * s.c, y = s.n * s.oh * s.ow * s.oc, w = s.kh * s.kw * (s.c / s.groups) * s.oc;
  size_t want[3][3] = {{x, w, y}, {y, w, x}, {x, y, w}};
  if (mode < 0 || mode > 2 || la != want[mode][0] || lb != want[mode][1] || lo != want[mode][2]) {
    napi_throw_range_error(env, nullptr, "conv: array lengths do not match the shape parameters");
    return nullptr;
  }
  return guarded(env, [&] { convolution(mode, a, b, out, s); });
}

// matMul(a, b, out, Int32Array[batchA, batchB, m, k, n, transposeA, transposeB])
napi_value MatMul(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  if (!check(env, napi_get_cb_info(env, info, &argc, args, nullptr, nullptr), "matMul: bad call")) return nullptr;
  if (argc != 4) {
    napi_throw_type_error(env, nullptr, "matMul(a, b, out, params) takes 4 arguments");
    return nullptr;
  }
  float *a, *b, *out;
  size_t la, lb, lo;
  MatMulShape s;
  if (!floatArray(env, args[0], &a, &la, "a") || !floatArray(env, args[1], &b, &lb, "b") ||
      !floatArray(env, args[2], &out, &lo, "out") ||
      !intParams(env, args[3], reinterpret_cast<memory::dim*>(&s), sizeof s / sizeof(memory::dim)))
    return nullptr;
  if (la != size_t(s.batchA * s.m * s.k) || lb != size_t(s.batchB * s.k * s.n) ||
      lo != size_t(std::max(s.batchA, s.batchB) * s.m * s.n) ||
      (s.batchA != s.batchB && s.batchA != 1 && s.batchB != 1)) {
    napi_throw_range_error(env, nullptr, "matMul: array lengths do not match the shape parameters");
    return nullptr;
  }
  return guarded(env, [&] { matMul(a, b, out, s); });
}

bool intVector(napi_env env, napi_value value, std::vector<int64_t>* out, const char* name) {
  napi_typedarray_type type;
  size_t length;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, &buffer, &offset) != napi_ok ||
      type != napi_int32_array) {
    napi_throw_type_error(env, nullptr, (std::string(name) + " must be an Int32Array").c_str());
    return false;
  }
  out->assign(static_cast<const int32_t*>(raw), static_cast<const int32_t*>(raw) + length);
  return true;
}

// Whether every element a view reaches lies inside an array of `length` floats.
bool inBounds(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, int64_t offset, size_t length) {
  int64_t low = offset, high = offset;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 0) return true;
    (strides[d] < 0 ? low : high) += strides[d] * (shape[d] - 1);
  }
  return low >= 0 && high < static_cast<int64_t>(length);
}

// strided(op, shape, out, outOffset, outStrides, a, aOffset, aStrides[, b, bOffset, bStrides]):
// out[o] = op(a[i], b[j]) over the n-D index space `shape`, each operand with its own strides.
napi_value Strided(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value args[11];
  if (!check(env, napi_get_cb_info(env, info, &argc, args, nullptr, nullptr), "strided: bad call")) return nullptr;
  if (argc != 8 && argc != 11) {
    napi_throw_type_error(env, nullptr, "strided takes 8 or 11 arguments");
    return nullptr;
  }
  int32_t op, outOffset, aOffset, bOffset = 0;
  std::vector<int64_t> shape, so, sa, sb;
  float *out, *a, *b = nullptr;
  size_t lo, la, lb = 0;
  if (!check(env, napi_get_value_int32(env, args[0], &op), "strided: op must be an integer") ||
      !intVector(env, args[1], &shape, "shape") || !floatArray(env, args[2], &out, &lo, "out") ||
      !check(env, napi_get_value_int32(env, args[3], &outOffset), "strided: outOffset must be an integer") ||
      !intVector(env, args[4], &so, "outStrides") || !floatArray(env, args[5], &a, &la, "a") ||
      !check(env, napi_get_value_int32(env, args[6], &aOffset), "strided: aOffset must be an integer") ||
      !intVector(env, args[7], &sa, "aStrides"))
    return nullptr;
  if (argc == 11 && (!floatArray(env, args[8], &b, &lb, "b") ||
                     !check(env, napi_get_value_int32(env, args[9], &bOffset), "strided: bOffset must be an integer") ||
                     !intVector(env, args[10], &sb, "bStrides")))
    return nullptr;
  // Whether b was passed is read from argc: an empty Float32Array may have a null data pointer.
  const bool binary = op >= strided::kAdd && op <= strided::kReluGrad;
  const bool hasB = argc == 11;
  if (so.size() != shape.size() || sa.size() != shape.size() || binary != hasB ||
      (hasB && sb.size() != shape.size()) || !inBounds(shape, so, outOffset, lo) || !inBounds(shape, sa, aOffset, la) ||
      (hasB && !inBounds(shape, sb, bOffset, lb))) {
    napi_throw_range_error(env, nullptr, "strided: shape, strides and offsets do not fit the arrays");
    return nullptr;
  }
  for (int64_t extent : shape) {
    if (extent == 0) return nullptr;  // nothing to compute (and the arrays may have no data pointer)
  }
  if (!strided::dispatch(op, shape, out + outOffset, so, a + aOffset, sa, hasB ? b + bOffset : nullptr, sb)) {
    napi_throw_range_error(env, nullptr, "strided: unknown op");
  }
  return nullptr;
}

// Reads exactly `count` arguments into `args`, or throws "<name> takes <count> arguments".
bool arguments(napi_env env, napi_callback_info info, napi_value* args, size_t count, const char* name) {
  size_t argc = count;
  if (!check(env, napi_get_cb_info(env, info, &argc, args, nullptr, nullptr), "bad call")) return false;
  if (argc != count) {
    napi_throw_type_error(env, nullptr, (std::string(name) + " takes " + std::to_string(count) + " arguments").c_str());
    return false;
  }
  return true;
}

// Reads the first `count` of `args` as Float32Arrays named by `names`.
bool floatArrays(napi_env env, const napi_value* args, size_t count, const char* const* names, float** data,
                 size_t* lengths) {
  for (size_t i = 0; i < count; i++) {
    if (!floatArray(env, args[i], &data[i], &lengths[i], names[i])) return false;
  }
  return true;
}

// batchNorm(x, y, mean, variance, Int32Array[rows, channels], epsilon)
// batchNormGrad(dy, x, mean, variance, dx, Int32Array[rows, channels], epsilon)
// affineBatchNorm(x, scale, offset, y, mean, variance, Int32Array[rows, channels], epsilon)
// affineBatchNormGrad(dy, x, mean, variance, scale, dx, dScale, dOffset, Int32Array[rows, channels], epsilon)
template <bool kGradient, bool kAffine>
napi_value BatchNormFunction(napi_env env, napi_callback_info info) {
  constexpr size_t kArrays = kGradient ? (kAffine ? 8 : 5) : (kAffine ? 6 : 4);
  const char* name = kGradient ? (kAffine ? "affineBatchNormGrad" : "batchNormGrad") : (kAffine ? "affineBatchNorm" : "batchNorm");
  napi_value args[kArrays + 2];
  if (!arguments(env, info, args, kArrays + 2, name)) return nullptr;
  // Names and lengths (E: elements, C: channels) of the arrays, in the order they are passed.
  static const char* const kNames[4][8] = {
      {"x", "y", "mean", "variance"},
      {"x", "scale", "offset", "y", "mean", "variance"},
      {"dy", "x", "mean", "variance", "dx"},
      {"dy", "x", "mean", "variance", "scale", "dx", "dScale", "dOffset"}};
  static const char* const kLengths[4] = {"EECC", "ECCECC", "EECCE", "EECCCECC"};
  const size_t variant = (kGradient ? 2 : 0) + (kAffine ? 1 : 0);
  float* data[kArrays];
  size_t lengths[kArrays];
  memory::dim shape[2];
  double epsilon;
  if (!floatArrays(env, args, kArrays, kNames[variant], data, lengths) || !intParams(env, args[kArrays], shape, 2) ||
      !check(env, napi_get_value_double(env, args[kArrays + 1], &epsilon), "batchNorm: epsilon must be a number"))
    return nullptr;
  const size_t rows = shape[0], channels = shape[1], elements = rows * channels;
  for (size_t i = 0; i < kArrays; i++) {
    if (lengths[i] != (kLengths[variant][i] == 'E' ? elements : channels)) {
      napi_throw_range_error(env, nullptr, (std::string(name) + ": array lengths do not match the shape parameters").c_str());
      return nullptr;
    }
  }
  if (kGradient && kAffine) {
    batch_norm::backward(data[0], data[1], data[2], data[3], data[5], rows, channels, epsilon, data[4], data[6], data[7]);
  } else if (kGradient) {
    batch_norm::backward(data[0], data[1], data[2], data[3], data[4], rows, channels, epsilon);
  } else if (kAffine) {
    batch_norm::forward(data[0], data[3], data[4], data[5], rows, channels, epsilon, data[1], data[2]);
  } else {
    batch_norm::forward(data[0], data[1], data[2], data[3], rows, channels, epsilon);
  }
  return nullptr;
}

// pool3x3(mode, x, y, Int32Array[n, h, w, c]); pool3x3Grad(mode, x, dy, dx, Int32Array[n, h, w, c])
template <bool kGradient>
napi_value Pool3x3Function(napi_env env, napi_callback_info info) {
  constexpr size_t kArrays = kGradient ? 3 : 2;
  const char* name = kGradient ? "pool3x3Grad" : "pool3x3";
  napi_value args[kArrays + 2];
  if (!arguments(env, info, args, kArrays + 2, name)) return nullptr;
  static const char* const kNames[2][3] = {{"x", "y", ""}, {"x", "dy", "dx"}};
  int32_t mode;
  float* data[3];
  size_t lengths[3];
  memory::dim shape[4];
  if (!check(env, napi_get_value_int32(env, args[0], &mode), "pool3x3: mode must be an integer") ||
      !floatArrays(env, args + 1, kArrays, kNames[kGradient], data, lengths) || !intParams(env, args[kArrays + 1], shape, 4))
    return nullptr;
  const pool3x3::Shape s{size_t(shape[0]), size_t(shape[1]), size_t(shape[2]), size_t(shape[3])};
  const size_t elements = s.n * s.h * s.w * s.c;
  bool fits = mode == pool3x3::kMax || mode == pool3x3::kAverage;
  for (size_t i = 0; i < kArrays; i++) fits = fits && lengths[i] == elements;
  if (!fits || s.h == 0 || s.w == 0) {
    napi_throw_range_error(env, nullptr, (std::string(name) + ": unknown mode, or array lengths do not match the shape").c_str());
    return nullptr;
  }
  if (kGradient) {
    pool3x3::backward(mode, data[0], data[1], data[2], s);
  } else {
    pool3x3::forward(mode, data[0], data[1], s);
  }
  return nullptr;
}

// resample(x, rows, columns, out, Int32Array[n, h, w, c, oh, ow], transposed): see resample.h. The
// matrices are the forward's, [oh, h] and [ow, w]; transposed, [h, oh] and [w, ow] (x is then the
// forward's output gradient).
napi_value Resample(napi_env env, napi_callback_info info) {
  napi_value args[6];
  if (!arguments(env, info, args, 6, "resample")) return nullptr;
  static const char* const kNames[4] = {"x", "rows", "columns", "out"};
  float* data[4];
  size_t lengths[4];
  memory::dim shape[6];
  bool transposed = false;
  if (!floatArrays(env, args, 4, kNames, data, lengths) || !intParams(env, args[4], shape, 6) ||
      !check(env, napi_get_value_bool(env, args[5], &transposed), "resample: transposed must be a boolean"))
    return nullptr;
  const size_t n = shape[0], h = shape[1], w = shape[2], c = shape[3], oh = shape[4], ow = shape[5];
  if (lengths[0] != n * h * w * c || lengths[1] != oh * h || lengths[2] != ow * w || lengths[3] != n * oh * ow * c) {
    napi_throw_range_error(env, nullptr, "resample: array lengths do not match the shape parameters");
    return nullptr;
  }
  if (lengths[3] == 0) return nullptr;
  const resample::Taps rows = resample::taps(data[1], transposed ? h : oh, transposed ? oh : h, transposed);
  const resample::Taps columns = resample::taps(data[2], transposed ? w : ow, transposed ? ow : w, transposed);
  const double work = 2.0 * double(n) * (double(rows.index.size()) * double(w * c) + double(oh) * double(columns.index.size()) * double(c));
  resample::apply(data[0], data[3], n, h, w, c, rows, oh, columns, ow, team_size::forWork(work));
  return nullptr;
}

// crossEntropy(logits, labels: Int32Array, out: Float32Array(1), Int32Array[pixels, classes], ignore)
// crossEntropyGrad(logits, labels, dx, Int32Array[pixels, classes], ignore, dy)
template <bool kGradient>
napi_value CrossEntropyFunction(napi_env env, napi_callback_info info) {
  constexpr size_t kArgs = kGradient ? 6 : 5;
  const char* name = kGradient ? "crossEntropyGrad" : "crossEntropy";
  napi_value args[kArgs];
  if (!arguments(env, info, args, kArgs, name)) return nullptr;
  float *logits, *out;
  int32_t* labels;
  size_t logitCount, labelCount, outCount;
  memory::dim shape[2];
  int32_t ignore;
  double dy = 0.0;
  if (!floatArray(env, args[0], &logits, &logitCount, "logits") || !int32Array(env, args[1], &labels, &labelCount, "labels") ||
      !floatArray(env, args[2], &out, &outCount, kGradient ? "dx" : "out") || !intParams(env, args[3], shape, 2) ||
      !check(env, napi_get_value_int32(env, args[4], &ignore), "crossEntropy: ignore must be an integer") ||
      (kGradient && !check(env, napi_get_value_double(env, args[5], &dy), "crossEntropyGrad: dy must be a number")))
    return nullptr;
  const size_t pixels = shape[0], classes = shape[1];
  if (classes == 0 || logitCount != pixels * classes || labelCount != pixels || outCount != (kGradient ? logitCount : 1)) {
    napi_throw_range_error(env, nullptr, (std::string(name) + ": array lengths do not match the shape parameters").c_str());
    return nullptr;
  }
  if (kGradient) {
    cross_entropy::backward(float(dy), logits, labels, out, pixels, classes, ignore);
  } else {
    out[0] = cross_entropy::forward(logits, labels, pixels, classes, ignore);
  }
  return nullptr;
}

// Reads a JavaScript array of Float32Arrays, each `length` floats long.
bool floatArrayList(napi_env env, napi_value value, size_t length, std::vector<float*>* out, const char* name) {
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, value, &isArray) != napi_ok || !isArray || napi_get_array_length(env, value, &count) != napi_ok) {
    napi_throw_type_error(env, nullptr, (std::string(name) + " must be an array of Float32Arrays").c_str());
    return false;
  }
  out->resize(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    size_t elementLength;
    if (!check(env, napi_get_element(env, value, i, &element), "weightedSum: bad array") ||
        !floatArray(env, element, &(*out)[i], &elementLength, name))
      return false;
    if (elementLength != length) {
      napi_throw_range_error(env, nullptr, (std::string(name) + ": every array must have the output's length").c_str());
      return false;
    }
  }
  return true;
}

// weightedSum(weights, terms[], out); weightedSumGrad(dy, weights, terms[], dWeights, dTerms[])
template <bool kGradient>
napi_value WeightedSumFunction(napi_env env, napi_callback_info info) {
  constexpr size_t kArgs = kGradient ? 5 : 3;
  const char* name = kGradient ? "weightedSumGrad" : "weightedSum";
  napi_value args[kArgs];
  if (!arguments(env, info, args, kArgs, name)) return nullptr;
  float *dy = nullptr, *weights, *out = nullptr, *dWeights = nullptr;
  size_t length = 0, weightCount, dWeightCount = 0;
  std::vector<float*> terms, dTerms;
  const size_t w = kGradient ? 1 : 0;
  if ((kGradient && !floatArray(env, args[0], &dy, &length, "dy")) || !floatArray(env, args[w], &weights, &weightCount, "weights") ||
      (!kGradient && !floatArray(env, args[2], &out, &length, "out")) || !floatArrayList(env, args[w + 1], length, &terms, "terms") ||
      (kGradient && (!floatArray(env, args[3], &dWeights, &dWeightCount, "dWeights") ||
                     !floatArrayList(env, args[4], length, &dTerms, "dTerms"))))
    return nullptr;
  if (terms.empty() || weightCount != terms.size() || (kGradient && (dWeightCount != terms.size() || dTerms.size() != terms.size()))) {
    napi_throw_range_error(env, nullptr, (std::string(name) + ": need one weight (and one gradient) per term").c_str());
    return nullptr;
  }
  const std::vector<const float*> inputs(terms.begin(), terms.end());
  if (kGradient) {
    weighted_sum::backward(dy, weights, inputs, dWeights, dTerms, length);
  } else {
    weighted_sum::forward(weights, inputs, out, length);
  }
  return nullptr;
}

// sgdMomentum(value, velocity, gradient, outValue, outVelocity, Float64Array[lr, momentum, weightDecay])
// adam(value, m, v, gradient, outValue, outM, outV, Float64Array[lr, beta1, beta2, epsilon, weightDecay, c1, c2])
template <bool kAdam>
napi_value OptimizerFunction(napi_env env, napi_callback_info info) {
  constexpr size_t kArrays = kAdam ? 7 : 5;
  constexpr size_t kScalars = kAdam ? 7 : 3;
  const char* name = kAdam ? "adam" : "sgdMomentum";
  napi_value args[kArrays + 1];
  if (!arguments(env, info, args, kArrays + 1, name)) return nullptr;
  static const char* const kNames[7] = {"value", "state", "state", "state", "out", "out", "out"};
  float* data[kArrays];
  size_t lengths[kArrays];
  if (!floatArrays(env, args, kArrays, kNames, data, lengths)) return nullptr;
  napi_typedarray_type type;
  size_t count;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, args[kArrays], &type, &count, &raw, &buffer, &offset) != napi_ok ||
      type != napi_float64_array || count != kScalars) {
    napi_throw_type_error(env, nullptr, (std::string(name) + ": hyper-parameters must be a Float64Array of " + std::to_string(kScalars)).c_str());
    return nullptr;
  }
  for (size_t i = 1; i < kArrays; i++) {
    if (lengths[i] != lengths[0]) {
      napi_throw_range_error(env, nullptr, (std::string(name) + ": every array must have the variable's length").c_str());
      return nullptr;
    }
  }
  const double* h = static_cast<const double*>(raw);
  if (kAdam) {
    optimizers::adam(data[0], data[1], data[2], data[3], data[4], data[5], data[6], lengths[0],
                     {h[0], h[1], h[2], h[3], h[4], h[5], h[6]});
  } else {
    optimizers::sgdMomentum(data[0], data[1], data[2], data[3], data[4], lengths[0], {h[0], h[1], h[2]});
  }
  return nullptr;
}

// threads(n?): sets the OpenMP threads oneDNN's primitives run on (this thread's parallel regions,
// which is where every primitive is executed) when given n >= 1; returns the count in effect.
napi_value Threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  if (argc >= 1) {
    int32_t requested = 0;
    if (napi_get_value_int32(env, arg, &requested) != napi_ok || requested < 1) {
      napi_throw_range_error(env, nullptr, "threads: expected an integer >= 1");
      return nullptr;
    }
    omp_set_num_threads(requested);
    held_signals::startWorkers();
  }
  napi_value result;
  napi_create_int32(env, omp_get_max_threads(), &result);
  return result;
}

// cpuIsa(): the instruction set oneDNN's kernels use on this CPU, named as ONEDNN_MAX_CPU_ISA names
// it (the variable caps it; speed and float summation order follow it).
napi_value CpuIsa(napi_env env, napi_callback_info) {
  static const std::pair<dnnl::cpu_isa, const char*> kNames[] = {
      {dnnl::cpu_isa::sse41, "SSE41"},
      {dnnl::cpu_isa::avx, "AVX"},
      {dnnl::cpu_isa::avx2, "AVX2"},
      {dnnl::cpu_isa::avx2_vnni, "AVX2_VNNI"},
      {dnnl::cpu_isa::avx512_mic, "AVX512_MIC"},
      {dnnl::cpu_isa::avx512_mic_4ops, "AVX512_MIC_4OPS"},
      {dnnl::cpu_isa::avx512_core, "AVX512_CORE"},
      {dnnl::cpu_isa::avx512_core_vnni, "AVX512_CORE_VNNI"},
      {dnnl::cpu_isa::avx512_core_bf16, "AVX512_CORE_BF16"},
      {dnnl::cpu_isa::avx512_core_amx, "AVX512_CORE_AMX"},
  };
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  const char* name = "ALL";
  for (const auto& [value, text] : kNames) {
    if (value == isa) name = text;
  }
  napi_value result;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result);
  return result;
}

// Large tensor arrays live in their own mappings, 2 MiB aligned and marked for transparent huge
// pages: a first touch then faults 2 MiB at once instead of 512 pages (measured on a virtual machine:
// 48 MiB in 9 ms instead of 180 ms), so memory given back with `discard` is cheap to use again.
constexpr uintptr_t kHugePage = uintptr_t{2} << 20;

uintptr_t pageSize() {
  static const uintptr_t size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return size;
}

void unmapArray(napi_env, void* data, void* hint) { munmap(data, reinterpret_cast<size_t>(hint)); }

// allocate(bytes): a zeroed ArrayBuffer of its own mapping (unmapped when it is collected).
napi_value Allocate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  int64_t bytes = 0;
  if (argc < 1 || napi_get_value_int64(env, arg, &bytes) != napi_ok || bytes < 1) {
    napi_throw_range_error(env, nullptr, "allocate: expected a byte count >= 1");
    return nullptr;
  }
  const uintptr_t length = (static_cast<uintptr_t>(bytes) + pageSize() - 1) & ~(pageSize() - 1);
  void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    napi_throw_range_error(env, nullptr, ("allocate: could not map " + std::to_string(bytes) + " bytes").c_str());
    return nullptr;
  }
  // Keep the 2 MiB aligned part only.
  const uintptr_t rawStart = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t start = (rawStart + kHugePage - 1) & ~(kHugePage - 1);
  if (start > rawStart) munmap(raw, start - rawStart);
  if (rawStart + kHugePage > start) munmap(reinterpret_cast<void*>(start + length), rawStart + kHugePage - start);
#ifdef MADV_HUGEPAGE  // Linux
  madvise(reinterpret_cast<void*>(start), length, MADV_HUGEPAGE);
#endif
  napi_value result;
  if (napi_create_external_arraybuffer(env, reinterpret_cast<void*>(start), static_cast<size_t>(bytes), unmapArray,
                                       reinterpret_cast<void*>(length), &result) != napi_ok) {
    munmap(reinterpret_cast<void*>(start), length);
    return nullptr;
  }
  return result;
}

// discard(buffer): gives the whole pages inside an ArrayBuffer that nothing will read again back to
// the system (madvise MADV_DONTNEED). The mapping stays valid, so a later read sees zeros rather
// than faulting, and the garbage collector frees the buffer as usual; until then it takes no memory.
// Returns the bytes given back.
napi_value Discard(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  void* data = nullptr;
  size_t length = 0;
  if (argc < 1 || napi_get_arraybuffer_info(env, arg, &data, &length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "discard: expected an ArrayBuffer");
    return nullptr;
  }
  const uintptr_t start = (reinterpret_cast<uintptr_t>(data) + pageSize() - 1) & ~(pageSize() - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + length) & ~(pageSize() - 1);
  double given = 0;
  if (end > start && madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) given = static_cast<double>(end - start);
  napi_value result;
  napi_create_double(env, given, &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"strided", nullptr, Strided, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNormFunction<false, false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormGrad", nullptr, BatchNormFunction<true, false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"affineBatchNorm", nullptr, BatchNormFunction<false, true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"affineBatchNormGrad", nullptr, BatchNormFunction<true, true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pool3x3", nullptr, Pool3x3Function<false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pool3x3Grad", nullptr, Pool3x3Function<true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resample", nullptr, Resample, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"weightedSum", nullptr, WeightedSumFunction<false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"weightedSumGrad", nullptr, WeightedSumFunction<true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdMomentum", nullptr, OptimizerFunction<false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, OptimizerFunction<true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"crossEntropy", nullptr, CrossEntropyFunction<false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"crossEntropyGrad", nullptr, CrossEntropyFunction<true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cpuIsa", nullptr, CpuIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"allocate", nullptr, Allocate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"discard", nullptr, Discard, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  held_signals::startWorkers();
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
