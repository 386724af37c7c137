//===- OnnxProjectionPatterns.cpp - Embedding lookups and linears ---------===//

#include "OnnxPatterns.h"

using namespace qtc;

// Gather(table [vocab, hidden], ids, axis = 0) with `ids` the token input.
bool qtc::matchEmbedding(PatternContext &context, const OnnxNode &gather) {
  if (gather.inputs.size() != 2 || gather.intAttribute("axis", 0) != 0)
    return context.note(gather, "embedding lookups gather rows (axis 0)");
  const OnnxTensorData *table = context.weight(gather.inputs[0], 2);
  if (!table)
    return context.note(gather, "embedding table '" + gather.inputs[0] +
                                    "' is not a rank-2 float initializer");
  if (!context.isRaised(gather.inputs[1]) ||
      !context.graph.isGraphInput(gather.inputs[1]))
    return context.note(gather, "embedding indices must be the token ids");
  RaisedOp op(RaisedOp::Kind::Embedding, gather);
  op.inputs = {gather.inputs[1]};
  op.output = gather.outputs[0];
  op.weight = gather.inputs[0];
  return context.commit(std::move(op), {&gather});
}

// MatMul(x, W) with W an initializer [in, out], or MatMul(x, Transpose(W))
// with W [out, in]; optionally followed by Add(bias [out]).
bool qtc::matchLinear(PatternContext &context, const OnnxNode &matMul) {
  if (matMul.inputs.size() != 2 || !context.isRaised(matMul.inputs[0]))
    return false;
  RaisedOp op(RaisedOp::Kind::Linear, matMul);
  op.inputs = {matMul.inputs[0]};
  llvm::SmallVector<const OnnxNode *, 3> nodes = {&matMul};

  if (context.weight(matMul.inputs[1], 2)) {
    op.weight = matMul.inputs[1];
    op.weightIsInputMajor = true;
  } else if (const OnnxNode *transpose =
                 context.def(matMul.inputs[1], "Transpose")) {
    std::optional<llvm::SmallVector<int64_t, 4>> perm =
        transpose->intsAttribute("perm");
    if (!context.weight(transpose->inputs[0], 2) ||
        (perm && *perm != llvm::SmallVector<int64_t, 4>{1, 0}))
      return context.note(matMul, "the projection weight is neither an "
                                  "initializer nor its transpose");
    op.weight = transpose->inputs[0];
    nodes.push_back(transpose);
  } else {
    return context.note(matMul, "the projection weight '" + matMul.inputs[1] +
                                    "' is not a rank-2 float initializer");
  }

  op.output = matMul.outputs[0];
  if (const OnnxNode *add = context.soleUser(op.output, "Add")) {
    llvm::StringRef other =
        add->inputs[0] == op.output ? add->inputs[1] : add->inputs[0];
    if (context.weight(other, 1)) {
      op.bias = other.str();
      op.output = add->outputs[0];
      nodes.push_back(add);
    }
  }
  return context.commit(std::move(op), nodes);
}
