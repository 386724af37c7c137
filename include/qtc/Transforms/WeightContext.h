//===- WeightContext.h - The bytes beside the IR that passes share -*- C++ -*-===//
//
// `tfm.weight` ops are handles; the bytes live in a WeightStore. Passes that
// read weights (quantizers) or learn from running the model (calibration)
// reach that store, and what they computed, through the WeightContext set on
// the MLIRContext's tfm dialect by whoever imported the model (`qtc compile`,
// the JIT API, `qtc-opt --qtc-weights=MODEL`). Large results stay out of the
// IR as the weights do: a quantizer's codes and scales are stored tensors
// named after their weight, calibration statistics are kept per linear.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TRANSFORMS_WEIGHTCONTEXT_H
#define QTC_TRANSFORMS_WEIGHTCONTEXT_H

#include "dialects/qnt/QntAttrs.h"
#include "qtc/Quant/ActivationStatistics.h"
#include "qtc/Quant/Fp8Channel.h"
#include "qtc/Quant/IntGroup.h"
#include "qtc/Quant/RoundToNearest.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mlir {
class MLIRContext;
class Operation;
} // namespace mlir

namespace qtc {

class WeightStore;

// How the calibration statistics were gathered, for reports.
struct CalibrationRecord {
  std::string source;      // "sampled from the model" or the data file
  int64_t sequences = 0;
  int64_t tokens = 0;
  double seconds = 0;
};

class WeightContext {
public:
  explicit WeightContext(WeightStore &store) : store_(store) {}

  WeightStore &store() { return store_; }
  const WeightStore &store() const { return store_; }

  // Calibration statistics of the input a linear reads, by the name of the
  // linear's weight; linears reading one input share one set.
  void setInputStatistics(llvm::StringRef weightName,
                          std::shared_ptr<const quant::ActivationStatistics> stats);
  const quant::ActivationStatistics *inputStatistics(llvm::StringRef weightName) const;
  std::optional<CalibrationRecord> calibration;
  // The largest |key| and |value| each layer's attention cached during
  // calibration, [layer][kv head]; empty before qtc-calibrate.
  std::vector<std::vector<float>> kvKeyAbsMax, kvValueAbsMax;

  // Where long passes report progress (a terminal); null for quiet.
  llvm::raw_ostream *progress = nullptr;

  // The weight context of `context`'s tfm dialect, or null.
  static WeightContext *get(mlir::MLIRContext *context);
  // Loads the tfm dialect into `context` and sets `weights` on it (null
  // clears it). The caller keeps `weights` alive while passes run.
  static void attach(mlir::MLIRContext *context, WeightContext *weights);
  // get(), or an error at `op` saying that `pass` needs the model's weights.
  static mlir::FailureOr<WeightContext *> require(mlir::Operation *op,
                                                  llvm::StringRef pass);

private:
  WeightStore &store_;
  llvm::StringMap<std::shared_ptr<const quant::ActivationStatistics>> inputs_;
};

// What a quantizer computes for a weight of `encoding`: integer codes in
// groups along the input channels with f16 scales (signed iN symmetric, uN
// asymmetric with f16 zeros; N = 3, 4 or 8, int8 symmetric only), per group
// or per output row (per_channel: one group spanning the row), or fp8 e4m3
// per output row with f32 scales.
struct WeightQuantization {
  enum class Kind { IntGroup, Fp8Channel };
  Kind kind = Kind::IntGroup;
  // IntGroup: bits, group (per_channel: in), symmetry; Fp8Channel: group in.
  quant::IntGroupOptions grid;
};

// The quantization of a weight with `inFeatures` inputs in `encoding`, or an
// error at `loc` naming what no quantizer computes.
mlir::FailureOr<WeightQuantization> weightQuantization(qnt::EncodingAttr encoding,
                                                       int64_t inFeatures,
                                                       mlir::Location loc);

// A quantizer's result, in either kind.
using QuantizedWeight = std::variant<quant::IntGroupWeight, quant::Fp8ChannelWeight>;

// Its dense [out, in] values, as the kernels decode them.
llvm::Expected<std::vector<float>> dequantize(const QuantizedWeight &q);

// The names a quantizer stores a weight's parts under.
std::string quantizedDataName(llvm::StringRef weight);
std::string quantizedScalesName(llvm::StringRef weight);
std::string quantizedZerosName(llvm::StringRef weight);

// Stores `q` as the quantized form of `weight`: integer codes of up to 4 bits
// two to a byte (u8 [out, in/2], low nibble first; `in` must be even), wider
// ones a byte each (u8 [out, in]); f16 scales and, asymmetric only, zeros
// [out, in/group]. Fp8: e4m3 bytes u8 [out, in] and f32 scales [out].
mlir::LogicalResult storeQuantized(WeightStore &store, llvm::StringRef weight,
                                   const QuantizedWeight &q, mlir::Location loc);
// Reads back what storeQuantized stored for an [outFeatures, inFeatures]
// `weight` quantized as `how`, checking the stored shapes.
mlir::FailureOr<QuantizedWeight> loadQuantized(const WeightStore &store,
                                               llvm::StringRef weight,
                                               int64_t outFeatures, int64_t inFeatures,
                                               const WeightQuantization &how,
                                               mlir::Location loc);

} // namespace qtc

#endif // QTC_TRANSFORMS_WEIGHTCONTEXT_H
