//===- DummyWeights.cpp - Generated weights for benchmarks ----------------===//

#include "DummyWeights.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace qtc::rt {
namespace {

// SplitMix64: tiny, fast, and good enough to fill benchmark weights.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }

private:
  uint64_t state_;
};

// The stream of tensor `index`: independent of every other tensor's.
SplitMix64 tensorStream(uint64_t seed, int index) {
  SplitMix64 mix(seed);
  return SplitMix64(mix.next() ^ (static_cast<uint64_t>(index) + 1) * 0xd1b54a32d192ed03ull);
}

constexpr int kTableBits = 16;
constexpr size_t kTableSize = size_t(1) << kTableBits;

// Standard normal quantiles at (i + 0.5) / kTableSize: a uniform 16-bit
// index into this table is a draw from a normal distribution rounded to
// 65536 levels, with tails bounded at about 4.3 standard deviations. A
// table lookup per value keeps a 13 GB model's generation at memory speed.
const std::vector<float> &normalQuantiles() {
  static const std::vector<float> table = [] {
    std::vector<float> z(kTableSize);
    for (size_t i = 0; i < kTableSize / 2; ++i) {
      // Upper half by symmetry: find x with P(Z > x) = p by bisection.
      double p = (static_cast<double>(i) + 0.5) / kTableSize;
      double lo = 0, hi = 10;
      for (int step = 0; step < 48; ++step) {
        double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(mid / std::sqrt(2.0)) > p ? lo : hi) = mid;
      }
      float x = static_cast<float>(0.5 * (lo + hi));
      z[kTableSize - 1 - i] = x;
      z[i] = -x;
    }
    return z;
  }();
  return table;
}

// Normal values of `mean` and `std`, encoded in a float dtype.
template <typename T, T (*Encode)(float)>
std::vector<T> encodedNormal(float mean, float std) {
  const std::vector<float> &z = normalQuantiles();
  std::vector<T> table(kTableSize);
  for (size_t i = 0; i < kTableSize; ++i)
    table[i] = Encode(mean + std * z[i]);
  return table;
}

float identity(float f) { return f; }

// The encoded tables of one distribution, per float dtype.
struct NormalTables {
  std::vector<float> f32;
  std::vector<uint16_t> f16, bf16;
  NormalTables(float mean, float std)
      : f32(encodedNormal<float, identity>(mean, std)),
        f16(encodedNormal<uint16_t, floatToHalf>(mean, std)),
        bf16(encodedNormal<uint16_t, floatToBf16>(mean, std)) {}
};

const NormalTables &normTables() {
  static const NormalTables tables(DummyWeights::kNormMean, DummyWeights::kNormStd);
  return tables;
}
const NormalTables &weightTables() {
  static const NormalTables tables(0.0f, DummyWeights::kWeightStd);
  return tables;
}

template <typename T>
void fillFromTable(const std::vector<T> &table, SplitMix64 &rng, T *out, size_t count) {
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    uint64_t r = rng.next();
    out[i] = table[r & 0xffff];
    out[i + 1] = table[(r >> 16) & 0xffff];
    out[i + 2] = table[(r >> 32) & 0xffff];
    out[i + 3] = table[r >> 48];
  }
  for (uint64_t r = rng.next(); i < count; ++i, r >>= 16)
    out[i] = table[r & 0xffff];
}

// Writes `count` values of `dtype` (a float dtype) drawn from `tables`.
void fillNormal(const NormalTables &tables, fb::DType dtype, SplitMix64 &rng, uint8_t *out,
                size_t count) {
  // `out` need not be aligned for T: fill an aligned chunk, then copy.
  auto chunked = [&](const auto &table) {
    using T = typename std::decay_t<decltype(table)>::value_type;
    constexpr size_t kChunk = 4096;
    std::array<T, kChunk> chunk;
    for (size_t done = 0; done < count; done += kChunk) {
      size_t n = std::min(kChunk, count - done);
      fillFromTable(table, rng, chunk.data(), n);
      std::memcpy(out + done * sizeof(T), chunk.data(), n * sizeof(T));
    }
  };
  switch (dtype) {
  case fb::DType::F32:
    chunked(tables.f32);
    break;
  case fb::DType::BF16:
    chunked(tables.bf16);
    break;
  default: // F16: the validator admits only f32, f16 and bf16 float weights
    chunked(tables.f16);
    break;
  }
}

void fillRandomBytes(SplitMix64 &rng, uint8_t *out, size_t size) {
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t r = rng.next();
    std::memcpy(out + i, &r, 8);
  }
  for (uint64_t r = rng.next(); i < size; ++i, r >>= 8)
    out[i] = static_cast<uint8_t>(r);
}

// `count` scales of `dtype` (f16 or f32): base times [0.75, 1.25).
void fillScales(float base, fb::DType dtype, SplitMix64 &rng, uint8_t *out, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    float scale = base * (0.75f + 0.5f * rng.uniform());
    if (dtype == fb::DType::F32) {
      std::memcpy(out + 4 * i, &scale, 4);
    } else {
      uint16_t half = floatToHalf(scale);
      std::memcpy(out + 2 * i, &half, 2);
    }
  }
}

size_t elementCount(const fb::TensorInfo &info) {
  size_t count = 1;
  for (int64_t dim : *info.shape())
    count *= static_cast<size_t>(dim);
  return count;
}

} // namespace

const char *dummyRoleName(DummyRole role) {
  switch (role) {
  case DummyRole::kUnused: return "unused";
  case DummyRole::kNormWeight: return "norm weight";
  case DummyRole::kFloatWeight: return "float weight";
  case DummyRole::kInt4Codes: return "int4 codes";
  case DummyRole::kInt4Scales: return "int4 scales";
  case DummyRole::kInt4Zeros: return "int4 zero points";
  case DummyRole::kInt8Codes: return "int8 codes";
  case DummyRole::kInt8Scales: return "int8 scales";
  case DummyRole::kFp8Codes: return "fp8 codes";
  case DummyRole::kFp8Scales: return "fp8 scales";
  }
  return "unknown role";
}

double DummyWeights::int4CodeRms() {
  // q - zero for q uniform in [0, 15] and zero 8, or 7 or 8 alike:
  // E[(q - z)^2] = var(q) + (E[q] - z)^2 = 21.25 + 0.25.
  return std::sqrt(21.5);
}

double DummyWeights::int8CodeRms() {
  // q uniform in [-128, 127]: E[q^2] = (2 * sum_{k<=127} k^2 + 128^2) / 256.
  return std::sqrt(5461.5);
}

double DummyWeights::fp8CodeRms() {
  static const double rms = [] {
    double sum = 0;
    for (int code = 0; code < 256; ++code) {
      float v = (code & 0x7f) == 0x7f ? 0.0f : e4m3ToFloat(static_cast<uint8_t>(code));
      sum += static_cast<double>(v) * v;
    }
    return std::sqrt(sum / 256);
  }();
  return rms;
}

DummyWeights::DummyWeights(const fb::Artifact &artifact, uint64_t seed)
    : artifact_(artifact), seed_(seed),
      roles_(artifact.tensors()->size(), DummyRole::kUnused) {
  auto assign = [&](const fb::Step &step, size_t operand, DummyRole role) {
    if (!step.weights() || operand >= step.weights()->size())
      return;
    int index = step.weights()->Get(operand);
    if (index >= 0 && roles_[index] == DummyRole::kUnused)
      roles_[index] = role;
  };
  for (const fb::Step *step : *artifact.plan()->steps()) {
    switch (step->kind()) {
    case fb::StepKind::Embedding:
      assign(*step, 0, DummyRole::kFloatWeight);
      break;
    case fb::StepKind::RmsNorm:
      assign(*step, 0, DummyRole::kNormWeight);
      break;
    case fb::StepKind::Linear:
      switch (step->format()) {
      case fb::WeightFormat::Int4Group:
        assign(*step, 0, DummyRole::kInt4Codes);
        assign(*step, 1, DummyRole::kInt4Scales);
        assign(*step, 2, DummyRole::kInt4Zeros);
        break;
      case fb::WeightFormat::Int8Group:
        assign(*step, 0, DummyRole::kInt8Codes);
        assign(*step, 1, DummyRole::kInt8Scales);
        break;
      case fb::WeightFormat::Fp8Channel:
        assign(*step, 0, DummyRole::kFp8Codes);
        assign(*step, 1, DummyRole::kFp8Scales);
        break;
      default: // Dense
        assign(*step, 0, DummyRole::kFloatWeight);
        break;
      }
      assign(*step, 3, DummyRole::kFloatWeight); // bias
      break;
    default: // the other kinds take no weights
      break;
    }
  }
}

void DummyWeights::fill(int tensorIndex, uint8_t *out) const {
  const fb::TensorInfo &info = *artifact_.tensors()->Get(tensorIndex);
  const size_t size = info.size();
  SplitMix64 rng = tensorStream(seed_, tensorIndex);
  switch (roles_[tensorIndex]) {
  case DummyRole::kUnused:
    std::memset(out, 0, size);
    break;
  case DummyRole::kNormWeight:
    fillNormal(normTables(), info.dtype(), rng, out, elementCount(info));
    break;
  case DummyRole::kFloatWeight:
    fillNormal(weightTables(), info.dtype(), rng, out, elementCount(info));
    break;
  case DummyRole::kInt4Codes:
  case DummyRole::kInt8Codes:
    fillRandomBytes(rng, out, size);
    break;
  case DummyRole::kFp8Codes:
    fillRandomBytes(rng, out, size);
    for (size_t i = 0; i < size; ++i)
      if ((out[i] & 0x7f) == 0x7f)
        out[i] &= 0x80; // NaN -> signed zero
    break;
  case DummyRole::kInt4Scales:
    fillScales(static_cast<float>(kWeightStd / int4CodeRms()), info.dtype(), rng, out,
               elementCount(info));
    break;
  case DummyRole::kInt8Scales:
    fillScales(static_cast<float>(kWeightStd / int8CodeRms()), info.dtype(), rng, out,
               elementCount(info));
    break;
  case DummyRole::kFp8Scales:
    fillScales(static_cast<float>(kWeightStd / fp8CodeRms()), info.dtype(), rng, out,
               elementCount(info));
    break;
  case DummyRole::kInt4Zeros: {
    const size_t count = elementCount(info);
    const uint16_t seven = floatToHalf(7.0f), eight = floatToHalf(8.0f);
    for (size_t i = 0; i < count; i += 64) {
      uint64_t bits = rng.next();
      for (size_t j = i; j < std::min(count, i + 64); ++j, bits >>= 1) {
        uint16_t zero = (bits & 1) ? eight : seven;
        std::memcpy(out + 2 * j, &zero, 2);
      }
    }
    break;
  }
  }
}

} // namespace qtc::rt
