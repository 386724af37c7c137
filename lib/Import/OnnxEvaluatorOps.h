//===- OnnxEvaluatorOps.h - Op kernels of the constant evaluator -*- C++
//-*-===//
//
// The kernels OnnxConstantEvaluator dispatches to, one per ONNX op, and the
// indexing they share. Operands are the node's inputs in order (null for an
// omitted optional input); every kernel validates what it reads, since the
// graph is untrusted input.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXEVALUATOROPS_H
#define QTC_LIB_IMPORT_ONNXEVALUATOROPS_H

#include "HostTensor.h"
#include "OnnxGraph.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

namespace qtc::eval {

using Inputs = llvm::ArrayRef<const HostTensor *>;
using OpResult = llvm::Expected<HostTensor>;

// Shared indexing (OnnxEvaluatorIndexing.cpp).
llvm::Error fail(const llvm::Twine &message);
std::string shapeText(llvm::ArrayRef<int64_t> shape);
/// Element count of `shape`, failing past OnnxConstantEvaluator::kMaxElements.
llvm::Expected<int64_t> checkedCount(llvm::ArrayRef<int64_t> shape);
llvm::Expected<HostTensor> makeTensor(DType dtype,
                                      llvm::ArrayRef<int64_t> shape);
/// Row-major flat index -> multi-index.
llvm::SmallVector<int64_t, 4> unflatten(int64_t flat,
                                        llvm::ArrayRef<int64_t> shape);
/// The flat index into `shape` of output multi-index `index` under numpy
/// broadcasting (`shape` is right-aligned with the output's rank).
int64_t broadcastFlat(llvm::ArrayRef<int64_t> index,
                      llvm::ArrayRef<int64_t> shape);
llvm::Expected<llvm::SmallVector<int64_t, 4>>
broadcastShapes(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes);
int64_t normalizeAxis(int64_t axis, int64_t rank);
llvm::Expected<llvm::SmallVector<int64_t, 4>> intsOf(const HostTensor *tensor,
                                                     llvm::StringRef what);
llvm::Expected<double> scalarOf(const HostTensor *tensor, llvm::StringRef what);
/// Integer arithmetic wraps (as ONNX runtimes do) instead of overflowing.
int64_t wrap(uint64_t value);

// Element-wise kernels (OnnxEvaluatorElementwiseOps.cpp).
/// Add, Sub, Mul, Div, Pow (`op` is + - * / ^).
OpResult binaryArith(Inputs in, char op);
/// Equal, Less, LessOrEqual, Greater, GreaterOrEqual.
OpResult compare(Inputs in, llvm::StringRef op);
/// And, Or, Xor, Not.
OpResult logical(Inputs in, llvm::StringRef op);
OpResult minMax(Inputs in, bool isMax);
/// Cos, Sin, Neg, Abs, Sqrt, Reciprocal, Exp, Floor, Ceil.
OpResult unary(Inputs in, llvm::StringRef op);
OpResult where(Inputs in);
OpResult cast(const OnnxNode &node, Inputs in);

// Kernels that move or generate data (OnnxEvaluatorLayoutOps.cpp).
OpResult reshape(const OnnxNode &node, Inputs in);
OpResult transpose(const OnnxNode &node, Inputs in);
OpResult unsqueeze(Inputs in);
OpResult squeeze(Inputs in);
OpResult concat(const OnnxNode &node, Inputs in);
OpResult slice(Inputs in);
OpResult gather(const OnnxNode &node, Inputs in);
OpResult gatherND(const OnnxNode &node, Inputs in);
OpResult expand(Inputs in);
OpResult range(Inputs in);
OpResult cumSum(const OnnxNode &node, Inputs in);
OpResult matMul(Inputs in);
OpResult trilu(const OnnxNode &node, Inputs in);
OpResult constantOfShape(const OnnxNode &node, Inputs in);

} // namespace qtc::eval

#endif // QTC_LIB_IMPORT_ONNXEVALUATOROPS_H
