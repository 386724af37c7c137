//===- OnnxHeads.h - Per-head views of projections ------------*- C++ -*-===//
//
// Attention splits a projection [1, T, heads * head_dim] into heads with a
// Reshape to [1, T, heads, head_dim], usually followed by a Transpose to
// [1, heads, T, head_dim]. RoPE and attention raising look through that
// view to the [tokens, features] activation tfm ops take.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXHEADS_H
#define QTC_LIB_IMPORT_ONNXHEADS_H

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace qtc {

struct HeadView {
  /// The projection: [1, T, heads * head_dim] or [T, heads * head_dim].
  mlir::Value tokens;
  int64_t heads = 0;
  int64_t headDim = 0;
  /// [1, heads, T, head_dim] (true) or [1, T, heads, head_dim] (false).
  bool headsFirst = true;
  /// The ops that build the view, outermost last.
  mlir::Operation *reshape = nullptr;
  mlir::Operation *transpose = nullptr;
};

/// The head view `v` is, or nullopt.
std::optional<HeadView> matchHeadView(mlir::Value v);

/// The same view built on `tokens` (of the original projection's type).
mlir::Value rebuildHeadView(mlir::PatternRewriter &rewriter,
                            const HeadView &view, mlir::Value tokens);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXHEADS_H
