//===- WeightPacking.cpp - Weights in the layouts the kernels read --------===//

#include "WeightPacking.h"

#include "qtc/Import/WeightStore.h"
#include "qtc/rt/Float16.h"

#include "mlir/IR/Diagnostics.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace qtc {

std::vector<uint8_t> packF16(ArrayRef<float> values) {
  std::vector<uint8_t> bytes(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t h = rt::floatToHalf(values[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return bytes;
}

namespace {

template <typename T> void appendBytes(std::vector<uint8_t> &dst, const std::vector<T> &src) {
  const auto *bytes = reinterpret_cast<const uint8_t *>(src.data());
  dst.insert(dst.end(), bytes, bytes + src.size() * sizeof(T));
}

void appendIntGroup(const quant::IntGroupWeight &q, ArtifactLinearLayout &layout) {
  layout.scaleColumns = q.groupsPerRow();
  appendBytes(layout.scales, q.scales);
  if (!q.symmetric)
    appendBytes(layout.zeros, q.zeros);
  if (q.bits == 8) {
    // Symmetric zero 128: the signed value q - 128 is the code's top bit
    // flipped.
    layout.signedData = true;
    layout.dataColumns = q.inFeatures;
    for (uint8_t code : q.codes)
      layout.data.push_back(code ^ 0x80);
    return;
  }
  // Int4Group nibbles. Symmetric int3 codes (zero 4) move to zero 8; the
  // kernels then decode them as the int4 codes 4..11 they now are.
  int offset = q.symmetric ? quant::intSymmetricZero(4) - quant::intSymmetricZero(q.bits) : 0;
  std::vector<uint8_t> codes(q.codes.size());
  for (size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<uint8_t>(q.codes[i] + offset);
  layout.dataColumns = q.inFeatures / 2;
  size_t at = layout.data.size();
  layout.data.resize(at + codes.size() / 2);
  quant::packInt4(codes, MutableArrayRef<uint8_t>(layout.data).drop_front(at));
}

} // namespace

void appendArtifactLayout(const QuantizedWeight &q, ArtifactLinearLayout &layout) {
  if (const auto *i = std::get_if<quant::IntGroupWeight>(&q))
    return appendIntGroup(*i, layout);
  const auto &f = std::get<quant::Fp8ChannelWeight>(q);
  layout.f32Scales = true;
  layout.dataColumns = f.inFeatures;
  layout.scaleColumns = 1;
  appendBytes(layout.data, f.codes);
  appendBytes(layout.scales, f.scales);
}

} // namespace qtc
