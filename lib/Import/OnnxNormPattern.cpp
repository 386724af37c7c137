//===- OnnxNormPattern.cpp - Decomposed RMSNorm ---------------------------===//
//
//   mean = ReduceMean(Pow(x, 2) | Mul(x, x), axes = [-1], keepdims = 1)
//   r    = Reciprocal(Sqrt(Add(mean, eps)))    or Div(1, Sqrt(...))
//   y    = Mul(Mul(x, r), weight)              or Mul(Div(x, Sqrt(...)),
//   weight)
//
//===----------------------------------------------------------------------===//

#include "OnnxPatterns.h"

using namespace qtc;

namespace {

// The operand of binary `node` other than `value`, or "" if `value` is not
// an operand.
llvm::StringRef otherOperand(const OnnxNode &node, llvm::StringRef value) {
  if (node.inputs.size() != 2)
    return "";
  if (node.inputs[0] == value)
    return node.inputs[1];
  if (node.inputs[1] == value)
    return node.inputs[0];
  return "";
}

bool matchRmsNorm(PatternContext &context, const OnnxNode &mean,
                  std::optional<llvm::SmallVector<int64_t, 4>> axes) {
  if (!axes || *axes != llvm::SmallVector<int64_t, 4>{-1} ||
      mean.intAttribute("keepdims", 1) != 1)
    return context.note(mean, "RMSNorm reduces over the last axis (-1) "
                              "keeping dimensions");

  // The squared input.
  llvm::StringRef x;
  const OnnxNode *square = context.def(mean.inputs[0], "Pow");
  if (square) {
    std::optional<double> exponent = context.scalar(square->inputs[1], mean);
    if (!exponent || *exponent != 2.0)
      return context.note(mean, "RMSNorm squares its input (Pow(x, 2))");
    x = square->inputs[0];
  } else if ((square = context.def(mean.inputs[0], "Mul")) &&
             square->inputs[0] == square->inputs[1]) {
    x = square->inputs[0];
  } else {
    return context.note(mean, "RMSNorm averages the squared input");
  }
  if (!context.isRaised(x))
    return false;

  const OnnxNode *add = context.soleUser(mean.outputs[0], "Add");
  if (!add)
    return context.note(mean, "RMSNorm adds epsilon to the mean square");
  std::optional<double> epsilon =
      context.scalar(otherOperand(*add, mean.outputs[0]), mean);
  if (!epsilon || !(*epsilon > 0.0))
    return context.note(mean, "RMSNorm epsilon must be a positive scalar");
  const OnnxNode *root = context.soleUser(add->outputs[0], "Sqrt");
  if (!root)
    return context.note(mean, "RMSNorm takes the square root");

  llvm::SmallVector<const OnnxNode *, 8> nodes = {square, &mean, add, root};
  const OnnxNode *normalized = nullptr;
  if (const OnnxNode *reciprocal =
          context.soleUser(root->outputs[0], "Reciprocal")) {
    nodes.push_back(reciprocal);
    normalized = context.soleUser(reciprocal->outputs[0], "Mul");
    if (normalized && otherOperand(*normalized, reciprocal->outputs[0]) != x)
      normalized = nullptr;
  } else if (const OnnxNode *div = context.soleUser(root->outputs[0], "Div")) {
    if (div->inputs[0] == x && div->inputs[1] == root->outputs[0]) {
      normalized = div;
    } else if (std::optional<double> one = context.scalar(div->inputs[0], mean);
               one && *one == 1.0) {
      nodes.push_back(div);
      normalized = context.soleUser(div->outputs[0], "Mul");
      if (normalized && otherOperand(*normalized, div->outputs[0]) != x)
        normalized = nullptr;
    }
  }
  if (!normalized)
    return context.note(mean, "RMSNorm divides its input by the root mean "
                              "square");
  nodes.push_back(normalized);

  const OnnxNode *scaled = context.soleUser(normalized->outputs[0], "Mul");
  llvm::StringRef weight =
      scaled ? otherOperand(*scaled, normalized->outputs[0]) : "";
  if (!scaled || !context.weight(weight, 1))
    return context.note(mean, "RMSNorm multiplies by a rank-1 float weight");
  nodes.push_back(scaled);

  RaisedOp op(RaisedOp::Kind::RmsNorm, mean);
  op.inputs = {x.str()};
  op.output = scaled->outputs[0];
  op.weight = weight.str();
  op.epsilon = *epsilon;
  return context.commit(std::move(op), nodes);
}

} // namespace

bool qtc::matchRmsNormAxesAttribute(PatternContext &context,
                                    const OnnxNode &reduceMean) {
  if (reduceMean.inputs.size() != 1)
    return false;
  return matchRmsNorm(context, reduceMean, reduceMean.intsAttribute("axes"));
}

bool qtc::matchRmsNormAxesInput(PatternContext &context,
                                const OnnxNode &reduceMean) {
  if (reduceMean.inputs.size() != 2)
    return context.note(reduceMean, "RMSNorm reduces over explicit axes");
  return matchRmsNorm(context, reduceMean,
                      context.ints(reduceMean.inputs[1], reduceMean));
}
