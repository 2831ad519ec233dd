// hfpl native kernels: libtorch computations on buffers that live in the TF.js wasm heap.
// Every tensor is NHWC float32 (TF.js layout); the kernels view it as channels-last NCHW
// without copying. Pointers are plain host addresses (wasm heap base + tensor offset).
#pragma once
#include <cstdint>
#include <string>

namespace hfpl {

/** Convolution direction. */
enum ConvMode : int { kForward = 0, kBackpropInput = 1, kBackpropFilter = 2 };

/** Activation fused after a convolution or matmul (TF.js FusableActivation order). */
enum Activation : int {
  kLinear = 0, kRelu = 1, kRelu6 = 2, kPrelu = 3, kLeakyRelu = 4, kSigmoid = 5, kElu = 6
};

/**
 * One 2-D convolution (regular or depthwise) in any direction. Shapes:
 * x [n, inH, inW, inC]; filter [kh, kw, inC / groups, outC] (regular, HWIO) or
 * [kh, kw, inC, outC / inC] (depthwise, HWCM: groups == inC); y [n, outH, outW, outC].
 * forward: y = conv(x, filter) (+ bias, activation); backprop input: x = dL/dx from y = dy;
 * backprop filter: filter = dL/dW from x and y = dy. Outputs are overwritten.
 */
struct ConvArgs {
  int mode;
  float* x;
  float* filter;
  float* y;
  int64_t n, inH, inW, inC, kh, kw, outC, groups, outH, outW;
  int64_t strideH, strideW, dilationH, dilationW, padTop, padBottom, padLeft, padRight;
  const float* bias;   // [outC] or null (forward only)
  int activation;      // Activation (forward only)
  float alpha;         // leaky relu slope
  const float* prelu;  // prelu weights, preluSize elements broadcast over the last axis, or null
  int64_t preluSize;
};

void conv2d(const ConvArgs& a);

/**
 * out[b] = op(a[b]) @ op(b[b]) (+ bias, activation) with op a transpose when asked.
 * a is [batchA, m, k] (or [batchA, k, m] transposed), b is [batchB, k, n] (or [batchB, n, k]);
 * batchA and batchB are equal or one of them is 1. out is [max(batchA, batchB), m, n].
 */
struct MatMulArgs {
  const float* a;
  const float* b;
  float* out;
  int64_t batchA, batchB, m, k, n;
  bool transposeA, transposeB;
  const float* bias;  // broadcast over rows: biasSize is n or 1
  int64_t biasSize;
  int activation;
  float alpha;
  const float* prelu;
  int64_t preluSize;
};

void matmul(const MatMulArgs& a);

/**
 * Training batch norm over axes N, H, W of x [rows, c] (rows = n * h * w), biased variance.
 * forward: y = gamma * (x - mean) / sqrt(var + eps) + beta; writes y, mean, variance.
 * backward: from x, dy, gamma, mean, variance writes dx, dgamma, dbeta.
 */
void batchNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                      float* variance, int64_t rows, int64_t c, double eps);
void batchNormBackward(const float* x, const float* dy, const float* gamma, const float* mean,
                       const float* variance, float* dx, float* dgamma, float* dbeta, int64_t rows,
                       int64_t c, double eps);

/**
 * Per kernel family since the last reset: calls, total CPU time (ms, all threads), CPU time of
 * layout work (pads, output copies) and how many calls had to copy their result into the wasm buffer.
 */
struct OpStats {
  int64_t calls = 0;
  double totalMs = 0;
  double layoutMs = 0;
  int64_t copies = 0;
};
enum StatOp : int { kStatConvForward, kStatConvBackpropInput, kStatConvBackpropFilter, kStatMatMul,
                    kStatBatchNormForward, kStatBatchNormBackward, kNumStatOps };
const char* statName(int op);
OpStats stats(int op);
void resetStats();

void setThreads(int n);
int getThreads();
std::string describe();

}  // namespace hfpl
