//===- LinearMatch.h - One view of tfm.linear, tfm.lm_head, qnt.qlinear ---===//
#ifndef QTC_LIB_PIPELINE_LINEARMATCH_H
#define QTC_LIB_PIPELINE_LINEARMATCH_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <string>

namespace qtc {

class WeightStore;

enum class LinearFormat { F16, Int4 };

// How a linear's weight is stored: dense f16, or int4 groups.
struct LinearSpec {
  LinearFormat format = LinearFormat::F16;
  int groupSize = 0;
  bool symmetric = true;
  bool operator==(const LinearSpec &o) const {
    return format == o.format && groupSize == o.groupSize &&
           symmetric == o.symmetric;
  }
};

// "fp16", "int4-g128-sym", ...
std::string describeSpec(const LinearSpec &spec);

struct LinearMatch {
  mlir::Operation *op = nullptr;
  mlir::Value input, result;
  std::string weightName;
  std::optional<std::string> biasName;
  LinearSpec spec;
  // The qnt.quantized_weight behind an int4 spec (its values are stored).
  mlir::Operation *quantized = nullptr;
  int64_t inFeatures = 0, outFeatures = 0;
  // Why the plan cannot lower this linear (e.g. its weight is computed
  // rather than a tfm.weight); empty when it can.
  std::string error;
  bool invalid() const { return !error.empty(); }
};

// Matches tfm.linear, tfm.lm_head and qnt.qlinear; nullopt for other ops.
std::optional<LinearMatch> matchLinear(mlir::Operation *op,
                                       const WeightStore &weights);

} // namespace qtc

#endif // QTC_LIB_PIPELINE_LINEARMATCH_H
