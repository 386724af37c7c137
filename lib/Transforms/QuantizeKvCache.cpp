//===- QuantizeKvCache.cpp - Choose the paged KV cache's storage format ---===//

#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "dialects/qnt/QntAttrs.h"
#include "dialects/qnt/QntDialect.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <algorithm>

namespace qtc {
#define GEN_PASS_DEF_QUANTIZEKVCACHE
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// The largest finite e4m3 value: a calibrated scale maps the largest |x| to it.
constexpr float kE4M3Max = 448.0f;

struct QuantizeKvCachePass : public impl::QuantizeKvCacheBase<QuantizeKvCachePass> {
  using QuantizeKvCacheBase::QuantizeKvCacheBase;

  InFlightDiagnostic error() {
    return getOperation().emitError() << "qtc-quantize-kv-cache: ";
  }

  // The options, checked against each other; each error names its option.
  LogicalResult checkOptions(bool &fp8, int &bits) {
    const int64_t blockSize = this->blockSize, residualWindow = this->residualWindow,
                  sinkTokens = this->sinkTokens;
    fp8 = format == "f8e4m3";
    bits = format == "i8" ? 8 : format == "i4" ? 4 : format == "i2" ? 2 : 0;
    if (!fp8 && bits == 0)
      return error() << "unsupported format '" << format
                     << "' (supported: f8e4m3, i8, i4, i2)";
    if (keyGranularity != "per_token" && keyGranularity != "per_channel")
      return error() << "key-granularity must be per_token or per_channel (got '"
                     << keyGranularity << "')";
    if (fp8Scales != "one" && fp8Scales != "layer" && fp8Scales != "head")
      return error() << "fp8-scales must be one, layer or head (got '" << fp8Scales << "')";
    if (blockSize <= 0)
      return error() << "block-size must be positive (got " << blockSize << ")";
    if (residualWindow != 0 && residualWindow != blockSize)
      return error() << "residual-window must be 0 or block-size (" << blockSize
                     << "): the window is the block being filled (got " << residualWindow
                     << ")";
    if (sinkTokens < 0 || sinkTokens > blockSize)
      return error() << "sink-tokens must be in [0, block-size] (got " << sinkTokens << ")";
    if (fp8) {
      auto integerOnly = [&](StringRef option) {
        return error() << option << " applies to integer formats (i8, i4, i2), not f8e4m3";
      };
      if (keyGranularity != "per_token")
        return integerOnly("key-granularity=per_channel");
      if (keySymmetric || valueSymmetric)
        return integerOnly("key-symmetric/value-symmetric");
      if (residualWindow != 0)
        return integerOnly("residual-window");
      if (sinkTokens != 0)
        return integerOnly("sink-tokens");
      if (blockSize != 16)
        return error() << "block-size " << blockSize
                       << ": f8e4m3 caches use blocks of 16 (the GPU kernels' block)";
    } else if (fp8Scales != "one") {
      return error() << "fp8-scales applies to f8e4m3, not " << format;
    }
    return success();
  }

  qnt::EncodingAttr integerEncoding(int bits, bool perChannel, bool symmetric) {
    MLIRContext *ctx = &getContext();
    qnt::Format f = symmetric ? (bits == 8 ? qnt::Format::i8 : bits == 4 ? qnt::Format::i4
                                                                          : qnt::Format::i2)
                              : (bits == 8 ? qnt::Format::u8 : bits == 4 ? qnt::Format::u4
                                                                          : qnt::Format::u2);
    Type f16 = Float16Type::get(ctx);
    return qnt::EncodingAttr::get(
        ctx, f, perChannel ? qnt::Granularity::per_channel : qnt::Granularity::per_token,
        /*group_size=*/0, /*axis=*/perChannel ? 0 : 1, symmetric, f16,
        symmetric ? Type() : f16, DenseF32ArrayAttr());
  }

  // Calibrated fp8 scales of layer `layer` from `absMax` ([layer][kv head]).
  FailureOr<DenseF32ArrayAttr> fp8ScalesOf(const std::vector<std::vector<float>> &absMax,
                                           size_t layer, tfm::AttentionOp op) {
    if (fp8Scales == "one")
      return DenseF32ArrayAttr();
    if (layer >= absMax.size())
      return op.emitError("qtc-quantize-kv-cache: fp8-scales=")
             << fp8Scales << " needs qtc-calibrate's key/value statistics of layer " << layer
             << " (run qtc-calibrate first)";
    std::vector<float> heads = absMax[layer];
    if (fp8Scales == "layer")
      heads = {heads.empty() ? 0.0f : *std::max_element(heads.begin(), heads.end())};
    SmallVector<float> scales;
    for (float m : heads)
      scales.push_back(m > 0.0f ? m / kE4M3Max : 1.0f); // never-seen heads keep scale 1
    return DenseF32ArrayAttr::get(&getContext(), scales);
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    bool fp8 = false;
    int bits = 0;
    if (failed(checkOptions(fp8, bits)))
      return signalPassFailure();
    qnt::EncodingAttr key, value;
    if (fp8) {
      key = value = qnt::EncodingAttr::get(
          ctx, qnt::Format::f8e4m3, qnt::Granularity::per_tensor, /*group_size=*/0,
          /*axis=*/1, /*symmetric=*/true, /*scale_type=*/Float32Type::get(ctx),
          /*zero_type=*/Type(), /*lut=*/DenseF32ArrayAttr());
    } else {
      key = integerEncoding(bits, keyGranularity == "per_channel", keySymmetric);
      value = integerEncoding(bits, /*perChannel=*/false, valueSymmetric);
    }
    WeightContext *weights = WeightContext::get(ctx);
    static const std::vector<std::vector<float>> none;
    size_t layer = 0;
    WalkResult walk = getOperation().walk([&](tfm::AttentionOp op) {
      FailureOr<DenseF32ArrayAttr> keyScales =
          fp8ScalesOf(weights ? weights->kvKeyAbsMax : none, layer, op);
      FailureOr<DenseF32ArrayAttr> valueScales =
          fp8ScalesOf(weights ? weights->kvValueAbsMax : none, layer, op);
      ++layer;
      if (failed(keyScales) || failed(valueScales))
        return WalkResult::interrupt();
      auto scheme = qnt::KvSchemeAttr::getChecked(
          [&] { return op.emitError(); }, ctx, key, value, static_cast<int64_t>(blockSize),
          static_cast<int64_t>(residualWindow), static_cast<int64_t>(sinkTokens), *keyScales,
          *valueScales);
      if (!scheme)
        return WalkResult::interrupt();
      op->setAttr(qnt::kKvSchemeAttrName, scheme);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace qtc
