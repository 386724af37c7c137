//===- OnnxConstantEvaluator.cpp - Evaluates shape-only subgraphs ---------===//

#include "OnnxConstantEvaluator.h"

#include "OnnxEvaluatorOps.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace qtc;
using namespace qtc::eval;

namespace {

OpResult dispatch(const OnnxNode &node, Inputs in) {
  llvm::StringRef op = node.opType;
  if (op == "Add")
    return binaryArith(in, '+');
  if (op == "Sub")
    return binaryArith(in, '-');
  if (op == "Mul")
    return binaryArith(in, '*');
  if (op == "Div")
    return binaryArith(in, '/');
  if (op == "Pow")
    return binaryArith(in, '^');
  if (op == "Equal" || op == "Less" || op == "LessOrEqual" || op == "Greater" ||
      op == "GreaterOrEqual")
    return compare(in, op);
  if (op == "And" || op == "Or" || op == "Xor" || op == "Not")
    return logical(in, op);
  if (op == "Max" || op == "Min")
    return minMax(in, op == "Max");
  if (op == "Cos" || op == "Sin" || op == "Neg" || op == "Abs" ||
      op == "Sqrt" || op == "Reciprocal" || op == "Exp" || op == "Floor" ||
      op == "Ceil")
    return unary(in, op);
  if (op == "Identity")
    return *in[0];
  if (op == "Where")
    return where(in);
  if (op == "Cast")
    return cast(node, in);
  if (op == "Reshape")
    return reshape(node, in);
  if (op == "Transpose")
    return transpose(node, in);
  if (op == "Unsqueeze")
    return unsqueeze(in);
  if (op == "Squeeze")
    return squeeze(in);
  if (op == "Concat")
    return concat(node, in);
  if (op == "Slice")
    return slice(in);
  if (op == "Gather")
    return gather(node, in);
  if (op == "GatherND")
    return gatherND(node, in);
  if (op == "Expand")
    return expand(in);
  if (op == "Range")
    return range(in);
  if (op == "CumSum")
    return cumSum(node, in);
  if (op == "MatMul")
    return matMul(in);
  if (op == "Trilu")
    return trilu(node, in);
  if (op == "ConstantOfShape")
    return constantOfShape(node, in);
  return fail("op " + node.opType + " cannot be evaluated");
}

} // namespace

llvm::Error OnnxConstantEvaluator::evaluateNode(const OnnxNode &node) {
  if (!node.domain.empty())
    return fail("op " + node.domain + "." + node.opType +
                " cannot be evaluated");
  if (node.outputs.size() != 1)
    return fail("op " + node.opType +
                " with several outputs cannot be "
                "evaluated");

  if (node.opType == "Shape" || node.opType == "Size") {
    if (node.inputs.empty())
      return fail("Shape needs an operand");
    llvm::SmallVector<int64_t, 4> dims;
    llvm::StringRef source = node.inputs[0];
    auto input = llvm::find_if(graph.inputs, [&](const OnnxValueInfo &info) {
      return info.name == source;
    });
    if (input != graph.inputs.end()) {
      if (!input->hasShape)
        return fail("graph input '" + source + "' has no shape");
      for (size_t d = 0; d < input->dims.size(); ++d)
        dims.push_back(input->dims[d] >= 0           ? input->dims[d]
                       : d + 1 == input->dims.size() ? sequenceLength
                                                     : 1);
    } else if (graph.isShapeOnly(source)) {
      auto value = evaluate(source);
      if (!value)
        return value.takeError();
      dims = (*value)->shape;
    } else {
      return fail("the shape of activation '" + source +
                  "' is not known to the importer");
    }
    HostTensor result;
    if (node.opType == "Size") {
      int64_t count = 1;
      for (int64_t dim : dims)
        count *= dim;
      result = HostTensor::zeros(DType::I64, {});
      result.ints[0] = count;
    } else {
      int64_t rank = dims.size();
      int64_t start = std::clamp<int64_t>(
          normalizeAxis(node.intAttribute("start", 0), rank), 0, rank);
      int64_t end = std::clamp<int64_t>(
          normalizeAxis(node.intAttribute("end", rank), rank), 0, rank);
      result =
          HostTensor::zeros(DType::I64, {std::max<int64_t>(0, end - start)});
      for (int64_t d = start; d < end; ++d)
        result.ints[d - start] = dims[d];
    }
    values[node.outputs[0]] = std::move(result);
    return llvm::Error::success();
  }

  llvm::SmallVector<const HostTensor *, 4> inputs;
  for (const std::string &name : node.inputs) {
    if (name.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    auto value = values.find(name);
    if (value == values.end())
      return fail("operand '" + name + "' was not evaluated");
    inputs.push_back(&value->second);
  }
  // Every op evaluated here requires its first operand.
  if (inputs.empty() || !inputs[0])
    return fail("op " + node.opType + " is missing its first operand");
  OpResult result = dispatch(node, inputs);
  if (!result)
    return result.takeError();
  if (!checkedCount(result->shape))
    return fail("result too large");
  values[node.outputs[0]] = std::move(*result);
  return llvm::Error::success();
}

llvm::Expected<const HostTensor *>
OnnxConstantEvaluator::evaluate(llvm::StringRef name) {
  auto cached = values.find(name);
  if (cached != values.end())
    return &cached->second;
  if (!graph.isShapeOnly(name))
    return fail("value '" + name + "' depends on the model's activations");

  // Collect the nodes `name` depends on without recursion (a hostile graph
  // may chain thousands of nodes), then run them in graph order.
  llvm::SmallVector<size_t, 16> needed;
  llvm::SmallVector<std::string, 16> worklist = {name.str()};
  llvm::DenseSet<size_t> seen;
  while (!worklist.empty()) {
    std::string value = worklist.pop_back_val();
    if (values.count(value))
      continue;
    if (const OnnxTensorData *data = graph.constant(value)) {
      auto decoded = decodeHostTensor(*data, kMaxElements);
      if (!decoded)
        return decoded.takeError();
      values[value] = std::move(*decoded);
      continue;
    }
    const OnnxNode *node = graph.producer(value);
    if (!node)
      return fail("value '" + value + "' has no producer");
    if (!seen.insert(node->index).second)
      continue;
    needed.push_back(node->index);
    bool isShape = node->opType == "Shape" || node->opType == "Size";
    for (const std::string &input : node->inputs)
      if (!input.empty() && (!isShape || graph.isShapeOnly(input)))
        worklist.push_back(input);
  }
  llvm::sort(needed);
  for (size_t index : needed) {
    const OnnxNode &node = graph.nodes[index];
    if (llvm::Error error = evaluateNode(node))
      return fail("cannot evaluate node '" + node.displayName() + "' (" +
                  node.opType + "): " + llvm::toString(std::move(error)));
  }
  return &values.find(name)->second;
}
