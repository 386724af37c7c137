//===- OnnxEvaluatorElementwiseOps.cpp - Element-wise evaluator kernels ---===//

#include "OnnxEvaluatorOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace qtc;
using namespace qtc::eval;

namespace {

// Element-wise ops over broadcast operands.
OpResult elementwise(Inputs inputs, DType resultType,
                     const std::function<double(llvm::ArrayRef<double>)> &f,
                     const std::function<int64_t(llvm::ArrayRef<int64_t>)> &g) {
  llvm::SmallVector<llvm::ArrayRef<int64_t>, 3> shapes;
  for (const HostTensor *input : inputs) {
    if (!input)
      return fail("missing operand");
    shapes.push_back(input->shape);
  }
  auto shape = broadcastShapes(shapes);
  if (!shape)
    return shape.takeError();
  auto result = makeTensor(resultType, *shape);
  if (!result)
    return result.takeError();
  bool floatMath = llvm::any_of(
      inputs, [](const HostTensor *input) { return input->isFloat(); });
  llvm::SmallVector<double, 3> fargs(inputs.size());
  llvm::SmallVector<int64_t, 3> iargs(inputs.size());
  for (int64_t i = 0, e = result->numElements(); i < e; ++i) {
    auto index = unflatten(i, *shape);
    for (size_t k = 0; k < inputs.size(); ++k) {
      int64_t at = broadcastFlat(index, inputs[k]->shape);
      fargs[k] = inputs[k]->floatAt(at);
      iargs[k] = inputs[k]->isFloat() ? 0 : inputs[k]->intAt(at);
    }
    if (result->isFloat())
      result->floats[i] = floatMath ? f(fargs) : static_cast<double>(g(iargs));
    else
      result->ints[i] = floatMath ? saturatingToInt64(f(fargs)) : g(iargs);
  }
  return result;
}

std::optional<DType> castTarget(int64_t onnxType) {
  switch (onnxType) {
  case 1:
    return DType::F32;
  case 2:
    return DType::U8;
  case 3:
    return DType::I8;
  case 5:
    return DType::I16;
  case 6:
    return DType::I32;
  case 7:
    return DType::I64;
  case 9:
    return DType::Bool;
  case 10:
    return DType::F16;
  case 11:
    return DType::F64;
  case 16:
    return DType::BF16;
  default:
    return std::nullopt;
  }
}

} // namespace

OpResult qtc::eval::binaryArith(Inputs in, char op) {
  if (in.size() < 2 || !in[0] || !in[1])
    return fail("expected two operands");
  DType type = in[0]->dtype;
  if (op == '/' && !in[0]->isFloat())
    for (int64_t v : in[1]->ints)
      if (v == 0)
        return fail("integer division by zero");
  return elementwise(
      in.take_front(2), type,
      [op](llvm::ArrayRef<double> a) {
        switch (op) {
        case '+':
          return a[0] + a[1];
        case '-':
          return a[0] - a[1];
        case '*':
          return a[0] * a[1];
        case '/':
          return a[0] / a[1];
        default:
          return std::pow(a[0], a[1]);
        }
      },
      [op](llvm::ArrayRef<int64_t> a) -> int64_t {
        switch (op) {
        case '+':
          return wrap(uint64_t(a[0]) + uint64_t(a[1]));
        case '-':
          return wrap(uint64_t(a[0]) - uint64_t(a[1]));
        case '*':
          return wrap(uint64_t(a[0]) * uint64_t(a[1]));
        case '/':
          return a[1] == -1 ? wrap(0 - uint64_t(a[0])) : a[0] / a[1];
        default:
          return saturatingToInt64(std::pow(double(a[0]), double(a[1])));
        }
      });
}

OpResult qtc::eval::compare(Inputs in, llvm::StringRef op) {
  if (in.size() != 2 || !in[0] || !in[1])
    return fail("expected two operands");
  auto cmp = [op](auto a, auto b) {
    if (op == "Equal")
      return a == b;
    if (op == "Less")
      return a < b;
    if (op == "LessOrEqual")
      return a <= b;
    if (op == "Greater")
      return a > b;
    return a >= b;
  };
  return elementwise(
      in, DType::Bool,
      [&](llvm::ArrayRef<double> a) { return double(cmp(a[0], a[1])); },
      [&](llvm::ArrayRef<int64_t> a) { return int64_t(cmp(a[0], a[1])); });
}

OpResult qtc::eval::logical(Inputs in, llvm::StringRef op) {
  for (const HostTensor *input : in)
    if (!input || input->isFloat())
      return fail("logical ops take bool operands");
  return elementwise(
      in, DType::Bool, [](llvm::ArrayRef<double>) { return 0.0; },
      [op](llvm::ArrayRef<int64_t> a) -> int64_t {
        if (op == "Not")
          return !a[0];
        if (op == "And")
          return a[0] && a[1];
        if (op == "Or")
          return a[0] || a[1];
        return bool(a[0]) != bool(a[1]);
      });
}

OpResult qtc::eval::minMax(Inputs in, bool isMax) {
  if (in.empty() || !in[0])
    return fail("expected operands");
  return elementwise(
      in, in[0]->dtype,
      [isMax](llvm::ArrayRef<double> a) {
        return isMax ? *std::max_element(a.begin(), a.end())
                     : *std::min_element(a.begin(), a.end());
      },
      [isMax](llvm::ArrayRef<int64_t> a) {
        return isMax ? *std::max_element(a.begin(), a.end())
                     : *std::min_element(a.begin(), a.end());
      });
}

OpResult qtc::eval::unary(Inputs in, llvm::StringRef op) {
  if (in.empty() || !in[0])
    return fail("expected an operand");
  std::function<double(double)> f =
      llvm::StringSwitch<std::function<double(double)>>(op)
          .Case("Cos", [](double x) { return std::cos(x); })
          .Case("Sin", [](double x) { return std::sin(x); })
          .Case("Neg", [](double x) { return -x; })
          .Case("Abs", [](double x) { return std::fabs(x); })
          .Case("Sqrt", [](double x) { return std::sqrt(x); })
          .Case("Reciprocal", [](double x) { return 1.0 / x; })
          .Case("Exp", [](double x) { return std::exp(x); })
          .Case("Floor", [](double x) { return std::floor(x); })
          .Case("Ceil", [](double x) { return std::ceil(x); })
          .Default([](double x) { return x; });
  return elementwise(
      in.take_front(1), in[0]->dtype,
      [&](llvm::ArrayRef<double> a) { return f(a[0]); },
      [&](llvm::ArrayRef<int64_t> a) -> int64_t {
        if (op == "Neg")
          return wrap(0 - uint64_t(a[0]));
        if (op == "Abs")
          return a[0] < 0 ? wrap(0 - uint64_t(a[0])) : a[0];
        return a[0];
      });
}

OpResult qtc::eval::where(Inputs in) {
  if (in.size() != 3 || !in[0] || !in[1] || !in[2])
    return fail("expected three operands");
  return elementwise(
      in, in[1]->dtype,
      [](llvm::ArrayRef<double> a) { return a[0] != 0.0 ? a[1] : a[2]; },
      [](llvm::ArrayRef<int64_t> a) { return a[0] ? a[1] : a[2]; });
}

OpResult qtc::eval::cast(const OnnxNode &node, Inputs in) {
  std::optional<DType> target = castTarget(node.intAttribute("to", 0));
  if (!target || !in[0])
    return fail("unsupported Cast target type " +
                std::to_string(node.intAttribute("to", 0)));
  auto result = makeTensor(*target, in[0]->shape);
  if (!result)
    return result.takeError();
  for (int64_t i = 0, e = result->numElements(); i < e; ++i) {
    if (result->isFloat())
      result->floats[i] = in[0]->floatAt(i);
    else if (*target == DType::Bool)
      result->ints[i] = in[0]->floatAt(i) != 0.0;
    else
      result->ints[i] = in[0]->intAt(i);
  }
  return result;
}
