//===- kernel-check.cpp - Generated kernels against host references -------===//
//
// Runs every kernel listed in <dir>/manifest.txt (written by
// `qtc-kernelgen --out-dir <dir>`) on fresh random inputs and compares the
// result with a reference computed here in double precision from the same
// f16 inputs (e4m3 bytes for an fp8 KV cache). Outputs are poisoned (NaN)
// before each launch and buffers are allocated with poisoned guard rows, so
// unwritten or out-of-bounds elements show up as failures. Prints one line
// per kernel and case and a summary; exits non-zero when a check fails.
//
//   kernel-check <ptx-dir> [--seed N]
//
//===----------------------------------------------------------------------===//

#include "DeviceHarness.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"
#include "qtc/rt/KvPage.h"
#include "qtc/rt/QuantizedRows.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <numeric>
#include <optional>
#include <random>

using namespace qtc;
using qtc::gpu::DeviceHarness;
using qtc::gpu::KernelArg;
using qtc::gpu::ManifestEntry;
using rt::Status;
using rt::StatusOr;
namespace abi = rt::abi;

namespace {

constexpr uint16_t kPoisonHalf = 0xFFFF; // a NaN

std::mt19937_64 rng;

std::vector<uint16_t> randomHalves(size_t n, double scale, double mean = 0.0) {
  std::normal_distribution<double> dist(mean, scale);
  std::vector<uint16_t> v(n);
  for (auto &h : v)
    h = rt::floatToHalf(static_cast<float>(dist(rng)));
  return v;
}

double h2d(uint16_t h) { return rt::halfToFloat(h); }

// Error of `got` (f16) against `want` (double) over `n` values.
struct Comparison {
  double maxAbs = 0, refNorm = 0, errNorm = 0;
  long bad = 0; // NaN or inf where the reference is finite
  void add(double got, double want) {
    if (!std::isfinite(got)) {
      ++bad;
      return;
    }
    double e = std::fabs(got - want);
    maxAbs = std::max(maxAbs, e);
    errNorm += e * e;
    refNorm += want * want;
  }
  double relL2() const { return refNorm > 0 ? std::sqrt(errNorm / refNorm) : std::sqrt(errNorm); }
};

struct CaseResult {
  std::string family, entry, what;
  Comparison cmp;
  double tolerance = 0; // on relL2
  long untouchedViolations = 0;
  // Outputs whose f16 bits differ from an exact replica of the kernel's
  // arithmetic (W8A8: integer sums, then the same f32 operations).
  long inexact = 0;
  bool pass() const {
    return cmp.bad == 0 && untouchedViolations == 0 && inexact == 0 &&
           cmp.relL2() <= tolerance;
  }
};

std::vector<CaseResult> results;
int failures = 0;

void report(CaseResult r) {
  bool ok = r.pass();
  if (!ok)
    ++failures;
  std::printf("%-5s %-14s %-58s %-22s max_abs=%.3e rel_l2=%.3e bad=%ld oob=%ld%s\n",
              ok ? "PASS" : "FAIL", r.family.c_str(), r.entry.c_str(), r.what.c_str(),
              r.cmp.maxAbs, r.cmp.relL2(), r.cmp.bad, r.untouchedViolations,
              r.inexact ? (" inexact=" + std::to_string(r.inexact)).c_str() : "");
  results.push_back(std::move(r));
}

// Counts elements of `v[from, to)` that are not the poison value.
long countWritten(const std::vector<uint16_t> &v, size_t from, size_t to) {
  long n = 0;
  for (size_t i = from; i < to && i < v.size(); ++i)
    n += v[i] != kPoisonHalf;
  return n;
}

#define CHECK_OK(expr)                                                         \
  do {                                                                         \
    Status s_ = (expr);                                                        \
    if (!s_.isOk())                                                            \
      return s_;                                                               \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr)                                            \
  auto lhs##_or = (expr);                                                      \
  if (!lhs##_or.isOk())                                                        \
    return lhs##_or.status();                                                  \
  auto lhs = *lhs##_or

//===----------------------------------------------------------------------===//
// Linear (decode GEMV and prefill GEMM on tensor cores)
//===----------------------------------------------------------------------===//

// The weight formats of the Linear kinds (qtc-kernelgen --kind).
enum class LinearWeights { F16, Int4, Int8, Fp8 };

bool isLinearKind(const std::string &kind) {
  return kind == "gemv-f16" || kind == "gemv-int4" || kind == "gemv-int8" ||
         kind == "gemv-fp8";
}

LinearWeights linearWeightsOf(const std::string &kind) {
  if (kind == "gemv-int4")
    return LinearWeights::Int4;
  if (kind == "gemv-int8")
    return LinearWeights::Int8;
  if (kind == "gemv-fp8")
    return LinearWeights::Fp8;
  return LinearWeights::F16;
}

// A Linear weight as the kernel reads it (KernelAbi.h's linear list) and
// its dequantized values for the reference.
struct LinearWeightData {
  std::vector<double> w;         // [n, k], what the reference multiplies
  std::vector<uint16_t> dense;   // f16 [n, k]
  std::vector<uint8_t> packed;   // int4 [n, k/2], int8 / fp8 [n, k]
  std::vector<uint16_t> scales;  // f16 [n, k/group] (int4, int8)
  std::vector<float> rowScales;  // f32 [n] (fp8)
  std::vector<uint16_t> zeros;   // f16 [n, k/group] (asymmetric int4)
};

LinearWeightData makeInt4Weights(int n, int k, int group, bool symmetric) {
  LinearWeightData d;
  d.w.resize(static_cast<size_t>(n) * k);
  std::uniform_int_distribution<int> nibble(0, 15);
  std::uniform_real_distribution<double> scaleDist(0.5, 1.5);
  int groups = k / group;
  d.packed.resize(static_cast<size_t>(n) * k / 2);
  d.scales.resize(static_cast<size_t>(n) * groups);
  d.zeros.resize(symmetric ? 0 : d.scales.size());
  for (auto &s : d.scales)
    s = rt::floatToHalf(static_cast<float>(scaleDist(rng) / (8.0 * std::sqrt(k))));
  for (auto &z : d.zeros)
    z = rt::floatToHalf(static_cast<float>(nibble(rng)));
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < k; c += 2) {
      int q0 = nibble(rng), q1 = nibble(rng);
      d.packed[(static_cast<size_t>(r) * k + c) / 2] = static_cast<uint8_t>(q0 | (q1 << 4));
      for (int e = 0; e < 2; ++e) {
        size_t gi = static_cast<size_t>(r) * groups + (c + e) / group;
        double zero = symmetric ? 8.0 : h2d(d.zeros[gi]);
        double q = e == 0 ? q0 : q1;
        // The kernel forms (q - zero) exactly in f16, then multiplies by
        // the scale: rounded to f16 when it scales the operands (modelled
        // here); in f32 after the mma when it scales the tile, which this
        // reference matches to well within the tolerance.
        d.w[static_cast<size_t>(r) * k + c + e] =
            rt::roundToHalf(static_cast<float>((q - zero) * h2d(d.scales[gi])));
      }
    }
  return d;
}

// Every code in [-128, 127], f16 scales per group (group = k: per row).
// The reference is the exact q * scale: the kernel rounds it to f16 only
// where it scales the operands (groups smaller than a K step), an error
// of at most 2^-11 per weight, far inside the tolerance.
LinearWeightData makeInt8Weights(int n, int k, int group) {
  LinearWeightData d;
  d.w.resize(static_cast<size_t>(n) * k);
  std::uniform_int_distribution<int> code(-128, 127);
  std::uniform_real_distribution<double> scaleDist(0.5, 1.5);
  int groups = k / group;
  d.packed.resize(static_cast<size_t>(n) * k);
  d.scales.resize(static_cast<size_t>(n) * groups);
  for (auto &s : d.scales)
    s = rt::floatToHalf(static_cast<float>(scaleDist(rng) / (64.0 * std::sqrt(k))));
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < k; ++c) {
      size_t at = static_cast<size_t>(r) * k + c;
      int q = code(rng);
      d.packed[at] = static_cast<uint8_t>(static_cast<int8_t>(q));
      d.w[at] = q * h2d(d.scales[static_cast<size_t>(r) * groups + c / group]);
    }
  return d;
}

// Random e4m3 codes, one f32 scale per row. Three rows in four draw from
// every finite code (normals, subnormals, both zeros; never the NaNs 0x7F,
// 0xFF); every fourth only from the smallest magnitudes (subnormals and
// the lowest normal binade, |code| < 0x10), with a scale that brings its
// outputs to the same size, so errors in the small codes' dequantization
// are not hidden under the large ones in rel_l2.
LinearWeightData makeFp8Weights(int n, int k) {
  LinearWeightData d;
  d.w.resize(static_cast<size_t>(n) * k);
  std::uniform_int_distribution<int> anyCode(0, 253), smallCode(0, 0x1F);
  std::uniform_real_distribution<double> scaleDist(0.5, 1.5);
  auto draw = [&](bool small) -> uint8_t {
    if (small) { // sign bit 0x10 -> 0x80, magnitude 0..0x0F
      int c = smallCode(rng);
      return static_cast<uint8_t>((c & 0x10) << 3 | (c & 0x0F));
    }
    int c = anyCode(rng); // 254 finite codes: skip 0x7F
    return static_cast<uint8_t>(c < 0x7F ? c : c + 1);
  };
  auto rms = [](bool small) {
    double sum = 0;
    int count = 0;
    for (int b = 0; b < 256; ++b) {
      if ((b & 0x7F) == 0x7F || (small && (b & 0x7F) >= 0x10))
        continue;
      double v = rt::e4m3ToFloat(static_cast<uint8_t>(b));
      sum += v * v;
      ++count;
    }
    return std::sqrt(sum / count);
  };
  const double rmsAll = rms(false), rmsSmall = rms(true);
  d.packed.resize(static_cast<size_t>(n) * k);
  d.rowScales.resize(n);
  for (int r = 0; r < n; ++r) {
    bool small = r % 4 == 3;
    d.rowScales[r] = static_cast<float>(scaleDist(rng) /
                                        ((small ? rmsSmall : rmsAll) * std::sqrt(k)));
    for (int c = 0; c < k; ++c) {
      size_t at = static_cast<size_t>(r) * k + c;
      d.packed[at] = draw(small);
      d.w[at] = static_cast<double>(rt::e4m3ToFloat(d.packed[at])) * d.rowScales[r];
    }
  }
  return d;
}

// The int8 per-token rows of f16 `x` as a quantized slot holds them
// (qtc/rt/QuantizedRows.h), quantized as the host backend quantizes.
std::vector<uint8_t> quantizedSlot(const std::vector<uint16_t> &x, int rows, int width,
                                   bool fp8 = false) {
  std::vector<uint8_t> slot(rt::quantized_rows::slotBytes(rows, width), 0xFF);
  rt::quantized_rows::quantize(
      [&](int t, int c) { return rt::halfToFloat(x[static_cast<size_t>(t) * width + c]); },
      rows, width, fp8, slot.data());
  return slot;
}

// FP8 activations x fp8 weights (the wgmma e4m3 GEMM): the slot's e4m3
// codes times the weight's, summed in f32 by the tensor cores in an order
// of their own, so against the double-precision spec within tolerance.
void checkFp8Activations(CaseResult &r, const std::vector<uint8_t> &slot,
                         const LinearWeightData &w, const std::vector<uint16_t> &bias,
                         const std::vector<uint16_t> &residual, const std::vector<uint16_t> &out,
                         int tokens, int n, int k) {
  const float *scales =
      reinterpret_cast<const float *>(&slot[rt::quantized_rows::scalesOffset(tokens, k)]);
  for (int t = 0; t < tokens; ++t)
    for (int o = 0; o < n; ++o) {
      double sum = 0;
      for (int c = 0; c < k; ++c)
        sum += double(rt::e4m3ToFloat(slot[static_cast<size_t>(t) * k + c])) *
               rt::e4m3ToFloat(w.packed[static_cast<size_t>(o) * k + c]);
      const size_t at = static_cast<size_t>(t) * n + o;
      double want = sum * scales[t] * w.rowScales[o];
      if (!bias.empty())
        want += h2d(bias[o]);
      if (!residual.empty())
        want += h2d(residual[at]);
      r.cmp.add(h2d(out[at]), want);
    }
}

// W8A8 (artifact.fbs Int8PerToken): the input slot's codes and row scales
// (quantizedSlot), exact integer dot products with the int8 weight codes,
// then the scales. Two references: the spec in double precision (within
// the usual tolerance: the kernel rounds only the f32 scaling and the f16
// store), and a replica of the kernel's f32 operations after the integer
// sum, which the output must match bit for bit (any code or sum off by one
// shows).
void checkW8A8(CaseResult &r, const std::vector<uint8_t> &slot, const LinearWeightData &w,
               const std::vector<uint16_t> &bias, const std::vector<uint16_t> &residual,
               const std::vector<uint16_t> &out, int tokens, int n, int k) {
  const float *scales =
      reinterpret_cast<const float *>(&slot[rt::quantized_rows::scalesOffset(tokens, k)]);
  for (int t = 0; t < tokens; ++t) {
    const int8_t *qx = reinterpret_cast<const int8_t *>(&slot[static_cast<size_t>(t) * k]);
    const float s = scales[t];
    for (int o = 0; o < n; ++o) {
      const int8_t *q = reinterpret_cast<const int8_t *>(&w.packed[static_cast<size_t>(o) * k]);
      int64_t sum = 0;
      for (int c = 0; c < k; ++c)
        sum += static_cast<int64_t>(qx[c]) * q[c];
      const float ws = rt::halfToFloat(w.scales[o]);
      const size_t at = static_cast<size_t>(t) * n + o;
      double want = static_cast<double>(s) * ws * static_cast<double>(sum);
      float v = static_cast<float>(sum) * (s * ws);
      if (!bias.empty()) {
        want += h2d(bias[o]);
        v += rt::halfToFloat(bias[o]);
      }
      if (!residual.empty()) {
        want += h2d(residual[at]);
        v += rt::halfToFloat(residual[at]);
      }
      r.cmp.add(h2d(out[at]), want);
      r.inexact += out[at] != rt::floatToHalf(v);
    }
  }
}

Status checkLinear(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int n = m.getInt("n"), k = m.getInt("k");
  const LinearWeights format = linearWeightsOf(m.get("kind"));
  const int group = m.getInt("group");
  const bool symmetric = m.getInt("symmetric") != 0;
  const bool hasBias = m.getInt("bias") != 0, hasResidual = m.getInt("residual") != 0;
  const bool w8a8 = m.get("activation") == "Int8PerToken";
  const bool fp8Activations = m.get("activation") == "Fp8PerToken";

  LinearWeightData data;
  switch (format) {
  case LinearWeights::F16:
    data.w.resize(static_cast<size_t>(n) * k);
    data.dense = randomHalves(static_cast<size_t>(n) * k, 1.0 / std::sqrt(k));
    for (size_t i = 0; i < data.dense.size(); ++i)
      data.w[i] = h2d(data.dense[i]);
    break;
  case LinearWeights::Int4: data = makeInt4Weights(n, k, group, symmetric); break;
  case LinearWeights::Int8: data = makeInt8Weights(n, k, group); break;
  case LinearWeights::Fp8: data = makeFp8Weights(n, k); break;
  }
  const std::vector<double> &w = data.w;
  std::vector<uint16_t> bias = hasBias ? randomHalves(n, 0.5) : std::vector<uint16_t>();

  ASSIGN_OR_RETURN(dWeight, format == LinearWeights::F16 ? h.uploadVector(data.dense)
                                                         : h.uploadVector(data.packed));
  CUdeviceptr dScales = 0, dZeros = 0, dBias = 0;
  if (!data.scales.empty()) {
    ASSIGN_OR_RETURN(s, h.uploadVector(data.scales));
    dScales = s;
  }
  if (!data.rowScales.empty()) {
    ASSIGN_OR_RETURN(s, h.uploadVector(data.rowScales));
    dScales = s;
  }
  if (!data.zeros.empty()) {
    ASSIGN_OR_RETURN(z, h.uploadVector(data.zeros));
    dZeros = z;
  }
  if (hasBias) {
    ASSIGN_OR_RETURN(b, h.uploadVector(bias));
    dBias = b;
  }

  // Decode kernels take tiles of 8 tokens, prefill kernels of 64 (W8A8: 32): cover
  // partial, whole and several tiles (fewer rows where the double-precision
  // reference would be slow).
  std::vector<int> tokenCounts = {1, 3, 8, 13};
  if (m.getInt("decode") == 0)
    tokenCounts = static_cast<long long>(n) * k > (4 << 20) ? std::vector<int>{1, 70}
                                                           : std::vector<int>{1, 13, 64, 100, 200};
  for (int tokens : tokenCounts) {
    const int guardRows = 8;
    std::vector<uint16_t> x = randomHalves(static_cast<size_t>(tokens) * k, 1.0);
    if (w8a8 && tokens > 2) // a zero row: s = 1, zero codes, zero sums
      std::fill_n(x.begin() + static_cast<size_t>(k), k, uint16_t{0});
    std::vector<uint16_t> residual =
        hasResidual ? randomHalves(static_cast<size_t>(tokens) * n, 1.0) : std::vector<uint16_t>();
    // W8A8 reads the rows' int8 codes and scales, as its producer writes them.
    const bool quantizedInput = w8a8 || fp8Activations;
    std::vector<uint8_t> slot = quantizedInput ? quantizedSlot(x, tokens, k, fp8Activations)
                                               : std::vector<uint8_t>();
    ASSIGN_OR_RETURN(dX, quantizedInput ? h.uploadVector(slot) : h.uploadVector(x));
    CUdeviceptr dResidual = 0;
    if (hasResidual) {
      ASSIGN_OR_RETURN(r, h.uploadVector(residual));
      dResidual = r;
    }
    size_t outElems = static_cast<size_t>(tokens + guardRows) * n;
    ASSIGN_OR_RETURN(dOut, h.alloc(outElems * 2));

    std::vector<KernelArg> args(abi::linear::kCount);
    args[abi::linear::kX] = KernelArg::pointer(dX);
    args[abi::linear::kWeight] = KernelArg::pointer(dWeight);
    args[abi::linear::kScales] = KernelArg::pointer(dScales);
    args[abi::linear::kZeros] = KernelArg::pointer(dZeros);
    args[abi::linear::kBias] = KernelArg::pointer(dBias);
    args[abi::linear::kResidual] = KernelArg::pointer(dResidual);
    args[abi::linear::kOut] = KernelArg::pointer(dOut);
    args[abi::linear::kNumTokens] = KernelArg::i32(tokens);
    abi::LaunchExtent extent;
    extent.numRows = tokens;
    extent.outFeatures = n;
    CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::Linear, m.tile(), extent), args));
    std::vector<uint16_t> out(outElems);
    CHECK_OK(h.download(out.data(), dOut, outElems * 2));

    CaseResult r{"linear", m.get("entry"), "tokens=" + std::to_string(tokens), {}, 2e-3};
    if (quantizedInput) {
      if (w8a8)
        checkW8A8(r, slot, data, bias, residual, out, tokens, n, k);
      else
        checkFp8Activations(r, slot, data, bias, residual, out, tokens, n, k);
      r.untouchedViolations = countWritten(out, static_cast<size_t>(tokens) * n, outElems);
      report(r);
      continue;
    }
    for (int t = 0; t < tokens; ++t)
      for (int o = 0; o < n; ++o) {
        double acc = 0;
        const double *row = &w[static_cast<size_t>(o) * k];
        for (int c = 0; c < k; ++c)
          acc += h2d(x[static_cast<size_t>(t) * k + c]) * row[c];
        if (hasBias)
          acc += h2d(bias[o]);
        if (hasResidual)
          acc += h2d(residual[static_cast<size_t>(t) * n + o]);
        r.cmp.add(h2d(out[static_cast<size_t>(t) * n + o]), acc);
      }
    r.untouchedViolations = countWritten(out, static_cast<size_t>(tokens) * n, outElems);
    report(r);
  }
  return Status::ok();
}

//===----------------------------------------------------------------------===//
// Row kernels
//===----------------------------------------------------------------------===//

Status checkEmbedding(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int vocab = m.getInt("vocab"), width = m.getInt("hidden");
  std::vector<uint16_t> table = randomHalves(static_cast<size_t>(vocab) * width, 1.0);
  std::uniform_int_distribution<int> idDist(0, vocab - 1);
  std::vector<int32_t> ids = {idDist(rng), idDist(rng), -1, vocab, idDist(rng), vocab - 1, 0};
  const int rows = static_cast<int>(ids.size()), guardRows = 2;
  ASSIGN_OR_RETURN(dTable, h.uploadVector(table));
  ASSIGN_OR_RETURN(dIds, h.uploadVector(ids));
  size_t outElems = static_cast<size_t>(rows + guardRows) * width;
  ASSIGN_OR_RETURN(dOut, h.alloc(outElems * 2));
  std::vector<KernelArg> args(abi::embedding::kCount);
  args[abi::embedding::kTable] = KernelArg::pointer(dTable);
  args[abi::embedding::kIds] = KernelArg::pointer(dIds);
  args[abi::embedding::kOut] = KernelArg::pointer(dOut);
  args[abi::embedding::kNumTokens] = KernelArg::i32(rows);
  abi::LaunchExtent extent;
  extent.numRows = rows;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::Embedding, m.tile(), extent), args));
  std::vector<uint16_t> out(outElems);
  CHECK_OK(h.download(out.data(), dOut, outElems * 2));
  CaseResult r{"embedding", m.get("entry"), "rows=7 (2 invalid ids)", {}, 0.0};
  for (int t = 0; t < rows; ++t)
    for (int c = 0; c < width; ++c) {
      bool valid = ids[t] >= 0 && ids[t] < vocab;
      double want = valid ? h2d(table[static_cast<size_t>(ids[t]) * width + c]) : 0.0;
      r.cmp.add(h2d(out[static_cast<size_t>(t) * width + c]), want);
    }
  r.untouchedViolations = countWritten(out, static_cast<size_t>(rows) * width, outElems);
  report(r);
  return Status::ok();
}

Status checkRmsNorm(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int width = m.getInt("hidden"), rows = 6, guardRows = 2;
  const double eps = m.getDouble("eps");
  std::vector<uint16_t> x = randomHalves(static_cast<size_t>(rows) * width, 2.0);
  std::vector<uint16_t> w = randomHalves(width, 0.2, 1.0);
  ASSIGN_OR_RETURN(dX, h.uploadVector(x));
  ASSIGN_OR_RETURN(dW, h.uploadVector(w));
  size_t outElems = static_cast<size_t>(rows + guardRows) * width;
  ASSIGN_OR_RETURN(dOut, h.alloc(outElems * 2));
  std::vector<KernelArg> args(abi::rms_norm::kCount);
  args[abi::rms_norm::kX] = KernelArg::pointer(dX);
  args[abi::rms_norm::kWeight] = KernelArg::pointer(dW);
  args[abi::rms_norm::kOut] = KernelArg::pointer(dOut);
  args[abi::rms_norm::kNumRows] = KernelArg::i32(rows);
  abi::LaunchExtent extent;
  extent.numRows = rows;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::RmsNorm, m.tile(), extent), args));
  std::vector<uint16_t> out(outElems);
  CHECK_OK(h.download(out.data(), dOut, outElems * 2));
  CaseResult r{"rms_norm", m.get("entry"), "rows=6", {}, 2e-3};
  for (int t = 0; t < rows; ++t) {
    double ss = 0;
    for (int c = 0; c < width; ++c)
      ss += h2d(x[static_cast<size_t>(t) * width + c]) * h2d(x[static_cast<size_t>(t) * width + c]);
    double rstd = 1.0 / std::sqrt(ss / width + eps);
    for (int c = 0; c < width; ++c)
      r.cmp.add(h2d(out[static_cast<size_t>(t) * width + c]),
                h2d(x[static_cast<size_t>(t) * width + c]) * rstd * h2d(w[c]));
  }
  r.untouchedViolations = countWritten(out, static_cast<size_t>(rows) * width, outElems);
  report(r);
  return Status::ok();
}

// The producers of int8 per-token rows (a quantizing RmsNorm, QuantizeRows):
// the slot's codes and scales after the call's rows, nothing written past
// it. QuantizeRows must equal the host's quantization (qtc/rt/
// QuantizedRows.h) bit for bit; the norm's f16 values come from
// rsqrt.approx, so its scales are held to 1e-3 of the double-precision
// reference's, its codes to one step, and s * q to the reference at int8
// resolution.
Status checkQuantizedRows(DeviceHarness &h, const ManifestEntry &m, CUfunction f, bool norm) {
  const int width = m.getInt("hidden"), rows = 7;
  const bool fp8 = m.get("activation") == "Fp8PerToken";
  const double eps = m.getDouble("eps");
  std::vector<uint16_t> x = randomHalves(static_cast<size_t>(rows) * width, 2.0);
  std::fill_n(x.begin() + 2 * width, width, uint16_t{0}); // a zero row: s = 1
  x[5 * width + 3] = rt::floatToHalf(60.0f);              // an outlier channel
  std::vector<uint16_t> w = randomHalves(width, 0.2, 1.0);
  ASSIGN_OR_RETURN(dX, h.uploadVector(x));
  ASSIGN_OR_RETURN(dW, h.uploadVector(w));
  const size_t bytes = rt::quantized_rows::slotBytes(rows, width), guard = 64;
  ASSIGN_OR_RETURN(dOut, h.alloc(bytes + guard));
  std::vector<KernelArg> args;
  args.push_back(KernelArg::pointer(dX));
  if (norm)
    args.push_back(KernelArg::pointer(dW));
  args.push_back(KernelArg::pointer(dOut));
  args.push_back(KernelArg::i32(rows));
  abi::LaunchExtent extent;
  extent.numRows = rows;
  CHECK_OK(h.launch(f, abi::launchDims(norm ? abi::KernelFamily::RmsNorm
                                            : abi::KernelFamily::QuantizeRows,
                                       m.tile(), extent),
                    args));
  std::vector<uint8_t> out(bytes + guard);
  CHECK_OK(h.download(out.data(), dOut, out.size()));

  // The rows the kernel quantizes: x itself, or x normalized (double).
  std::vector<double> y(x.size());
  for (int t = 0; t < rows; ++t) {
    double ss = 0;
    for (int c = 0; c < width; ++c)
      ss += h2d(x[t * width + c]) * h2d(x[t * width + c]);
    double rstd = 1.0 / std::sqrt(ss / width + eps);
    for (int c = 0; c < width; ++c)
      y[t * width + c] = norm ? h2d(x[t * width + c]) * rstd * h2d(w[c]) : h2d(x[t * width + c]);
  }
  std::vector<uint16_t> yHalf(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    yHalf[i] = rt::floatToHalf(static_cast<float>(y[i]));
  std::vector<uint8_t> want = quantizedSlot(yHalf, rows, width, fp8);
  // The codes are the check (bit for bit, or one step for the norm's int8);
  // s * q against the unquantized rows only bounds the grid's own error
  // (the outlier channel makes s large: ~3e-2 measured on an H100).
  CaseResult r{norm ? "rms_norm" : "quantize_rows", m.get("entry"),
               fp8 ? "rows=7 e4m3" : "rows=7 int8", {}, 8e-2};
  const size_t scalesAt = rt::quantized_rows::scalesOffset(rows, width);
  const float *gotScale = reinterpret_cast<const float *>(&out[scalesAt]);
  const float *wantScale = reinterpret_cast<const float *>(&want[scalesAt]);
  for (int t = 0; t < rows; ++t) {
    double scaleError = std::fabs(gotScale[t] - wantScale[t]) / wantScale[t];
    if (norm ? !(scaleError <= 1e-3) : gotScale[t] != wantScale[t])
      ++r.inexact;
    for (int c = 0; c < width; ++c) {
      const size_t at = static_cast<size_t>(t) * width + c;
      int got = static_cast<int8_t>(out[at]), ref = static_cast<int8_t>(want[at]);
      if (norm ? !fp8 && std::abs(got - ref) > 1 : out[at] != want[at])
        ++r.inexact;
      r.cmp.add(double(rt::quantized_rows::decode(out[at], fp8)) * gotScale[t], y[at]);
    }
  }
  for (size_t i = bytes; i < out.size(); ++i)
    r.untouchedViolations += out[i] != 0xFF;
  report(r);
  return Status::ok();
}

Status checkAdd(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int width = m.getInt("hidden"), rows = 5, guardRows = 2;
  size_t elems = static_cast<size_t>(rows) * width;
  std::vector<uint16_t> a = randomHalves(elems, 3.0), b = randomHalves(elems, 3.0);
  ASSIGN_OR_RETURN(dA, h.uploadVector(a));
  ASSIGN_OR_RETURN(dB, h.uploadVector(b));
  size_t outElems = elems + static_cast<size_t>(guardRows) * width;
  ASSIGN_OR_RETURN(dOut, h.alloc(outElems * 2));
  std::vector<KernelArg> args(abi::add::kCount);
  args[abi::add::kA] = KernelArg::pointer(dA);
  args[abi::add::kB] = KernelArg::pointer(dB);
  args[abi::add::kOut] = KernelArg::pointer(dOut);
  args[abi::add::kNumRows] = KernelArg::i32(rows);
  abi::LaunchExtent extent;
  extent.numRows = rows;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::Add, m.tile(), extent), args));
  std::vector<uint16_t> out(outElems);
  CHECK_OK(h.download(out.data(), dOut, outElems * 2));
  // The f32 sum rounded once: exact agreement expected.
  CaseResult r{"add", m.get("entry"), "rows=5", {}, 0.0};
  for (size_t i = 0; i < elems; ++i)
    r.cmp.add(h2d(out[i]), rt::roundToHalf(static_cast<float>(h2d(a[i]) + h2d(b[i]))));
  r.untouchedViolations = countWritten(out, elems, outElems);
  report(r);
  return Status::ok();
}

Status checkSwiGlu(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int width = m.getInt("hidden"), rows = 5, guardRows = 2;
  std::vector<uint16_t> x = randomHalves(static_cast<size_t>(rows) * 2 * width, 2.0);
  ASSIGN_OR_RETURN(dX, h.uploadVector(x));
  size_t outElems = static_cast<size_t>(rows + guardRows) * width;
  ASSIGN_OR_RETURN(dOut, h.alloc(outElems * 2));
  std::vector<KernelArg> args(abi::swiglu::kCount);
  args[abi::swiglu::kX] = KernelArg::pointer(dX);
  args[abi::swiglu::kOut] = KernelArg::pointer(dOut);
  args[abi::swiglu::kNumRows] = KernelArg::i32(rows);
  abi::LaunchExtent extent;
  extent.numRows = rows;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::SwiGlu, m.tile(), extent), args));
  std::vector<uint16_t> out(outElems);
  CHECK_OK(h.download(out.data(), dOut, outElems * 2));
  CaseResult r{"swiglu", m.get("entry"), "rows=5", {}, 2e-3};
  for (int t = 0; t < rows; ++t)
    for (int c = 0; c < width; ++c) {
      double g = h2d(x[static_cast<size_t>(t) * 2 * width + c]);
      double u = h2d(x[static_cast<size_t>(t) * 2 * width + width + c]);
      r.cmp.add(h2d(out[static_cast<size_t>(t) * width + c]), g / (1.0 + std::exp(-g)) * u);
    }
  r.untouchedViolations = countWritten(out, static_cast<size_t>(rows) * width, outElems);
  report(r);
  return Status::ok();
}

Status checkGatherRows(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int width = m.getInt("hidden"), inRows = 9, guardRows = 2;
  std::vector<int32_t> rows = {8, 0, 3, 3};
  const int outRows = static_cast<int>(rows.size());
  std::vector<uint16_t> x = randomHalves(static_cast<size_t>(inRows) * width, 1.0);
  ASSIGN_OR_RETURN(dX, h.uploadVector(x));
  ASSIGN_OR_RETURN(dRows, h.uploadVector(rows));
  size_t outElems = static_cast<size_t>(outRows + guardRows) * width;
  ASSIGN_OR_RETURN(dOut, h.alloc(outElems * 2));
  std::vector<KernelArg> args(abi::gather_rows::kCount);
  args[abi::gather_rows::kX] = KernelArg::pointer(dX);
  args[abi::gather_rows::kRows] = KernelArg::pointer(dRows);
  args[abi::gather_rows::kOut] = KernelArg::pointer(dOut);
  args[abi::gather_rows::kNumRows] = KernelArg::i32(outRows);
  abi::LaunchExtent extent;
  extent.numRows = outRows;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::GatherRows, m.tile(), extent), args));
  std::vector<uint16_t> out(outElems);
  CHECK_OK(h.download(out.data(), dOut, outElems * 2));
  CaseResult r{"gather_rows", m.get("entry"), "rows=4 of 9", {}, 0.0};
  for (int t = 0; t < outRows; ++t)
    for (int c = 0; c < width; ++c)
      r.cmp.add(h2d(out[static_cast<size_t>(t) * width + c]),
                h2d(x[static_cast<size_t>(rows[t]) * width + c]));
  r.untouchedViolations = countWritten(out, static_cast<size_t>(outRows) * width, outElems);
  report(r);
  return Status::ok();
}

Status checkArgmax(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int width = m.getInt("hidden"), rows = 5;
  std::vector<uint16_t> x = randomHalves(static_cast<size_t>(rows) * width, 3.0);
  // Row 1: a tie between two maxima; the lower index must win.
  std::uniform_int_distribution<int> col(0, width - 1);
  int a = col(rng), b = col(rng);
  if (a == b)
    b = (a + 1) % width;
  x[static_cast<size_t>(width) + a] = rt::floatToHalf(100.0f);
  x[static_cast<size_t>(width) + b] = rt::floatToHalf(100.0f);
  ASSIGN_OR_RETURN(dX, h.uploadVector(x));
  ASSIGN_OR_RETURN(dIds, h.alloc((rows + 1) * 4));
  std::vector<KernelArg> args(abi::argmax_rows::kCount);
  args[abi::argmax_rows::kX] = KernelArg::pointer(dX);
  args[abi::argmax_rows::kIds] = KernelArg::pointer(dIds);
  args[abi::argmax_rows::kNumRows] = KernelArg::i32(rows);
  abi::LaunchExtent extent;
  extent.numRows = rows;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::ArgmaxRows, m.tile(), extent), args));
  std::vector<int32_t> ids(rows + 1);
  CHECK_OK(h.download(ids.data(), dIds, (rows + 1) * 4));
  CaseResult r{"argmax_rows", m.get("entry"), "rows=5 (1 tie)", {}, 0.0};
  for (int t = 0; t < rows; ++t) {
    int best = 0;
    for (int c = 1; c < width; ++c)
      if (h2d(x[static_cast<size_t>(t) * width + c]) > h2d(x[static_cast<size_t>(t) * width + best]))
        best = c;
    r.cmp.add(ids[t], best);
  }
  r.untouchedViolations = ids[rows] != -1; // 0xFFFFFFFF poison
  report(r);
  return Status::ok();
}

//===----------------------------------------------------------------------===//
// RoPE + KV append, attention
//===----------------------------------------------------------------------===//

// A K or V cache array: f16 elements, OCP E4M3 bytes when the manifest
// says kv_fp8=1, or int8 per-token pages (qtc/rt/KvPage.h, [block, kv_head]
// pages of block_size slots) when it says kv_int8=1 (a missing key means
// f16). Element i is (row i / head_dim, channel i % head_dim), row = (block
// * kv_heads + kv_head) * block_size + slot. Starts out poisoned (NaN in
// either element format, the harness's 0xFF fill; a page's 0xFF scale is
// an f16 NaN, so an unwritten slot decodes to NaN).
constexpr uint8_t kPoisonE4M3 = 0xFF;
bool kvFp8(const ManifestEntry &m) { return m.getInt("kv_fp8") != 0; }
bool kvInt8(const ManifestEntry &m) { return m.getInt("kv_int8") != 0; }

struct KvCache {
  bool fp8;
  std::optional<rt::KvPageLayout> page; // int8 pages
  std::vector<uint16_t> halves;
  std::vector<uint8_t> bytes;
  KvCache(size_t elems, bool fp8) : fp8(fp8) {
    if (fp8)
      bytes.assign(elems, kPoisonE4M3);
    else
      halves.assign(elems, kPoisonHalf);
  }
  KvCache(size_t elems, const rt::KvPageLayout &l) : fp8(false), page(l) {
    const size_t rows = elems / l.headDim;
    bytes.assign(rows / l.blockSize * l.pageBytes, 0xFF);
  }
  size_t size() const {
    return page ? bytes.size() / page->pageBytes * page->blockSize * page->headDim
           : fp8 ? bytes.size()
                 : halves.size();
  }
  size_t byteSize() const { return fp8 || page ? bytes.size() : 2 * halves.size(); }
  void *data() { return fp8 || page ? static_cast<void *>(bytes.data()) : halves.data(); }
  // Stores `x` rounded to the cache's format (f16 and fp8 caches).
  void set(size_t i, double x) {
    if (fp8)
      bytes[i] = rt::floatToE4M3(static_cast<float>(x));
    else
      halves[i] = rt::floatToHalf(static_cast<float>(x));
  }
  // Stores row `row`'s head_dim values: an int8 page's slot is quantized
  // as kvPageEncodeToken does.
  void setRow(size_t row, const float *x) {
    if (!page) {
      for (int c = 0; c < headDim(); ++c)
        set(row * headDim() + c, x[c]);
      return;
    }
    rt::kvPageEncodeToken(pageAt(row), *page, static_cast<int>(row % page->blockSize), x);
  }
  double get(size_t i) const {
    if (page) {
      const size_t row = i / page->headDim;
      return rt::kvPageDecode(const_cast<KvCache *>(this)->pageAt(row), *page,
                              static_cast<int>(row % page->blockSize),
                              static_cast<int>(i % page->headDim), 0);
    }
    return fp8 ? rt::e4m3ToFloat(bytes[i]) : h2d(halves[i]);
  }
  bool poisoned(size_t i) const {
    return fp8 ? bytes[i] == kPoisonE4M3 : halves[i] == kPoisonHalf;
  }
  // Every element decoded, for the double-precision references.
  std::vector<double> decoded() const {
    std::vector<double> out(size());
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = get(i);
    return out;
  }
  StatusOr<CUdeviceptr> upload(DeviceHarness &h) const {
    return fp8 || page ? h.uploadVector(bytes) : h.uploadVector(halves);
  }

  int headDim() const { return headDimOfElements; }
  int headDimOfElements = 0; // f16/fp8 caches: set by makeKvCache
  uint8_t *pageAt(size_t row) {
    return bytes.data() + row / page->blockSize * page->pageBytes;
  }
};

// The manifest's cache of `elems` elements, keys (`keys`) or values.
KvCache makeKvCache(const ManifestEntry &m, size_t elems, bool keys) {
  if (kvInt8(m)) {
    const bool symmetric = m.getInt(keys ? "kv_key_symmetric" : "kv_value_symmetric") != 0;
    return KvCache(elems, rt::KvPageLayout::make(m.getInt("block_size"), m.getInt("head_dim"), 8,
                                                 false, symmetric, 0));
  }
  KvCache c(elems, kvFp8(m));
  c.headDimOfElements = m.getInt("head_dim");
  return c;
}

KvCache randomCache(const ManifestEntry &m, size_t elems, bool keys) {
  KvCache c = makeKvCache(m, elems, keys);
  std::normal_distribution<double> dist(0.0, 1.0);
  const int hd = m.getInt("head_dim");
  std::vector<float> row(hd);
  for (size_t r = 0; r < elems / hd; ++r) {
    for (float &x : row)
      x = static_cast<float>(dist(rng));
    c.setRow(r, row.data());
  }
  return c;
}

// An e4m3 byte the kernel wrote against the reference value `want`, which
// the kernel computed to within `slack`. The byte must be one of the codes
// floatToE4M3 gives over [want - slack, want + slack]: rounding is monotonic,
// so that is floatToE4M3(want) and, where a rounding boundary lies within
// the slack, the code across it; a slack far below the code spacing keeps it
// to these two adjacent codes, so a wrong, swapped or garbage byte fails
// (counted in cmp.bad). The decoded byte is compared with the decoded
// exact code, so rel_l2 shows how much the boundary cases moved.
void compareE4M3(CaseResult &r, uint8_t got, double want, double slack) {
  uint8_t exact = rt::floatToE4M3(static_cast<float>(want));
  bool allowed = got == exact ||
                 (slack > 0 && (got == rt::floatToE4M3(static_cast<float>(want - slack)) ||
                                got == rt::floatToE4M3(static_cast<float>(want + slack))));
  if (!allowed)
    ++r.cmp.bad;
  else
    r.cmp.add(rt::e4m3ToFloat(got), rt::e4m3ToFloat(exact));
}

struct PagedBatch {
  std::vector<int32_t> positions, tokenSeq, blockTables;
  int maxBlocksPerSeq = 0, numBlocks = 0;
};

// Sequences of the given lengths over shuffled physical blocks; tokens are
// (seq, pos) pairs.
PagedBatch makeBatch(const std::vector<int> &seqLens,
                     const std::vector<std::pair<int, int>> &tokens, int blockSize) {
  PagedBatch b;
  for (int len : seqLens)
    b.maxBlocksPerSeq = std::max(b.maxBlocksPerSeq, (len + blockSize - 1) / blockSize);
  b.numBlocks = static_cast<int>(seqLens.size()) * b.maxBlocksPerSeq + 3;
  std::vector<int32_t> physical(b.numBlocks);
  std::iota(physical.begin(), physical.end(), 0);
  std::shuffle(physical.begin(), physical.end(), rng);
  b.blockTables.assign(seqLens.size() * b.maxBlocksPerSeq, -1);
  int next = 0;
  for (size_t s = 0; s < seqLens.size(); ++s)
    for (int i = 0; i < (seqLens[s] + blockSize - 1) / blockSize; ++i)
      b.blockTables[s * b.maxBlocksPerSeq + i] = physical[next++];
  for (auto [seq, pos] : tokens) {
    b.tokenSeq.push_back(seq);
    b.positions.push_back(pos);
  }
  return b;
}

std::vector<float> inverseFrequencies(double theta, int headDim) {
  std::vector<float> inv(headDim / 2);
  for (int i = 0; i < headDim / 2; ++i)
    inv[i] = 1.0f / std::pow(static_cast<float>(theta),
                             static_cast<float>(2 * i) / static_cast<float>(headDim));
  return inv;
}

// The int8 pages RoPE + append wrote against a replica: the same tokens
// encoded by qtc/rt/KvPage.h into a buffer poisoned like the device's, keys
// from the kernel's rotated f16 k (what it quantizes; the rotation itself is
// checked against the double reference), values from the qkv rows. Every
// byte must match (bad = differing bytes: codes, scales, zeros, and the
// untouched rest of the pages); rel_l2 compares the decoded keys with the
// replica's (0 when the bytes match) and the decoded values with the f16
// values (int8 rounding, well below the 2e-2 allowed).
Status checkInt8Pages(const ManifestEntry &m, const PagedBatch &batch,
                      const std::vector<uint16_t> &qkv, const std::vector<uint16_t> &outQkv,
                      const KvCache &k, const KvCache &v) {
  const int heads = m.getInt("heads"), kvHeads = m.getInt("kv_heads");
  const int headDim = m.getInt("head_dim"), blockSize = m.getInt("block_size");
  const size_t qkvWidth = static_cast<size_t>(heads + 2 * kvHeads) * headDim;
  KvCache rk = makeKvCache(m, k.size(), true), rv = makeKvCache(m, v.size(), false);
  CaseResult c{"rope_kv_append", m.get("entry"), "int8 pages", {}, 2e-2};
  std::vector<float> x(headDim);
  for (size_t t = 0; t < batch.positions.size(); ++t) {
    const int pos = batch.positions[t], seq = batch.tokenSeq[t];
    const int block = batch.blockTables[seq * batch.maxBlocksPerSeq + pos / blockSize];
    for (int kvh = 0; kvh < kvHeads; ++kvh) {
      const size_t row = (static_cast<size_t>(block) * kvHeads + kvh) * blockSize + pos % blockSize;
      for (auto [cache, src, head] : {std::tuple{&rk, &outQkv, heads + kvh},
                                      std::tuple{&rv, &qkv, heads + kvHeads + kvh}}) {
        for (int d = 0; d < headDim; ++d)
          x[d] = static_cast<float>(h2d((*src)[t * qkvWidth + head * headDim + d]));
        cache->setRow(row, x.data());
      }
      for (int d = 0; d < headDim; ++d) {
        c.cmp.add(k.get(row * headDim + d), rk.get(row * headDim + d));
        c.cmp.add(v.get(row * headDim + d), h2d(qkv[t * qkvWidth + (heads + kvHeads + kvh) * headDim + d]));
      }
    }
  }
  for (auto [got, want] : {std::pair{&k, &rk}, std::pair{&v, &rv}})
    for (size_t i = 0; i < got->bytes.size(); ++i)
      c.cmp.bad += got->bytes[i] != want->bytes[i];
  report(c);
  return Status::ok();
}

Status checkRopeKvAppend(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  const int heads = m.getInt("heads"), kvHeads = m.getInt("kv_heads");
  const int headDim = m.getInt("head_dim"), blockSize = m.getInt("block_size");
  const int qkvWidth = (heads + 2 * kvHeads) * headDim, half = headDim / 2;
  PagedBatch batch = makeBatch({5, 38, 18, 1000},
                               {{0, 0}, {0, 1}, {0, 4}, {1, 37}, {2, 15}, {2, 16}, {2, 17}, {3, 999}},
                               blockSize);
  const int tokens = static_cast<int>(batch.positions.size());
  const bool fp8 = kvFp8(m);
  std::vector<uint16_t> qkv = randomHalves(static_cast<size_t>(tokens) * qkvWidth, 1.0);
  if (fp8) {
    // The e4m3 edge cases among the first token's values (which go to the
    // cache unrotated): saturation (infinities included), the largest
    // codes, ties to even among normal and subnormal codes, signed zero.
    const double sub = std::ldexp(1.0, -10); // half a subnormal step
    const double edges[] = {448,      -448,      464,     480,     1000,     -65504,
                            HUGE_VAL, -HUGE_VAL, sub,     3 * sub, -5 * sub, 17 * sub,
                            0.0,      -0.0,      0.78125, -2.625,  2.875,    232,
                            248};
    for (size_t e = 0; e < std::size(edges); ++e)
      qkv[(heads + kvHeads) * headDim + e] = rt::floatToHalf(static_cast<float>(edges[e]));
  }
  ASSIGN_OR_RETURN(dQkv, h.uploadVector(qkv));
  ASSIGN_OR_RETURN(dPositions, h.uploadVector(batch.positions));
  ASSIGN_OR_RETURN(dTokenSeq, h.uploadVector(batch.tokenSeq));
  ASSIGN_OR_RETURN(dTables, h.uploadVector(batch.blockTables));
  size_t cacheElems = static_cast<size_t>(batch.numBlocks) * kvHeads * blockSize * headDim;
  const bool int8 = kvInt8(m);
  KvCache k = makeKvCache(m, cacheElems, true), v = makeKvCache(m, cacheElems, false);
  ASSIGN_OR_RETURN(dK, h.alloc(k.byteSize()));
  ASSIGN_OR_RETURN(dV, h.alloc(v.byteSize()));
  std::vector<KernelArg> args(abi::rope_kv_append::kCount);
  args[abi::rope_kv_append::kQkv] = KernelArg::pointer(dQkv);
  args[abi::rope_kv_append::kKCache] = KernelArg::pointer(dK);
  args[abi::rope_kv_append::kVCache] = KernelArg::pointer(dV);
  args[abi::rope_kv_append::kPositions] = KernelArg::pointer(dPositions);
  args[abi::rope_kv_append::kTokenSeq] = KernelArg::pointer(dTokenSeq);
  args[abi::rope_kv_append::kBlockTables] = KernelArg::pointer(dTables);
  args[abi::rope_kv_append::kNumTokens] = KernelArg::i32(tokens);
  args[abi::rope_kv_append::kMaxBlocksPerSeq] = KernelArg::i32(batch.maxBlocksPerSeq);
  abi::LaunchExtent extent;
  extent.numRows = tokens;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::RopeKvAppend, m.tile(), extent), args));
  std::vector<uint16_t> outQkv(qkv.size());
  CHECK_OK(h.download(outQkv.data(), dQkv, qkv.size() * 2));
  CHECK_OK(h.download(k.data(), dK, k.byteSize()));
  CHECK_OK(h.download(v.data(), dV, v.byteSize()));

  std::vector<float> inv = inverseFrequencies(m.getDouble("theta"), headDim);
  CaseResult r{"rope_kv_append", m.get("entry"), "tokens=8 seqs=4", {}, 1e-3};
  // fp8: the cache's bytes checked code by code (compareE4M3); rel_l2 is
  // nonzero only where a key took the code across a rounding boundary.
  CaseResult c{"rope_kv_append", m.get("entry"), "e4m3 cache", {}, 1e-2};
  // The kernel's f32 keys differ from the double reference by the sin/cos
  // approximation (2^-20.5 absolute) and f32 rounding, times |x1| + |x2|:
  // below 1e-6 of it, allowed 1e-5. Values are f16 inputs converted once,
  // exact in f32: no slack.
  auto cacheKey = [&](size_t at, double want, double x1, double x2) {
    if (fp8)
      compareE4M3(c, k.bytes[at], want, 1e-5 * (std::fabs(x1) + std::fabs(x2)) + 1e-7);
    else
      r.cmp.add(k.get(at), want);
  };
  std::vector<char> written(cacheElems, 0);
  for (int t = 0; t < tokens; ++t) {
    int pos = batch.positions[t], seq = batch.tokenSeq[t];
    int block = batch.blockTables[seq * batch.maxBlocksPerSeq + pos / blockSize];
    const uint16_t *in = &qkv[static_cast<size_t>(t) * qkvWidth];
    const uint16_t *got = &outQkv[static_cast<size_t>(t) * qkvWidth];
    auto cacheAt = [&](int kvHead, int d) {
      return ((static_cast<size_t>(block) * kvHeads + kvHead) * blockSize + pos % blockSize) * headDim + d;
    };
    for (int hd = 0; hd < heads + kvHeads; ++hd)
      for (int i = 0; i < half; ++i) {
        double angle = static_cast<float>(pos) * inv[i];
        double x1 = h2d(in[hd * headDim + i]), x2 = h2d(in[hd * headDim + i + half]);
        double y1 = x1 * std::cos(angle) - x2 * std::sin(angle);
        double y2 = x2 * std::cos(angle) + x1 * std::sin(angle);
        r.cmp.add(h2d(got[hd * headDim + i]), y1);
        r.cmp.add(h2d(got[hd * headDim + i + half]), y2);
        if (hd >= heads && !int8) {
          size_t at = cacheAt(hd - heads, i);
          cacheKey(at, y1, x1, x2);
          cacheKey(at + half, y2, x1, x2);
          written[at] = written[at + half] = 1;
        }
      }
    for (int kvh = 0; kvh < kvHeads && !int8; ++kvh)
      for (int d = 0; d < headDim; ++d) {
        size_t at = cacheAt(kvh, d);
        double want = h2d(in[(heads + kvHeads + kvh) * headDim + d]);
        if (fp8)
          compareE4M3(c, v.bytes[at], want, 0.0);
        else
          r.cmp.add(v.get(at), want);
        written[at] |= 2;
      }
  }
  if (int8) {
    report(r);
    return checkInt8Pages(m, batch, qkv, outQkv, k, v);
  }
  for (size_t i = 0; i < cacheElems; ++i) {
    r.untouchedViolations += !(written[i] & 1) && !k.poisoned(i);
    r.untouchedViolations += !(written[i] & 2) && !v.poisoned(i);
  }
  report(r);
  if (fp8)
    report(c);
  return Status::ok();
}

// Attention over sequences of lengths `lens` (cached positions 0..len-1) for
// the given (seq, pos) token rows, against a double-precision reference.
// Uploads q|k|v, the K/V caches and the batch metadata and returns the
// attention family's argument list (KernelAbi.h) writing to `out`.
rt::StatusOr<std::vector<KernelArg>>
attentionArgs(DeviceHarness &h, const PagedBatch &batch, const std::vector<uint16_t> &qkv,
              const KvCache &k, const KvCache &v, CUdeviceptr out) {
  ASSIGN_OR_RETURN(dQkv, h.uploadVector(qkv));
  ASSIGN_OR_RETURN(dK, k.upload(h));
  ASSIGN_OR_RETURN(dV, v.upload(h));
  ASSIGN_OR_RETURN(dPositions, h.uploadVector(batch.positions));
  ASSIGN_OR_RETURN(dTokenSeq, h.uploadVector(batch.tokenSeq));
  ASSIGN_OR_RETURN(dTables, h.uploadVector(batch.blockTables));
  std::vector<KernelArg> args(abi::attention::kCount);
  args[abi::attention::kQkv] = KernelArg::pointer(dQkv);
  args[abi::attention::kKCache] = KernelArg::pointer(dK);
  args[abi::attention::kVCache] = KernelArg::pointer(dV);
  args[abi::attention::kPositions] = KernelArg::pointer(dPositions);
  args[abi::attention::kTokenSeq] = KernelArg::pointer(dTokenSeq);
  args[abi::attention::kBlockTables] = KernelArg::pointer(dTables);
  args[abi::attention::kOut] = KernelArg::pointer(out);
  args[abi::attention::kNumTokens] = KernelArg::i32(static_cast<int>(batch.positions.size()));
  args[abi::attention::kMaxBlocksPerSeq] = KernelArg::i32(batch.maxBlocksPerSeq);
  return args;
}

Status checkAttentionCase(DeviceHarness &h, const ManifestEntry &m, CUfunction f,
                          const std::vector<int> &lens,
                          const std::vector<std::pair<int, int>> &rows,
                          const std::string &label) {
  const int heads = m.getInt("heads"), kvHeads = m.getInt("kv_heads");
  const int headDim = m.getInt("head_dim"), blockSize = m.getInt("block_size");
  const int qkvWidth = (heads + 2 * kvHeads) * headDim, group = heads / kvHeads;
  PagedBatch batch = makeBatch(lens, rows, blockSize);
  const int tokens = static_cast<int>(batch.positions.size());
  size_t cacheElems = static_cast<size_t>(batch.numBlocks) * kvHeads * blockSize * headDim;
  // Cached positions hold random keys/values (f16, or e4m3 bytes that the
  // reference decodes like the kernel); every other slot stays NaN so that a
  // read past a token's position poisons its output.
  // int8: each slot's rows quantized into its pages by qtc/rt/KvPage.h,
  // the reference reading what the pages decode to.
  KvCache k = makeKvCache(m, cacheElems, true), v = makeKvCache(m, cacheElems, false);
  std::normal_distribution<double> dist(0.0, 1.0);
  auto at = [&](int seq, int pos, int kvHead, int d) {
    int block = batch.blockTables[seq * batch.maxBlocksPerSeq + pos / blockSize];
    return ((static_cast<size_t>(block) * kvHeads + kvHead) * blockSize + pos % blockSize) * headDim + d;
  };
  std::vector<float> kRow(headDim), vRow(headDim);
  for (size_t s = 0; s < lens.size(); ++s)
    for (int p = 0; p < lens[s]; ++p)
      for (int kvh = 0; kvh < kvHeads; ++kvh) {
        for (int d = 0; d < headDim; ++d) {
          kRow[d] = static_cast<float>(dist(rng));
          vRow[d] = static_cast<float>(dist(rng));
        }
        size_t row = at(static_cast<int>(s), p, kvh, 0) / headDim;
        k.setRow(row, kRow.data());
        v.setRow(row, vRow.data());
      }
  // Tokens at the end of their sequence (seqs 0, 1, 3) would read NaN past
  // their position; the others sit inside their sequence (prefill rows).
  std::vector<uint16_t> qkv = randomHalves(static_cast<size_t>(tokens) * qkvWidth, 1.0);
  const int outWidth = heads * headDim, guardRows = 2;
  size_t outElems = static_cast<size_t>(tokens + guardRows) * outWidth;
  ASSIGN_OR_RETURN(dOut, h.alloc(outElems * 2));
  ASSIGN_OR_RETURN(args, attentionArgs(h, batch, qkv, k, v, dOut));
  abi::LaunchExtent extent;
  extent.numRows = tokens;
  extent.numKvHeads = kvHeads;
  CHECK_OK(h.launch(f, abi::launchDims(abi::KernelFamily::Attention, m.tile(), extent), args));
  std::vector<uint16_t> out(outElems);
  CHECK_OK(h.download(out.data(), dOut, outElems * 2));

  CaseResult r{"attention", m.get("entry"), label, {}, 3e-3};
  const std::vector<double> kValues = k.decoded(), vValues = v.decoded();
  const double scale = 1.0 / std::sqrt(static_cast<double>(headDim));
  for (int t = 0; t < tokens; ++t) {
    int seq = batch.tokenSeq[t], pos = batch.positions[t];
    for (int hd = 0; hd < heads; ++hd) {
      int kvh = hd / group;
      std::vector<double> scores(pos + 1);
      double mx = -1e300;
      for (int j = 0; j <= pos; ++j) {
        double s = 0;
        for (int d = 0; d < headDim; ++d)
          s += h2d(qkv[static_cast<size_t>(t) * qkvWidth + hd * headDim + d]) *
               kValues[at(seq, j, kvh, d)];
        scores[j] = s * scale;
        mx = std::max(mx, scores[j]);
      }
      double sum = 0;
      for (double &s : scores)
        sum += (s = std::exp(s - mx));
      for (int d = 0; d < headDim; ++d) {
        double o = 0;
        for (int j = 0; j <= pos; ++j)
          o += scores[j] * vValues[at(seq, j, kvh, d)];
        r.cmp.add(h2d(out[static_cast<size_t>(t) * outWidth + hd * headDim + d]), o / sum);
      }
    }
  }
  r.untouchedViolations = countWritten(out, static_cast<size_t>(tokens) * outWidth, outElems);
  report(r);
  return Status::ok();
}

// Time (no check) of one prompt of `length` tokens as a single prefill
// batch: rows at positions 0..length-1 of one sequence, random cache.
// Printed for comparing kernels in one run; never asserted.
Status timeAttentionPrefill(DeviceHarness &h, const ManifestEntry &m, CUfunction f,
                            int length) {
  const int heads = m.getInt("heads"), kvHeads = m.getInt("kv_heads");
  const int headDim = m.getInt("head_dim"), blockSize = m.getInt("block_size");
  const int qkvWidth = (heads + 2 * kvHeads) * headDim;
  std::vector<std::pair<int, int>> rows;
  for (int p = 0; p < length; ++p)
    rows.push_back({0, p});
  PagedBatch batch = makeBatch({length}, rows, blockSize);
  size_t cacheElems = static_cast<size_t>(batch.numBlocks) * kvHeads * blockSize * headDim;
  ASSIGN_OR_RETURN(dOut, h.alloc(static_cast<size_t>(length) * heads * headDim * 2));
  ASSIGN_OR_RETURN(args, attentionArgs(h, batch,
                                       randomHalves(static_cast<size_t>(length) * qkvWidth, 1.0),
                                       randomCache(m, cacheElems, true),
                                       randomCache(m, cacheElems, false), dOut));
  abi::LaunchExtent extent;
  extent.numRows = length;
  extent.numKvHeads = kvHeads;
  abi::LaunchDims dims = abi::launchDims(abi::KernelFamily::Attention, m.tile(), extent);
  std::vector<float> ms;
  for (int rep = 0; rep < 21; ++rep) {
    ASSIGN_OR_RETURN(t, h.time([&] { return h.launch(f, dims, args); }));
    if (rep > 0)
      ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("time  attention      %-58s prompt=%d: %.1f us (median of %zu)\n",
              m.get("entry").c_str(), length, 1000.0 * ms[ms.size() / 2], ms.size());
  return Status::ok();
}

Status checkAttention(DeviceHarness &h, const ManifestEntry &m, CUfunction f) {
  // Decode-like rows: scattered positions of five sequences.
  CHECK_OK(checkAttentionCase(
      h, m, f, {1, 16, 33, 300, 77},
      {{0, 0}, {1, 15}, {2, 20}, {2, 32}, {3, 299}, {4, 0}, {4, 63}, {4, 76}},
      "tokens=8 ctx<=300"));
  // Prefill-like rows: whole prompts and continued chunks of four sequences
  // (lengths not multiples of 16, so 16-row tiles span sequence boundaries,
  // and 116 rows leave a partial last tile), then a tile of rows from
  // different sequences in shuffled order.
  std::vector<int> lens = {37, 16, 5, 100};
  std::vector<std::pair<int, int>> rows;
  for (int p = 0; p < 37; ++p) rows.push_back({0, p});
  for (int p = 0; p < 16; ++p) rows.push_back({1, p});
  for (int p = 2; p < 5; ++p) rows.push_back({2, p});
  for (int p = 40; p < 100; ++p) rows.push_back({3, p});
  CHECK_OK(checkAttentionCase(h, m, f, lens, rows, "prefill 4 seqs, 116 rows"));
  std::vector<std::pair<int, int>> mixed = {{3, 99}, {0, 36}, {3, 17}, {2, 0}, {1, 15},
                                            {0, 0}, {3, 64}, {2, 4}, {1, 3}};
  CHECK_OK(checkAttentionCase(h, m, f, lens, mixed, "mixed rows, 4 seqs"));
  if (m.getInt("heads") >= 32)
    for (int length : {512, 2048})
      CHECK_OK(timeAttentionPrefill(h, m, f, length));
  return Status::ok();
}

Status checkKernel(DeviceHarness &h, const std::string &dir, const ManifestEntry &m) {
  ASSIGN_OR_RETURN(f, h.loadKernel(dir + "/" + m.get("entry") + ".ptx", m.get("entry")));
  std::string kind = m.get("kind");
  if (isLinearKind(kind))
    return checkLinear(h, m, f);
  if (kind == "embedding")
    return checkEmbedding(h, m, f);
  const bool quantizing = m.get("activation") != "None";
  if (kind == "rms-norm")
    return quantizing ? checkQuantizedRows(h, m, f, /*norm=*/true) : checkRmsNorm(h, m, f);
  if (kind == "quantize-rows")
    return checkQuantizedRows(h, m, f, /*norm=*/false);
  if (kind == "add")
    return checkAdd(h, m, f);
  if (kind == "swiglu")
    return checkSwiGlu(h, m, f);
  if (kind == "gather-rows")
    return checkGatherRows(h, m, f);
  if (kind == "argmax")
    return checkArgmax(h, m, f);
  if (kind == "rope-kv-append")
    return checkRopeKvAppend(h, m, f);
  if (kind == "attention")
    return checkAttention(h, m, f);
  return rt::invalidArgument("no check for kernel kind '" + kind + "'");
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kernel-check <ptx-dir> [--seed N]\n");
    return 2;
  }
  std::string dir = argv[1];
  uint64_t seed = std::random_device{}();
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--seed") == 0)
      seed = std::stoull(argv[i + 1]);
  rng.seed(seed);
  std::printf("kernel-check: seed %llu\n", static_cast<unsigned long long>(seed));

  StatusOr<std::unique_ptr<DeviceHarness>> harness = DeviceHarness::create();
  if (!harness.isOk()) {
    std::fprintf(stderr, "kernel-check: %s\n", harness.status().toString().c_str());
    return 1;
  }
  std::printf("kernel-check: device %s\n", (*harness)->deviceKey().c_str());
  StatusOr<std::vector<ManifestEntry>> manifest = gpu::readManifest(dir);
  if (!manifest.isOk()) {
    std::fprintf(stderr, "kernel-check: %s\n", manifest.status().toString().c_str());
    return 1;
  }
  for (const ManifestEntry &m : *manifest) {
    Status s = checkKernel(**harness, dir, m);
    if (!s.isOk()) {
      ++failures;
      std::printf("ERROR %-14s %s: %s\n", m.get("kind").c_str(), m.get("entry").c_str(),
                  s.toString().c_str());
    }
  }
  std::printf("kernel-check: %zu cases, %d failed\n", results.size(), failures);
  return failures == 0 ? 0 : 1;
}
