//===- OnnxPatternTable.cpp - The raising patterns and their opsets -------===//

#include "OnnxPatterns.h"

using namespace qtc;

llvm::ArrayRef<OnnxPattern> qtc::onnxPatterns() {
  // ReduceMean took its axes as an attribute until opset 18 and as an input
  // since; every other op used here kept its signature over 13..21.
  static const OnnxPattern patterns[] = {
      {"embedding", "Gather", 13, 21, matchEmbedding},
      {"rms_norm", "ReduceMean", 13, 17, matchRmsNormAxesAttribute},
      {"rms_norm", "ReduceMean", 18, 21, matchRmsNormAxesInput},
      {"linear", "MatMul", 13, 21, matchLinear},
      {"attention", "Softmax", 13, 21, matchAttention},
      {"swiglu", "Mul", 13, 21, matchSwiglu},
      {"residual_add", "Add", 13, 21, matchResidualAdd},
  };
  return patterns;
}
