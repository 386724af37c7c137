//===- OnnxBindStructure.cpp - The raised decoder's layers ----------------===//
//
// Walks back from @main's result along the residual stream: head <- final
// norm <- (Add of the MLP branch <- Add of the attention branch)* <-
// embedding. Each branch is told apart from the stream by what it computes
// (a linear of a swiglu, a linear of an attention), never by names.
//
//===----------------------------------------------------------------------===//

#include "OnnxBindStructure.h"

#include "OnnxRaiseSupport.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace qtc;
using namespace qtc::tfm;

namespace {

std::string describe(Value v) {
  if (Operation *op = v.getDefiningOp())
    return describeNode(op);
  return "a graph input";
}

class DecoderFinder {
public:
  explicit DecoderFinder(func::FuncOp main) : main(main) {}

  FailureOr<RaisedDecoder> run();

private:
  /// `v` with reshapes between [1, T, F] and [T, F] and float-to-float
  /// casts skipped (recorded as part of the structure).
  Value underlying(Value v);

  /// The op of type OpTy that `v` is (through underlying()); otherwise an
  /// error naming what `v` is where the decoder needs `role`.
  template <typename OpTy>
  FailureOr<OpTy> expect(Value v, StringRef role) {
    Value u = underlying(v);
    if (auto op = u.getDefiningOp<OpTy>()) {
      found.ops.insert(op);
      return op;
    }
    Operation *at = u.getDefiningOp();
    emitError(at ? at->getLoc() : main.getLoc())
        << "cannot bind the raised decoder to tfm.model: " << describe(u)
        << " is where the decoder needs " << role << " ("
        << OpTy::getOperationName() << ")";
    return failure();
  }

  /// Fails with a diagnostic at `op` unless `v` is (through underlying())
  /// `expected`.
  LogicalResult same(Value v, Value expected, Operation *op,
                     StringRef what) {
    if (underlying(v) == expected)
      return success();
    return op->emitError() << "cannot bind the raised decoder to tfm.model: "
                           << describeNode(op) << " " << what;
  }

  /// Splits the residual Add `add` into (stream, branch) where the branch is
  /// a linear whose input is an op of type BranchOp.
  template <typename BranchOp>
  FailureOr<std::pair<Value, LinearOp>> splitResidual(onnxir::AddOp add,
                                                      StringRef branch) {
    found.ops.insert(add);
    Value sides[2] = {underlying(add.getLhs()), underlying(add.getRhs())};
    for (int i = 0; i < 2; ++i) {
      auto linear = sides[i].getDefiningOp<LinearOp>();
      if (linear && underlying(linear.getInput()).getDefiningOp<BranchOp>()) {
        found.ops.insert(linear);
        return std::make_pair(sides[1 - i], linear);
      }
    }
    return add.emitError()
           << "cannot bind the raised decoder to tfm.model: the residual "
           << describeNode(add) << " adds no " << branch;
  }

  /// The rope `v` is, and the projection it rotates: rope(linear), or for
  /// interleaved RoPE Gather(rope(Gather(linear, perm)), inverse) on the
  /// feature axis (`perm` returned in `permutation`).
  LogicalResult rotated(Value v, StringRef role, RopeOp &rope,
                        LinearOp &projection,
                        SmallVectorImpl<int64_t> &permutation);

  /// Recognizes the layer whose output is the residual Add `add`; returns
  /// the layer's input stream.
  FailureOr<Value> layer(onnxir::AddOp add, RaisedLayer &l);

  func::FuncOp main;
  RaisedDecoder found;
};

Value DecoderFinder::underlying(Value v) {
  while (Operation *op = v.getDefiningOp()) {
    Value source;
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
      source = collapse.getSrc();
    else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      source = expand.getSrc();
    else if (auto cast = dyn_cast<onnxir::CastOp>(op))
      if (isa<FloatType>(getElementTypeOrSelf(cast.getInput().getType())) &&
          isa<FloatType>(getElementTypeOrSelf(cast.getType())))
        source = cast.getInput();
    if (!source)
      break;
    found.ops.insert(op);
    v = source;
  }
  return v;
}

/// The constant indices of a Gather on axis 1 of a [T, F] value, or none.
std::optional<SmallVector<int64_t>> featureGather(onnxir::GatherOp g) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(constantOf(g.getIndices()));
  auto type = dyn_cast<RankedTensorType>(g.getData().getType());
  if (!dense || !type || type.getRank() != 2 || g.getAxis() != 1 ||
      dense.getNumElements() != type.getDimSize(1))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (APInt i : dense.getValues<APInt>())
    out.push_back(i.getSExtValue());
  return out;
}

LogicalResult DecoderFinder::rotated(Value v, StringRef role, RopeOp &rope,
                                     LinearOp &projection,
                                     SmallVectorImpl<int64_t> &permutation) {
  Value u = underlying(v);
  std::optional<SmallVector<int64_t>> inverse;
  if (auto back = u.getDefiningOp<onnxir::GatherOp>()) {
    inverse = featureGather(back);
    if (inverse) {
      found.ops.insert(back);
      u = underlying(back.getData());
    }
  }
  FailureOr<RopeOp> r = expect<RopeOp>(u, role);
  if (failed(r))
    return failure();
  rope = *r;
  Value in = underlying(rope.getInput());
  if (inverse) {
    auto forward = in.getDefiningOp<onnxir::GatherOp>();
    std::optional<SmallVector<int64_t>> perm =
        forward ? featureGather(forward) : std::nullopt;
    bool inverts = perm && perm->size() == inverse->size();
    for (size_t i = 0; inverts && i < perm->size(); ++i)
      inverts = (*perm)[i] >= 0 && (*perm)[i] < int64_t(perm->size()) &&
                (*inverse)[(*perm)[i]] == int64_t(i);
    if (!inverts)
      return rope.emitError()
             << "cannot bind the raised decoder to tfm.model: "
             << describeNode(rope)
             << " is permuted back by a Gather that undoes no permutation of "
                "its input";
    found.ops.insert(forward);
    permutation.assign(perm->begin(), perm->end());
    in = underlying(forward.getData());
  }
  FailureOr<LinearOp> linear =
      expect<LinearOp>(in, role == "the rotated query" ? "the query projection"
                                                       : "the key projection");
  if (failed(linear))
    return failure();
  projection = *linear;
  return success();
}

FailureOr<Value> DecoderFinder::layer(onnxir::AddOp add, RaisedLayer &l) {
  auto mlp = splitResidual<SwigluOp>(add, "MLP output (a linear of a swiglu)");
  if (failed(mlp))
    return failure();
  auto [mid, down] = *mlp;
  l.down = down;
  FailureOr<SwigluOp> swiglu = expect<SwigluOp>(down.getInput(), "the MLP");
  if (failed(swiglu))
    return failure();
  l.swiglu = *swiglu;
  FailureOr<LinearOp> gate = expect<LinearOp>(l.swiglu.getGate(), "the gate projection");
  FailureOr<LinearOp> up = succeeded(gate)
                               ? expect<LinearOp>(l.swiglu.getUp(), "the up projection")
                               : FailureOr<LinearOp>(failure());
  if (failed(up))
    return failure();
  l.gate = *gate;
  l.up = *up;
  FailureOr<RmsNormOp> post =
      expect<RmsNormOp>(l.gate.getInput(), "the post-attention RMSNorm");
  if (failed(post))
    return failure();
  l.postAttentionNorm = *post;
  if (failed(same(l.up.getInput(), post->getResult(), l.up,
                  "does not read the gate projection's input")) ||
      failed(same(post->getInput(), mid, *post,
                  "does not normalize the residual stream")))
    return failure();

  auto midAdd = mid.getDefiningOp<onnxir::AddOp>();
  if (!midAdd) {
    Operation *at = mid.getDefiningOp();
    return emitError(at ? at->getLoc() : main.getLoc())
           << "cannot bind the raised decoder to tfm.model: " << describe(mid)
           << " is where the decoder needs the attention's residual Add";
  }
  auto attn = splitResidual<AttentionOp>(
      midAdd, "attention output (a linear of an attention)");
  if (failed(attn))
    return failure();
  auto [input, output] = *attn;
  l.output = output;
  FailureOr<AttentionOp> attention =
      expect<AttentionOp>(output.getInput(), "the attention");
  if (failed(attention))
    return failure();
  l.attention = *attention;
  if (l.attention.getMask())
    return l.attention.emitError()
           << "cannot bind the raised decoder to tfm.model: "
           << describeNode(l.attention)
           << " has an explicit mask; tfm.model's attention is causal";
  if (failed(rotated(l.attention.getQuery(), "the rotated query", l.queryRope,
                     l.query, l.queryPermutation)) ||
      failed(rotated(l.attention.getKey(), "the rotated key", l.keyRope, l.key,
                     l.keyPermutation)))
    return failure();
  // Attention sees q.k per head: the same permutation of each head's
  // features on both sides cancels.
  int64_t d = l.attention.getHeadDim();
  auto perHead = [&](ArrayRef<int64_t> perm, int64_t index) {
    return perm[index] - (index / d) * d;
  };
  bool consistent = l.queryPermutation.empty() == l.keyPermutation.empty();
  for (size_t i = 0; consistent && i < l.queryPermutation.size(); ++i)
    consistent = l.queryPermutation[i] / d == int64_t(i) / d &&
                 perHead(l.queryPermutation, i) == perHead(l.queryPermutation, i % d);
  for (size_t i = 0; consistent && i < l.keyPermutation.size(); ++i)
    consistent = l.keyPermutation[i] / d == int64_t(i) / d &&
                 perHead(l.keyPermutation, i) == perHead(l.queryPermutation, i % d);
  if (!consistent)
    return l.attention.emitError()
           << "cannot bind the raised decoder to tfm.model: the query and the "
              "key of "
           << describeNode(l.attention)
           << " are not rotated in the same layout, head by head";
  FailureOr<LinearOp> v =
      expect<LinearOp>(l.attention.getValue(), "the value projection");
  if (failed(v))
    return failure();
  l.value = *v;
  FailureOr<RmsNormOp> norm =
      expect<RmsNormOp>(l.query.getInput(), "the input RMSNorm");
  if (failed(norm))
    return failure();
  l.inputNorm = *norm;
  if (failed(same(l.key.getInput(), norm->getResult(), l.key,
                  "does not read the query projection's input")) ||
      failed(same(l.value.getInput(), norm->getResult(), l.value,
                  "does not read the query projection's input")) ||
      failed(same(norm->getInput(), input, *norm,
                  "does not normalize the residual stream")))
    return failure();
  return input;
}

FailureOr<RaisedDecoder> DecoderFinder::run() {
  auto ret = cast<func::ReturnOp>(main.getBody().front().getTerminator());
  if (ret.getNumOperands() != 1)
    return main.emitError() << "cannot bind the raised decoder to tfm.model: "
                               "expected one graph output (the logits), found "
                            << ret.getNumOperands();
  found.ops.insert(ret);
  FailureOr<LinearOp> head = expect<LinearOp>(ret.getOperand(0), "the lm_head");
  if (failed(head))
    return failure();
  found.head = *head;
  FailureOr<RmsNormOp> norm = expect<RmsNormOp>(head->getInput(), "the final RMSNorm");
  if (failed(norm))
    return failure();
  found.finalNorm = *norm;

  Value stream = underlying(norm->getInput());
  while (auto add = stream.getDefiningOp<onnxir::AddOp>()) {
    RaisedLayer l;
    FailureOr<Value> input = layer(add, l);
    if (failed(input))
      return failure();
    found.layers.push_back(l);
    for (Operation *op :
         {l.inputNorm.getOperation(), l.query.getOperation(), l.key.getOperation(),
          l.value.getOperation(), l.queryRope.getOperation(), l.keyRope.getOperation(),
          l.attention.getOperation(), l.output.getOperation(),
          l.postAttentionNorm.getOperation(), l.gate.getOperation(), l.up.getOperation(),
          l.swiglu.getOperation(), l.down.getOperation()})
      found.ops.insert(op);
    stream = *input;
  }
  std::reverse(found.layers.begin(), found.layers.end());
  auto embedding = stream.getDefiningOp<EmbeddingOp>();
  if (!embedding) {
    Operation *at = stream.getDefiningOp();
    return emitError(at ? at->getLoc() : main.getLoc())
           << "cannot bind the raised decoder to tfm.model: " << describe(stream)
           << " is where the decoder needs the token embedding (tfm.embedding)";
  }
  if (found.layers.empty())
    return embedding.emitError()
           << "cannot bind the raised decoder to tfm.model: no decoder layer "
              "between the embedding and the final norm";
  found.embedding = embedding;
  found.ops.insert(embedding);
  return std::move(found);
}

} // namespace

FailureOr<RaisedDecoder> qtc::findRaisedDecoder(func::FuncOp main) {
  return DecoderFinder(main).run();
}
