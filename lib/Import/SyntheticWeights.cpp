//===- SyntheticWeights.cpp - Deterministic random tensor contents --------===//
//
// The generator is splitmix64 used as a counter: output i of the stream with
// key k is mix(k + (i + 1) * golden), which is exactly the i-th output of
// splitmix64 seeded with k. Being a function of i, it needs no state to
// split across threads or chunks. <random> is not used: its distributions
// are implementation-defined (libstdc++ and libc++ give different
// normal_distribution values for one seed, so a seed would not reproduce a
// checkpoint across toolchains), normal_distribution costs a log and a
// square root per pair and a rejection loop, and its engines cannot jump to
// element i. One 64-bit output here yields one value from four 16-bit
// uniforms: a few integer operations per element, about 10^9 elements a
// second per core.
//
//===----------------------------------------------------------------------===//

#include "SyntheticWeights.h"

#include "qtc/rt/Float16.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/xxhash.h"


using namespace qtc;

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A draw with mean 0 and variance 1: four uniforms on 0..65535 sum to mean
// 131070 and variance 4 * (65536^2 - 1) / 12, about 65536^2 / 3.
inline float standardDraw(uint64_t bits) {
  constexpr float kScale = 1.7320508075688772f / 65536.0f;
  uint32_t sum = static_cast<uint32_t>(bits & 0xffff) +
                 static_cast<uint32_t>((bits >> 16) & 0xffff) +
                 static_cast<uint32_t>((bits >> 32) & 0xffff) +
                 static_cast<uint32_t>(bits >> 48);
  return static_cast<float>(static_cast<int32_t>(sum) - 131070) * kScale;
}

template <typename Bits, Bits (*Encode)(float)>
void fill(uint64_t key, SyntheticDistribution distribution, uint64_t first,
          size_t count, uint8_t *out) {
  uint64_t counter = key + (first + 1) * kGolden;
  for (size_t i = 0; i < count; ++i, counter += kGolden) {
    float value = distribution.mean +
                  distribution.stddev * standardDraw(mix64(counter));
    llvm::support::endian::write<Bits, llvm::endianness::little>(
        out + i * sizeof(Bits), Encode(value));
  }
}

} // namespace

uint64_t qtc::syntheticStreamKey(uint64_t seed, llvm::StringRef name) {
  return mix64(llvm::xxh3_64bits(name) ^ mix64(seed + kGolden));
}

void qtc::fillSyntheticElements(uint64_t key,
                                SyntheticDistribution distribution,
                                DType dtype, uint64_t first,
                                llvm::MutableArrayRef<uint8_t> out) {
  size_t count = out.size() / dtypeByteSize(dtype);
  switch (dtype) {
  case DType::F16:
    return fill<uint16_t, rt::floatToHalf>(key, distribution, first, count,
                                           out.data());
  case DType::BF16:
    return fill<uint16_t, rt::floatToBf16>(key, distribution, first, count,
                                           out.data());
  case DType::F32:
    return fill<uint32_t, rt::floatBits>(key, distribution, first, count,
                                         out.data());
  default:
    llvm_unreachable("synthetic weights are f32, f16 or bf16");
  }
}
