//===- OnnxGraph.cpp - An ONNX graph, decoupled from protobuf -------------===//

#include "OnnxGraph.h"

#include "llvm/ADT/StringSet.h"

using namespace qtc;

int64_t OnnxTensorData::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

const OnnxAttribute *OnnxNode::attribute(llvm::StringRef key) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? nullptr : &it->second;
}

std::string OnnxNode::displayName() const {
  if (!name.empty())
    return name;
  return "<unnamed " + opType + " producing '" +
         (outputs.empty() ? std::string() : outputs.front()) + "'>";
}

std::string qtc::arityProblem(const OnnxNode &node) {
  if (node.outputs.empty() || node.outputs.front().empty())
    return "has no output";
  if (!node.domain.empty())
    return "";
  // [min, max] operand counts of common default-domain ops; -1 means
  // unbounded.
  struct Arity {
    int min, max;
  };
  static const llvm::StringMap<Arity> kArities = {
      {"Add", {2, 2}},
      {"Sub", {2, 2}},
      {"Mul", {2, 2}},
      {"Div", {2, 2}},
      {"Pow", {2, 2}},
      {"Equal", {2, 2}},
      {"Less", {2, 2}},
      {"LessOrEqual", {2, 2}},
      {"Greater", {2, 2}},
      {"GreaterOrEqual", {2, 2}},
      {"And", {2, 2}},
      {"Or", {2, 2}},
      {"Xor", {2, 2}},
      {"MatMul", {2, 2}},
      {"Neg", {1, 1}},
      {"Sqrt", {1, 1}},
      {"Reciprocal", {1, 1}},
      {"Cos", {1, 1}},
      {"Sin", {1, 1}},
      {"Sigmoid", {1, 1}},
      {"Not", {1, 1}},
      {"Abs", {1, 1}},
      {"Exp", {1, 1}},
      {"Floor", {1, 1}},
      {"Ceil", {1, 1}},
      {"Identity", {1, 1}},
      {"Cast", {1, 1}},
      {"Shape", {1, 1}},
      {"Size", {1, 1}},
      {"Transpose", {1, 1}},
      {"Softmax", {1, 1}},
      {"Reshape", {2, 2}},
      {"Expand", {2, 2}},
      {"Unsqueeze", {2, 2}},
      {"Squeeze", {1, 2}},
      {"Gather", {2, 2}},
      {"GatherND", {2, 2}},
      {"CumSum", {2, 2}},
      {"Slice", {3, 5}},
      {"Range", {3, 3}},
      {"Where", {3, 3}},
      {"Concat", {1, -1}},
      {"Max", {1, -1}},
      {"Min", {1, -1}},
      {"ReduceMean", {1, 2}},
      {"Trilu", {1, 2}},
      {"ConstantOfShape", {1, 1}},
  };
  auto it = kArities.find(node.opType);
  if (it == kArities.end())
    return "";
  int count = static_cast<int>(node.inputs.size());
  if (count >= it->second.min &&
      (it->second.max < 0 || count <= it->second.max))
    return "";
  return "has " + std::to_string(count) + " inputs, which " + node.opType +
         " does not take";
}

std::string OnnxGraph::firstUndefinedInput() const {
  llvm::StringSet<> defined;
  for (const OnnxValueInfo &input : inputs)
    defined.insert(input.name);
  for (const auto &entry : constants)
    defined.insert(entry.getKey());
  for (const OnnxNode &node : nodes) {
    for (const std::string &input : node.inputs)
      if (!input.empty() && !defined.contains(input))
        return input;
    for (const std::string &output : node.outputs)
      if (!output.empty())
        defined.insert(output);
  }
  return "";
}

const OnnxTensorData *OnnxGraph::constant(llvm::StringRef value) const {
  auto it = constants.find(value);
  return it == constants.end() ? nullptr : &it->second;
}
