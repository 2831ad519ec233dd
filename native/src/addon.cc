// Node-API bindings of the hfpl addon, written against node_api.h only (no npm package).
// Each kernel call receives the wasm heap (a Uint8Array over WebAssembly.Memory, re-read by the
// caller at every call because memory growth replaces the buffer) and a Float64Array of
// parameters: byte offsets into the heap (-1 for "absent") and sizes, laid out as in
// src/engine/native/addon.ts.
#include <node_api.h>

#include <cstdint>
#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace {

#define CHECK_NAPI(call)                                                     \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error(env, "E_NATIVE", "hfpl native: N-API call failed: " #call); \
      return nullptr;                                                        \
    }                                                                        \
  } while (0)

struct Call {
  uint8_t* heap = nullptr;
  size_t heapBytes = 0;
  const double* p = nullptr;
  size_t np = 0;

  // Pointer to `elems` floats at the byte offset params[i]; throws unless they lie in the heap.
  float* ptr(size_t i, int64_t elems) const {
    const double off = p[i];
    if (!(off >= 0) || elems < 0 || off + static_cast<double>(elems) * 4 > static_cast<double>(heapBytes)) {
      throw std::out_of_range("buffer " + std::to_string(i) + " (offset " + std::to_string(off) + ", " +
                              std::to_string(elems) + " floats) is outside the wasm heap");
    }
    return reinterpret_cast<float*>(heap + static_cast<size_t>(off));
  }
  // As ptr() for an optional buffer: null when params[i] < 0.
  float* opt(size_t i, int64_t elems) const { return p[i] < 0 ? nullptr : ptr(i, elems); }
  // A size or count: a non-negative integer (positive when `positive`).
  int64_t i64(size_t i, bool positive = true) const {
    const double v = p[i];
    if (!(v >= (positive ? 1 : 0)) || v != static_cast<double>(static_cast<int64_t>(v))) {
      throw std::invalid_argument("parameter " + std::to_string(i) + " must be a " +
                                  (positive ? "positive" : "non-negative") + " integer, got " + std::to_string(v));
    }
    return static_cast<int64_t>(v);
  }
  int64_t any(size_t i) const { return static_cast<int64_t>(p[i]); }  // e.g. a pad (any sign)
};

// Reads (heap: Uint8Array, params: Float64Array) into c; false (with a JS error thrown) on misuse.
bool readArgs(napi_env env, napi_callback_info info, size_t minParams, Call& c) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2) {
    napi_throw_type_error(env, "E_NATIVE", "hfpl native: expected (heap: Uint8Array, params: Float64Array)");
    return false;
  }
  napi_typedarray_type t;
  size_t len;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[0], &t, &len, &data, &ab, &off) != napi_ok || t != napi_uint8_array) {
    napi_throw_type_error(env, "E_NATIVE", "hfpl native: heap must be a Uint8Array");
    return false;
  }
  c.heap = static_cast<uint8_t*>(data);
  c.heapBytes = len;
  if (napi_get_typedarray_info(env, argv[1], &t, &len, &data, &ab, &off) != napi_ok || t != napi_float64_array ||
      len < minParams) {
    napi_throw_type_error(env, "E_NATIVE", "hfpl native: params must be a Float64Array of the kernel's layout");
    return false;
  }
  c.p = static_cast<const double*>(data);
  c.np = len;
  return true;
}

template <typename F>
napi_value guarded(napi_env env, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    napi_throw_error(env, "E_NATIVE", (std::string("hfpl native: ") + e.what()).c_str());
  }
  return nullptr;
}

// params: mode, xOff, filterOff, yOff, n, inH, inW, inC, kh, kw, outC, groups, outH, outW,
// strideH, strideW, dilationH, dilationW, padTop, padBottom, padLeft, padRight, biasOff,
// activation, alpha, preluOff, preluSize.
napi_value Conv2d(napi_env env, napi_callback_info info) {
  Call c;
  if (!readArgs(env, info, 27, c)) return nullptr;
  return guarded(env, [&] {
    hfpl::ConvArgs a{};
    a.mode = static_cast<int>(c.p[0]);
    a.n = c.i64(4), a.inH = c.i64(5), a.inW = c.i64(6), a.inC = c.i64(7);
    a.kh = c.i64(8), a.kw = c.i64(9), a.outC = c.i64(10), a.groups = c.i64(11);
    a.outH = c.i64(12), a.outW = c.i64(13);
    a.strideH = c.i64(14), a.strideW = c.i64(15), a.dilationH = c.i64(16), a.dilationW = c.i64(17);
    a.padTop = c.any(18), a.padBottom = c.any(19), a.padLeft = c.any(20), a.padRight = c.any(21);
    if (a.inC % a.groups != 0 || a.outC % a.groups != 0) throw std::invalid_argument("channels not divisible by groups");
    a.x = c.ptr(1, a.n * a.inH * a.inW * a.inC);
    a.filter = c.ptr(2, a.kh * a.kw * (a.inC / a.groups) * a.outC);
    a.y = c.ptr(3, a.n * a.outH * a.outW * a.outC);
    a.bias = c.opt(22, a.outC);
    a.activation = static_cast<int>(c.p[23]);
    a.alpha = static_cast<float>(c.p[24]);
    a.preluSize = c.i64(26, false);
    a.prelu = c.opt(25, a.preluSize);
    hfpl::conv2d(a);
  });
}

// params: aOff, bOff, outOff, batchA, batchB, m, k, n, transposeA, transposeB, biasOff, biasSize,
// activation, alpha, preluOff, preluSize.
napi_value MatMul(napi_env env, napi_callback_info info) {
  Call c;
  if (!readArgs(env, info, 16, c)) return nullptr;
  return guarded(env, [&] {
    hfpl::MatMulArgs a{};
    a.batchA = c.i64(3), a.batchB = c.i64(4), a.m = c.i64(5), a.k = c.i64(6), a.n = c.i64(7);
    a.a = c.ptr(0, a.batchA * a.m * a.k), a.b = c.ptr(1, a.batchB * a.k * a.n);
    a.out = c.ptr(2, std::max(a.batchA, a.batchB) * a.m * a.n);
    a.transposeA = c.p[8] != 0, a.transposeB = c.p[9] != 0;
    a.biasSize = c.i64(11, false), a.bias = c.opt(10, a.biasSize);
    a.activation = static_cast<int>(c.p[12]);
    a.alpha = static_cast<float>(c.p[13]);
    a.preluSize = c.i64(15, false), a.prelu = c.opt(14, a.preluSize);
    hfpl::matmul(a);
  });
}

// params: xOff, gammaOff, betaOff, yOff, meanOff, varianceOff, rows, channels, eps.
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  Call c;
  if (!readArgs(env, info, 9, c)) return nullptr;
  return guarded(env, [&] {
    const int64_t rows = c.i64(6), ch = c.i64(7), n = rows * ch;
    hfpl::batchNormForward(c.ptr(0, n), c.ptr(1, ch), c.ptr(2, ch), c.ptr(3, n), c.ptr(4, ch), c.ptr(5, ch), rows, ch, c.p[8]);
  });
}

// params: xOff, dyOff, gammaOff, meanOff, varianceOff, dxOff, dgammaOff, dbetaOff, rows, channels, eps.
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  Call c;
  if (!readArgs(env, info, 11, c)) return nullptr;
  return guarded(env, [&] {
    const int64_t rows = c.i64(8), ch = c.i64(9), n = rows * ch;
    hfpl::batchNormBackward(c.ptr(0, n), c.ptr(1, n), c.ptr(2, ch), c.ptr(3, ch), c.ptr(4, ch), c.ptr(5, n), c.ptr(6, ch),
                            c.ptr(7, ch), rows, ch, c.p[10]);
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok) {
    napi_throw_type_error(env, "E_NATIVE", "hfpl native: setThreads(n) needs an integer");
    return nullptr;
  }
  return guarded(env, [&] { hfpl::setThreads(n); });
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value out;
  CHECK_NAPI(napi_create_int32(env, hfpl::getThreads(), &out));
  return out;
}

napi_value Describe(napi_env env, napi_callback_info) {
  napi_value out;
  const std::string s = hfpl::describe();
  CHECK_NAPI(napi_create_string_utf8(env, s.c_str(), s.size(), &out));
  return out;
}

// { name: [calls, totalMs, layoutMs, copies] } of the kernel families since the last reset.
napi_value Stats(napi_env env, napi_callback_info) {
  napi_value out;
  CHECK_NAPI(napi_create_object(env, &out));
  for (int op = 0; op < hfpl::kNumStatOps; op++) {
    const hfpl::OpStats s = hfpl::stats(op);
    napi_value arr, v;
    CHECK_NAPI(napi_create_array_with_length(env, 4, &arr));
    const double vals[4] = {static_cast<double>(s.calls), s.totalMs, s.layoutMs, static_cast<double>(s.copies)};
    for (uint32_t i = 0; i < 4; i++) {
      CHECK_NAPI(napi_create_double(env, vals[i], &v));
      CHECK_NAPI(napi_set_element(env, arr, i, v));
    }
    CHECK_NAPI(napi_set_named_property(env, out, hfpl::statName(op), arr));
  }
  return out;
}

napi_value ResetStats(napi_env, napi_callback_info) {
  hfpl::resetStats();
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormForward", nullptr, BatchNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormBackward", nullptr, BatchNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resetStats", nullptr, ResetStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"describe", nullptr, Describe, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
