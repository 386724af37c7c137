//===- QuantizeKvCache.cpp - Choose the paged KV cache's storage format ---===//

#include "qtc/Transforms/Passes.h"

#include "dialects/qnt/QntAttrs.h"
#include "dialects/qnt/QntDialect.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace qtc {
#define GEN_PASS_DEF_QUANTIZEKVCACHE
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct QuantizeKvCachePass : public impl::QuantizeKvCacheBase<QuantizeKvCachePass> {
  using QuantizeKvCacheBase::QuantizeKvCacheBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (format != "f8e4m3") {
      getOperation().emitError() << "qtc-quantize-kv-cache: unsupported format '" << format
                                 << "' (supported: f8e4m3)";
      return signalPassFailure();
    }
    // One per-tensor scale (1: no calibration) for keys and for values.
    auto encoding = qnt::EncodingAttr::get(
        ctx, qnt::Format::f8e4m3, qnt::Granularity::per_tensor, /*group_size=*/0,
        /*axis=*/1, /*symmetric=*/true, /*scale_type=*/Float32Type::get(ctx),
        /*zero_type=*/Type(), /*lut=*/DenseF32ArrayAttr());
    auto scheme = qnt::KvSchemeAttr::getChecked(
        [&] { return getOperation().emitError(); }, ctx, encoding, encoding,
        static_cast<int64_t>(blockSize),
        /*residual_window=*/int64_t{0}, /*sink_tokens=*/int64_t{0});
    if (!scheme)
      return signalPassFailure();
    getOperation().walk(
        [&](tfm::AttentionOp op) { op->setAttr(qnt::kKvSchemeAttrName, scheme); });
  }
};

} // namespace
} // namespace qtc
