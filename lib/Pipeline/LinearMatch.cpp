//===- LinearMatch.cpp - One view of tfm.linear, tfm.lm_head, qnt.qlinear -===//

#include "LinearMatch.h"

#include "dialects/qnt/QntOps.h"
#include "dialects/qnt/QntTypes.h"
#include "dialects/tfm/TfmOps.h"
#include "qtc/Transforms/WeightContext.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace qtc {

std::string describeSpec(const LinearSpec &spec) {
  if (spec.format == LinearFormat::F16)
    return "fp16";
  return llvm::formatv("int4-g{0}-{1}", spec.groupSize,
                       spec.symmetric ? "sym" : "asym");
}

namespace {

// The name of the tfm.weight behind `v`, or nullopt.
std::optional<std::string> weightName(Value v) {
  if (auto w = v.getDefiningOp<tfm::WeightOp>())
    return w.getName().str();
  return std::nullopt;
}

std::optional<LinearMatch> fill(Operation *op, Value input, Value weight,
                                Value bias) {
  LinearMatch m;
  m.op = op;
  m.input = input;
  m.result = op->getResult(0);
  ArrayRef<int64_t> shape =
      isa<qnt::WeightType>(weight.getType())
          ? cast<qnt::WeightType>(weight.getType()).getShape()
          : cast<ShapedType>(weight.getType()).getShape();
  m.outFeatures = shape[0];
  m.inFeatures = shape[1];
  if (weight.getDefiningOp<qnt::QuantizeOp>()) {
    m.error = "weight is marked for quantization but its values were never "
              "computed: run a weight quantizer (qtc-rtn, qtc-gptq) after "
              "qtc-quantize-weights";
    return m;
  }
  if (auto quantized = weight.getDefiningOp<qnt::QuantizedWeightOp>()) {
    qnt::EncodingAttr enc = quantized.getResult().getType().getEncoding();
    if (!isInt4GroupEncoding(enc)) {
      llvm::raw_string_ostream os(m.error);
      os << "the runtime has int4 kernels with f16 scales grouped along the "
            "input channels only; got "
         << enc;
      return m;
    }
    m.spec = {LinearFormat::Int4, static_cast<int>(enc.getGroupSize()),
              enc.getSymmetric()};
    m.quantized = quantized;
    m.weightName = quantized.getName().str();
  } else if (std::optional<std::string> name = weightName(weight)) {
    m.weightName = *name;
  } else {
    m.error = "linear weight must be a tfm.weight for the runtime plan";
    return m;
  }
  if (bias) {
    m.biasName = weightName(bias);
    if (!m.biasName)
      m.error = "linear bias must be a tfm.weight for the runtime plan";
  }
  return m;
}

} // namespace

std::optional<LinearMatch> matchLinear(Operation *op, const WeightStore &) {
  if (auto l = dyn_cast<tfm::LinearOp>(op))
    return fill(op, l.getInput(), l.getWeight(), l.getBias());
  if (auto h = dyn_cast<tfm::LmHeadOp>(op))
    return fill(op, h.getInput(), h.getWeight(), Value());
  if (auto q = dyn_cast<qnt::QLinearOp>(op))
    return fill(op, q.getInput(), q.getWeight(), q.getBias());
  return std::nullopt;
}

} // namespace qtc
