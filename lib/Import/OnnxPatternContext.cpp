//===- OnnxPatternContext.cpp - State shared by the raising patterns ------===//

#include "OnnxPatterns.h"

using namespace qtc;

const OnnxNode *PatternContext::def(llvm::StringRef value,
                                    llvm::StringRef opType) const {
  const OnnxNode *node = graph.producer(value);
  if (!node || node->opType != opType || !node->domain.empty() ||
      consumed.count(node->index))
    return nullptr;
  return node;
}

const OnnxNode *PatternContext::soleUser(llvm::StringRef value,
                                         llvm::StringRef opType) const {
  llvm::ArrayRef<size_t> users = graph.users(value);
  if (users.size() != 1 || graph.isGraphOutput(value))
    return nullptr;
  const OnnxNode &user = graph.nodes[users.front()];
  if (user.opType != opType || !user.domain.empty() ||
      consumed.count(user.index))
    return nullptr;
  return &user;
}

const HostTensor *PatternContext::evaluate(llvm::StringRef value,
                                           const OnnxNode &anchor) {
  if (!isShapeOnly(value)) {
    note(anchor, "'" + value + "' is expected to be a constant");
    return nullptr;
  }
  llvm::Expected<const HostTensor *> result = evaluator.evaluate(value);
  if (!result) {
    note(anchor, llvm::toString(result.takeError()));
    return nullptr;
  }
  return *result;
}

std::optional<double> PatternContext::scalar(llvm::StringRef value,
                                             const OnnxNode &anchor) {
  const HostTensor *tensor = evaluate(value, anchor);
  if (!tensor || tensor->numElements() != 1)
    return std::nullopt;
  return tensor->floatAt(0);
}

std::optional<llvm::SmallVector<int64_t, 4>>
PatternContext::ints(llvm::StringRef value, const OnnxNode &anchor) {
  const HostTensor *tensor = evaluate(value, anchor);
  if (!tensor || tensor->isFloat())
    return std::nullopt;
  return llvm::SmallVector<int64_t, 4>(tensor->ints.begin(),
                                       tensor->ints.end());
}

const OnnxTensorData *PatternContext::weight(llvm::StringRef value,
                                             size_t rank) const {
  const OnnxTensorData *data = graph.constant(value);
  if (!data || !data->dtype || !isFloatDType(*data->dtype) ||
      data->shape.size() != rank)
    return nullptr;
  return data;
}

bool PatternContext::note(const OnnxNode &anchor, const llvm::Twine &why) {
  notes[anchor.index] = why.str();
  return false;
}

bool PatternContext::commit(RaisedOp op,
                            llvm::ArrayRef<const OnnxNode *> nodes) {
  llvm::DenseSet<size_t> inside;
  for (const OnnxNode *node : nodes)
    inside.insert(node->index);
  for (const OnnxNode *node : nodes)
    for (const std::string &value : node->outputs) {
      if (value.empty() || value == op.output)
        continue;
      if (graph.isGraphOutput(value))
        return note(*op.anchor, "intermediate value '" + value +
                                    "' is also a graph output");
      for (size_t user : graph.users(value))
        if (!inside.count(user))
          return note(*op.anchor, "intermediate value '" + value +
                                      "' is also used by node '" +
                                      graph.nodes[user].displayName() + "'");
    }
  consumed.insert(inside.begin(), inside.end());
  raisedBy[op.output] = ops.size();
  ops.push_back(std::move(op));
  return true;
}
