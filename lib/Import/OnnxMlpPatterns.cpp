//===- OnnxMlpPatterns.cpp - SwiGLU and residual additions ----------------===//

#include "OnnxPatterns.h"

using namespace qtc;

// Mul(Mul(g, Sigmoid(g)), up) in either operand order: silu(g) * up.
bool qtc::matchSwiglu(PatternContext &context, const OnnxNode &mul) {
  if (mul.inputs.size() != 2)
    return false;
  for (int side = 0; side < 2; ++side) {
    llvm::StringRef siluValue = mul.inputs[side], up = mul.inputs[1 - side];
    const OnnxNode *silu = context.def(siluValue, "Mul");
    if (!silu || !context.isRaised(up))
      continue;
    for (int gateSide = 0; gateSide < 2; ++gateSide) {
      llvm::StringRef gate = silu->inputs[gateSide];
      const OnnxNode *sigmoid =
          context.def(silu->inputs[1 - gateSide], "Sigmoid");
      if (!sigmoid || sigmoid->inputs[0] != gate || !context.isRaised(gate))
        continue;
      RaisedOp op(RaisedOp::Kind::Swiglu, mul);
      op.inputs = {gate.str(), up.str()};
      op.output = mul.outputs[0];
      return context.commit(std::move(op), {&mul, silu, sigmoid});
    }
  }
  return false;
}

// Add of two raised activations: a residual connection.
bool qtc::matchResidualAdd(PatternContext &context, const OnnxNode &add) {
  if (add.inputs.size() != 2 || !context.isRaised(add.inputs[0]) ||
      !context.isRaised(add.inputs[1]))
    return false;
  RaisedOp op(RaisedOp::Kind::Add, add);
  op.inputs = {add.inputs[0], add.inputs[1]};
  op.output = add.outputs[0];
  return context.commit(std::move(op), {&add});
}
