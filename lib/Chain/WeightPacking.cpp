//===- WeightPacking.cpp - Weights in the layouts the kernels read --------===//

#include "WeightPacking.h"

#include "qtc/Import/WeightStore.h"
#include "qtc/rt/Float16.h"

#include "mlir/IR/Diagnostics.h"

#include "llvm/Support/Format.h"

#include <cmath>
#include <cstring>
#include <string>

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

namespace qtc {
namespace {

float elementAsFloat(DType dtype, const uint8_t *p) {
  switch (dtype) {
  case DType::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case DType::BF16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return rt::bf16ToFloat(h);
  }
  default: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return rt::halfToFloat(h);
  }
  }
}

// Converts `count` elements starting at element `first` of `source`.
llvm::Error convertRows(const RowSource &source, uint64_t first, uint64_t count,
                        uint8_t *out) {
  const auto *in = static_cast<const uint8_t *>(source.ref.data);
  switch (source.conversion) {
  case RowConversion::Copy:
    std::memcpy(out, in + first, count);
    return llvm::Error::success();
  case RowConversion::FlipHighBit:
    for (uint64_t i = 0; i < count; ++i)
      out[i] = in[first + i] ^ 0x80;
    return llvm::Error::success();
  case RowConversion::AddToNibbles: {
    auto offset = static_cast<uint8_t>(source.nibbleOffset);
    for (uint64_t i = 0; i < count; ++i) {
      uint8_t b = in[first + i];
      out[i] = static_cast<uint8_t>((((b >> 4) + offset) << 4) | (((b & 0xf) + offset) & 0xf));
    }
    return llvm::Error::success();
  }
  case RowConversion::ToF16:
    break;
  }
  size_t width = dtypeByteSize(source.ref.dtype);
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t *p = in + (first + i) * width;
    uint16_t h;
    if (source.ref.dtype == DType::F16) {
      std::memcpy(&h, p, 2);
      if ((h & 0x7c00) != 0x7c00) { // finite: the bits as they are
        std::memcpy(out + 2 * i, &h, 2);
        continue;
      }
    }
    float value = elementAsFloat(source.ref.dtype, p);
    if (!std::isfinite(value))
      return llvm::createStringError(
          "weight '" + source.name + "' holds a non-finite value (" +
          (std::isnan(value) ? std::string("nan") : value > 0 ? "inf" : "-inf") +
          ") at element " + std::to_string(first + i));
    h = rt::floatToHalf(value);
    std::memcpy(out + 2 * i, &h, 2);
  }
  return llvm::Error::success();
}

// Bytes a source row occupies where it is stored.
uint64_t storedRowBytes(const RowSource &source) {
  return source.rows == 0 ? 0 : source.ref.byteSize / source.rows;
}

} // namespace

DeferredWeight concatenateRows(const WeightStore &store, std::vector<RowSource> sources,
                               uint64_t rowBytes) {
  DeferredWeight deferred;
  int64_t rows = 0;
  for (const RowSource &source : sources)
    rows += source.rows;
  deferred.byteSize = static_cast<uint64_t>(rows) * rowBytes;
  deferred.granule = std::max<uint64_t>(rowBytes, 1);
  auto shared = std::make_shared<const std::vector<RowSource>>(std::move(sources));
  deferred.produce = [&store, shared, rowBytes](uint64_t offset,
                                                llvm::MutableArrayRef<uint8_t> out) -> llvm::Error {
    if (rowBytes == 0)
      return llvm::Error::success();
    int64_t begin = static_cast<int64_t>(offset / rowBytes);
    int64_t end = begin + static_cast<int64_t>(out.size() / rowBytes);
    int64_t start = 0; // the first packed row of the current source
    for (const RowSource &source : *shared) {
      int64_t from = std::max(begin, start), to = std::min(end, start + source.rows);
      if (from < to) {
        uint64_t inRow = storedRowBytes(source);
        uint64_t elementsPerRow =
            source.conversion == RowConversion::ToF16 ? rowBytes / 2 : rowBytes;
        uint8_t *dst = out.data() + (from - begin) * rowBytes;
        WeightRef read = source.ref;
        read.data = static_cast<const uint8_t *>(source.ref.data) + (from - start) * inRow;
        read.byteSize = (to - from) * inRow;
        store.prefetchPages(read);
        if (llvm::Error e = convertRows(source, (from - start) * elementsPerRow,
                                        (to - from) * elementsPerRow, dst))
          return e;
        // Read once for the artifact: a memory-mapped source leaves the
        // resident set.
        store.releasePages(read);
      }
      start += source.rows;
    }
    return llvm::Error::success();
  };
  return deferred;
}

FailureOr<DeferredLinearLayout>
deferArtifactLayout(const WeightStore &store, ArrayRef<StringRef> weights,
                    ArrayRef<int64_t> rows, int64_t inFeatures,
                    const WeightQuantization &how, Location loc) {
  DeferredLinearLayout layout;
  const bool fp8 = how.kind == WeightQuantization::Kind::Fp8Channel;
  const int bits = fp8 ? 8 : how.grid.bits;
  const bool nibbles = !fp8 && bits <= 4;
  layout.f32Scales = fp8;
  layout.signedData = !fp8 && bits == 8;
  layout.dataColumns = nibbles ? inFeatures / 2 : inFeatures;
  layout.scaleColumns = fp8 ? 1 : inFeatures / how.grid.groupSize;
  layout.hasZeros = !fp8 && !how.grid.symmetric;

  std::vector<RowSource> data, scales, zeros;
  for (auto [weight, sourceRows] : llvm::zip(weights, rows)) {
    auto source = [&](const std::string &name, DType dtype,
                      SmallVector<int64_t, 2> shape) -> FailureOr<RowSource> {
      std::optional<WeightRef> ref = store.lookup(name);
      if (!ref)
        return emitError(loc) << "quantized tensor '" << name
                              << "' is missing: was '" << weight
                              << "' quantized by qtc-rtn or qtc-gptq?";
      if (ref->dtype != dtype || ArrayRef<int64_t>(ref->shape) != ArrayRef<int64_t>(shape))
        return emitError(loc) << "quantized tensor '" << name << "' has the "
                              << "wrong type or shape for its encoding";
      RowSource s;
      s.name = name;
      s.ref = *ref;
      s.rows = sourceRows;
      return s;
    };
    FailureOr<RowSource> d = source(quantizedDataName(weight), DType::U8,
                                    {sourceRows, layout.dataColumns});
    FailureOr<RowSource> sc =
        fp8 ? source(quantizedScalesName(weight), DType::F32, {sourceRows})
            : source(quantizedScalesName(weight), DType::F16,
                     {sourceRows, layout.scaleColumns});
    if (failed(d) || failed(sc))
      return failure();
    if (layout.signedData) {
      d->conversion = RowConversion::FlipHighBit;
    } else if (nibbles && how.grid.symmetric) {
      // Symmetric int3 codes (zero 4) move to zero 8, as appendIntGroup
      // moves them.
      d->nibbleOffset = quant::intSymmetricZero(4) - quant::intSymmetricZero(bits);
      if (d->nibbleOffset != 0)
        d->conversion = RowConversion::AddToNibbles;
    }
    data.push_back(std::move(*d));
    scales.push_back(std::move(*sc));
    if (layout.hasZeros) {
      FailureOr<RowSource> z = source(quantizedZerosName(weight), DType::F16,
                                      {sourceRows, layout.scaleColumns});
      if (failed(z))
        return failure();
      zeros.push_back(std::move(*z));
    }
  }
  layout.data = concatenateRows(store, std::move(data), layout.dataColumns);
  layout.scales = concatenateRows(store, std::move(scales),
                                  layout.scaleColumns * (fp8 ? 4 : 2));
  if (layout.hasZeros)
    layout.zeros = concatenateRows(store, std::move(zeros), layout.scaleColumns * 2);
  return layout;
}

} // namespace qtc
