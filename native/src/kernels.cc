// libtorch side of the hfpl addon (the only translation unit that includes torch headers).
// Inputs are wrapped with at::from_blob as channels-last NCHW views of the NHWC wasm buffers
// (no copy). Outputs: libtorch's convolution and batch-norm kernels have no out= variant, so
// the wasm output buffer is lent to libtorch's CPU allocator for the op's allocation of exactly
// that size (OutputLender). When the result landed there with the expected layout no copy is
// needed; otherwise (asymmetric padding, filter gradients, another allocation took the buffer)
// the result is copied. HFPL_NATIVE_INPLACE=0 disables lending (always copy): measured on the
// benchmark network, lending saves about 5% of the step's CPU time.
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS
#include "kernels.h"

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/add.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/convolution.h>
#include <ATen/ops/convolution_backward.h>
#include <ATen/ops/elu.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/leaky_relu.h>
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/ops/sigmoid.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <vector>
#include <atomic>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace hfpl {
namespace {

const at::TensorOptions kFloat = at::TensorOptions().dtype(at::kFloat);

OpStats gStats[kNumStatOps];

// Accumulates one call's CPU time and the part spent on layout work (between mark() and layout()).
class Clock {
 public:
  explicit Clock(int op) : op_(op), start_(now()), mark_(start_) {}
  ~Clock() {
    gStats[op_].calls++;
    gStats[op_].totalMs += ms(start_, now());
  }
  void mark() { mark_ = now(); }
  void copied(bool yes) { gStats[op_].copies += yes ? 1 : 0; }
  void layout() {  // the time since mark() was layout work
    const auto t = now();
    gStats[op_].layoutMs += ms(mark_, t);
    mark_ = t;
  }

 private:
  // Process CPU time (all threads): unlike wall time, barely moved by other processes' load.
  using tp = double;
  static tp now() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
  }
  static double ms(tp a, tp b) { return b - a; }
  int op_;
  tp start_, mark_;
};

// NHWC memory [n, h, w, c] seen as an NCHW tensor with channels-last strides.
at::Tensor nhwc(const float* p, int64_t n, int64_t h, int64_t w, int64_t c) {
  return at::from_blob(const_cast<float*>(p), {n, c, h, w}, {h * w * c, 1, w * c, c}, kFloat);
}

// Filter memory [kh, kw, cin, cout] (TF.js HWIO) seen as OIHW [cout, cin, kh, kw].
at::Tensor hwio(const float* p, int64_t kh, int64_t kw, int64_t cin, int64_t cout) {
  return at::from_blob(const_cast<float*>(p), {cout, cin, kh, kw}, {1, cout, kw * cin * cout, cin * cout},
                       kFloat);
}

// Hands one caller-owned buffer to the next CPU allocation of exactly its size; every other
// allocation goes to libtorch's default allocator. The lent pointer is never freed by libtorch.
class OutputLender final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    // State is thread-local: only allocations on the thread that armed the lender (the JS
    // thread) can get the buffer, never those of libtorch's worker threads.
    if (target_ != nullptr && n == bytes_ && skip_-- == 0) {
      void* p = target_;
      target_ = nullptr;
      lent_.store(p);
      return {p, p, &keep, c10::Device(c10::DeviceType::CPU)};
    }
    return c10::GetDefaultCPUAllocator()->allocate(n);
  }
  c10::DeleterFnPtr raw_deleter() const override { return &rawDelete; }
  // Lends p to the allocation of n bytes after `skip` earlier ones of that size.
  void arm(void* p, size_t n, int skip) const {
    target_ = p;
    bytes_ = n;
    skip_ = skip;
    lent_.store(nullptr);
  }
  void disarm() const { target_ = nullptr; }

 private:
  static void keep(void*) {}
  static void rawDelete(void* p) {
    if (p == lent_.load()) return;
    c10::DeleterFnPtr d = c10::GetDefaultCPUAllocator()->raw_deleter();
    if (d) d(p);
  }
  static inline thread_local void* target_ = nullptr;
  static inline thread_local size_t bytes_ = 0;
  static inline thread_local int skip_ = 0;
  static inline std::atomic<void*> lent_{nullptr};
};

OutputLender gLender;

bool lendingEnabled() {
  static const bool on = [] {
    const char* v = std::getenv("HFPL_NATIVE_INPLACE");
    if (v != nullptr && std::strcmp(v, "0") == 0) return false;
    c10::SetCPUAllocator(&gLender, /*priority=*/1);
    return true;
  }();
  return on;
}

// Offers `out` (a view of a wasm buffer) to the op run while this object lives; deliver() then
// makes `out` hold `result`, copying only when the result is not already there.
class Lend {
 public:
  // skip: same-size allocations to pass over first (op-specific; a wrong guess only costs a copy).
  explicit Lend(const at::Tensor& out, int skip = 0) : out_(out) {
    if (lendingEnabled()) gLender.arm(out.data_ptr(), out.numel() * sizeof(float), skip);
  }
  ~Lend() { gLender.disarm(); }
  // True when no copy was needed.
  bool deliver(const at::Tensor& result) {
    gLender.disarm();
    if (result.data_ptr() == out_.data_ptr()) {
      if (result.sizes() == out_.sizes() && result.strides() == out_.strides()) return true;
      out_.copy_(result.clone());  // landed in the buffer with another layout
      return false;
    }
    out_.copy_(result);
    return false;
  }

 private:
  at::Tensor out_;
};

// Fused activation applied in place (TF.js semantics, see tfjs-core fused_util).
void activate(at::Tensor& t, int activation, float alpha, const float* prelu, int64_t preluSize) {
  switch (activation) {
    case kLinear: return;
    case kRelu: t.clamp_min_(0); return;
    case kRelu6: t.clamp_(0, 6); return;
    case kLeakyRelu: at::leaky_relu_(t, alpha); return;
    case kSigmoid: t.sigmoid_(); return;
    case kElu: at::elu_(t); return;
    case kPrelu: {
      // t is [.., last] with prelu weights broadcast along the last (channel) axis.
      at::Tensor w = at::from_blob(const_cast<float*>(prelu), {preluSize}, kFloat);
      at::Tensor neg = t.clamp_max(0);
      t.clamp_min_(0).addcmul_(neg, w);
      return;
    }
    default: TORCH_CHECK(false, "unknown activation code ", activation);
  }
}

// x zero-padded by (top, bottom, left, right) rows/columns, negative values cropping, into a new
// channels-last tensor (at::constant_pad_nd would return NCHW, costing a layout change).
at::Tensor padNhwc(const at::Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  const int64_t h = x.size(2), w = x.size(3);
  at::Tensor src = x.narrow(2, std::max<int64_t>(0, -top), h - std::max<int64_t>(0, -top) - std::max<int64_t>(0, -bottom))
                       .narrow(3, std::max<int64_t>(0, -left), w - std::max<int64_t>(0, -left) - std::max<int64_t>(0, -right));
  const int64_t t = std::max<int64_t>(0, top), b = std::max<int64_t>(0, bottom);
  const int64_t l = std::max<int64_t>(0, left), r = std::max<int64_t>(0, right);
  at::Tensor out = at::empty({x.size(0), x.size(1), src.size(2) + t + b, src.size(3) + l + r},
                             kFloat.memory_format(at::MemoryFormat::ChannelsLast));
  if (t) out.narrow(2, 0, t).zero_();
  if (b) out.narrow(2, t + src.size(2), b).zero_();
  if (l) out.narrow(3, 0, l).zero_();
  if (r) out.narrow(3, l + src.size(3), r).zero_();
  out.narrow(2, t, src.size(2)).narrow(3, l, src.size(3)).copy_(src);
  return out;
}

}  // namespace

void conv2d(const ConvArgs& a) {
  c10::InferenceMode guard;
  Clock clock(a.mode == kForward ? kStatConvForward : a.mode == kBackpropInput ? kStatConvBackpropInput
                                                                              : kStatConvBackpropFilter);
  // Depthwise filters are [kh, kw, inC, mult]: as OIHW [inC * mult, 1, kh, kw] with o = c * mult + m.
  at::Tensor w = a.groups == 1 ? hwio(a.filter, a.kh, a.kw, a.inC, a.outC)
                               : at::from_blob(a.filter, {a.outC, 1, a.kh, a.kw},
                                               {1, 1, a.kw * a.outC, a.outC}, kFloat);
  // libtorch pads symmetrically: the common part goes to the convolution, the rest (TF 'same'
  // puts the odd pixel bottom/right) is an explicit zero pad of the input.
  // Negative explicit pads (crops) go to the explicit pad as well.
  const int64_t pt = std::max<int64_t>(0, std::min(a.padTop, a.padBottom));
  const int64_t pl = std::max<int64_t>(0, std::min(a.padLeft, a.padRight));
  const int64_t et = a.padTop - pt, eb = a.padBottom - pt, el = a.padLeft - pl, er = a.padRight - pl;
  const bool asym = et || eb || el || er;
  // A 1x1 filter has no taps to dilate; a dilation > 1 only steers libtorch to oneDNN, which its
  // heuristics skip for 1x1 stride-1 single-thread convolutions (the slow path calls the system
  // BLAS, Debian's reference one by default).
  const bool pointwise = a.kh == 1 && a.kw == 1;
  const std::vector<int64_t> stride{a.strideH, a.strideW}, pad{pt, pl};
  const std::vector<int64_t> dil{pointwise ? 2 : a.dilationH, pointwise ? 2 : a.dilationW};
  at::Tensor dy = nhwc(a.y, a.n, a.outH, a.outW, a.outC);

  if (a.mode == kForward) {
    at::Tensor x = nhwc(a.x, a.n, a.inH, a.inW, a.inC);
    clock.mark();
    if (asym) x = padNhwc(x, et, eb, el, er);
    clock.layout();
    Lend lend(dy);
    at::Tensor r = at::convolution(x, w, c10::nullopt, stride, pad, dil, false, {0, 0}, a.groups);
    clock.mark();
    clock.copied(!lend.deliver(r));
    if (a.bias) dy.add_(at::from_blob(const_cast<float*>(a.bias), {1, a.outC, 1, 1}, kFloat));
    if (a.activation != kLinear) {
      at::Tensor flat = at::from_blob(a.y, {a.n * a.outH * a.outW, a.outC}, kFloat);
      activate(flat, a.activation, a.alpha, a.prelu, a.preluSize);
    }
    clock.layout();
  } else if (a.mode == kBackpropInput) {
    const int64_t hp = a.inH + et + eb, wp = a.inW + el + er;
    at::Tensor like = at::empty({a.n, a.inC, hp, wp}, kFloat.memory_format(at::MemoryFormat::ChannelsLast));
    at::Tensor out = nhwc(a.x, a.n, a.inH, a.inW, a.inC);
    Lend lend(out);  // with asymmetric pads the gradient is larger than out: never lent
    auto grads = at::convolution_backward(dy, like, w, c10::nullopt, stride, pad, dil, false, {0, 0},
                                          a.groups, {true, false, false});
    at::Tensor dx = std::get<0>(grads);
    if (asym) dx = dx.narrow(2, et, a.inH).narrow(3, el, a.inW);
    clock.mark();
    clock.copied(!lend.deliver(dx));
    clock.layout();
  } else if (a.mode == kBackpropFilter) {
    at::Tensor x = nhwc(a.x, a.n, a.inH, a.inW, a.inC);
    clock.mark();
    if (asym) x = padNhwc(x, et, eb, el, er);
    clock.layout();
    // The filter argument only lends its shape; its values are not read for the weight grad.
    at::Tensor shape = at::empty(w.sizes(), kFloat.memory_format(at::MemoryFormat::ChannelsLast));
    auto grads = at::convolution_backward(dy, x, shape, c10::nullopt, stride, pad, dil, false, {0, 0},
                                          a.groups, {false, true, false});
    clock.mark();
    w.copy_(std::get<1>(grads));  // OIHW (or OHWI) -> HWIO: always a (small) copy
    clock.copied(true);
    clock.layout();
  } else {
    TORCH_CHECK(false, "unknown convolution mode ", a.mode);
  }
}

// Matmuls run as oneDNN 1x1 convolutions: libtorch's own bmm goes to the system BLAS, which on
// Debian may be the (slow) reference one. A [m, k] is a channels-last image of width m with k
// channels, B [k, n] the [n, k, 1, 1] filter, and the output [m, n] the channels-last result.
void matmul(const MatMulArgs& a) {
  c10::InferenceMode guard;
  Clock clock(kStatMatMul);
  const int64_t batch = std::max(a.batchA, a.batchB);
  // Rows of every batch at once when B is shared and A's rows are contiguous.
  const bool fold = a.batchB == 1 && !a.transposeA;
  const int64_t m = fold ? batch * a.m : a.m, loops = fold ? 1 : batch;
  const bool fuseBias = a.bias != nullptr && a.biasSize == a.n;
  c10::optional<at::Tensor> bias;
  if (fuseBias) bias = at::from_blob(const_cast<float*>(a.bias), {a.n}, kFloat);
  const std::vector<int64_t> one{1, 1}, zero{0, 0};
  for (int64_t q = 0; q < loops; q++) {
    const float* pa = a.a + (a.batchA == 1 ? 0 : q * a.m * a.k);
    const float* pb = a.b + (a.batchB == 1 ? 0 : q * a.k * a.n);
    at::Tensor x = at::from_blob(const_cast<float*>(pa), {1, a.k, 1, m},
                                 a.transposeA ? at::IntArrayRef{m * a.k, m, m * a.k, 1}
                                              : at::IntArrayRef{m * a.k, 1, m * a.k, a.k}, kFloat);
    at::Tensor w = at::from_blob(const_cast<float*>(pb), {a.n, a.k, 1, 1},
                                 a.transposeB ? at::IntArrayRef{a.k, 1, 1, 1} : at::IntArrayRef{1, a.n, 1, 1}, kFloat);
    at::Tensor out = nhwc(a.out + q * a.m * a.n, 1, 1, m, a.n);
    Lend lend(out);
    at::Tensor r = at::mkldnn_convolution(x, w, bias, zero, one, one, 1);
    clock.mark();
    clock.copied(!lend.deliver(r));
    clock.layout();
  }
  at::Tensor all = at::from_blob(a.out, {batch * a.m, a.n}, kFloat);
  if (a.bias && !fuseBias) all.add_(at::from_blob(const_cast<float*>(a.bias), {a.biasSize}, kFloat));
  activate(all, a.activation, a.alpha, a.prelu, a.preluSize);
}

// Training batch norm as plain loops with float64 per-channel sums, the very arithmetic of the
// wasm kernel (src/engine/wasm-kernels/batch-norm.ts: same operation order, float32 rounding at
// the same points; ISO C++ does not contract a * b + c into an fma), so both engine paths give
// bit-identical results. libtorch's native_batch_norm (channels-last path, float32 partial sums)
// put the two paths' outputs 1e-6 to 3e-5 apart on the demo's layers (issue 12): enough to
// flip ReLU signs after the normalisation and move single gradients by up to 2%.
// -O3 vectorises the per-channel loops (lanes are channels: every channel's sum keeps its
// sequential order, so the results stay those of the wasm kernel).
#pragma GCC push_options
#pragma GCC optimize("O3")
void batchNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                      float* variance, int64_t rows, int64_t c, double eps) {
  Clock clock(kStatBatchNormForward);
  std::vector<double> s1(c, 0.0), s2(c, 0.0);
  for (int64_t i = 0; i < rows; i++) {
    const float* xr = x + i * c;
    for (int64_t k = 0; k < c; k++) {
      const double v = xr[k];
      s1[k] += v;
      s2[k] += v * v;
    }
  }
  const double m = static_cast<double>(rows);
  std::vector<float> scale(c), shift(c);
  for (int64_t k = 0; k < c; k++) {
    const double mu = s1[k] / m;
    const double va = std::max(0.0, s2[k] / m - mu * mu);
    mean[k] = static_cast<float>(mu);
    variance[k] = static_cast<float>(va);
    scale[k] = static_cast<float>(static_cast<double>(gamma[k]) / std::sqrt(va + eps));
    shift[k] = static_cast<float>(static_cast<double>(beta[k]) - mu * static_cast<double>(scale[k]));
  }
  for (int64_t i = 0; i < rows; i++) {
    const float* xr = x + i * c;
    float* yr = y + i * c;
    for (int64_t k = 0; k < c; k++) {
      yr[k] = static_cast<float>(static_cast<double>(xr[k]) * static_cast<double>(scale[k]) + static_cast<double>(shift[k]));
    }
  }
}

void batchNormBackward(const float* x, const float* dy, const float* gamma, const float* mean,
                       const float* variance, float* dx, float* dgamma, float* dbeta, int64_t rows,
                       int64_t c, double eps) {
  Clock clock(kStatBatchNormBackward);
  std::vector<double> sdy(c, 0.0), sdyx(c, 0.0);
  for (int64_t i = 0; i < rows; i++) {
    const float* xr = x + i * c;
    const float* gr = dy + i * c;
    for (int64_t k = 0; k < c; k++) {
      const double g = gr[k];
      sdy[k] += g;
      sdyx[k] += g * static_cast<double>(xr[k]);
    }
  }
  const double m = static_cast<double>(rows);
  std::vector<float> a(c), b(c), d(c);
  for (int64_t k = 0; k < c; k++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(variance[k]) + eps);
    const double db = sdy[k];
    const double dg = (sdyx[k] - static_cast<double>(mean[k]) * sdy[k]) * inv;  // sum dy * xhat
    dbeta[k] = static_cast<float>(db);
    dgamma[k] = static_cast<float>(dg);
    const double gi = static_cast<double>(gamma[k]) * inv;
    a[k] = static_cast<float>(gi);
    b[k] = static_cast<float>((gi * dg * inv) / m);
    d[k] = static_cast<float>((gi * db) / m - static_cast<double>(b[k]) * static_cast<double>(mean[k]));
  }
  for (int64_t i = 0; i < rows; i++) {
    const float* xr = x + i * c;
    const float* gr = dy + i * c;
    float* o = dx + i * c;
    for (int64_t k = 0; k < c; k++) {
      o[k] = static_cast<float>(static_cast<double>(a[k]) * static_cast<double>(gr[k]) -
                                static_cast<double>(b[k]) * static_cast<double>(xr[k]) - static_cast<double>(d[k]));
    }
  }
}

#pragma GCC pop_options

const char* statName(int op) {
  static const char* names[kNumStatOps] = {"conv2d", "conv2dBackpropInput", "conv2dBackpropFilter", "matMul",
                                           "batchNorm", "batchNormGrad"};
  return op >= 0 && op < kNumStatOps ? names[op] : "?";
}
OpStats stats(int op) { return op >= 0 && op < kNumStatOps ? gStats[op] : OpStats{}; }
void resetStats() {
  for (auto& s : gStats) s = OpStats{};
}

void setThreads(int n) { at::set_num_threads(std::max(1, n)); }
int getThreads() { return at::get_num_threads(); }

std::string describe() {
  std::ostringstream s;
  s << "libtorch " << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << "." << TORCH_VERSION_PATCH
    << ", threads " << at::get_num_threads();
  return s.str();
}

}  // namespace hfpl
