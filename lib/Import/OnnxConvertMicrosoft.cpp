//===- OnnxConvertMicrosoft.cpp - onnxruntime's fused ops -> typed onnx ---===//
//
// qtc-onnx-convert-nodes' entries for onnxruntime's transformer-optimizer
// ops (com.microsoft): GroupQueryAttention and MultiHeadAttention become the
// opset-23 Attention, RotaryEmbedding (and GroupQueryAttention's do_rotary)
// the decomposition qtc-onnx-raise-rope reads. What changes the numbers and
// is not converted is an error naming the node.
//
//===----------------------------------------------------------------------===//

#include "OnnxConvertSupport.h"

namespace qtc::onnxconvert {
namespace {

Value i64s(Node &n, ArrayRef<int64_t> values) {
  auto type = tensor({int64_t(values.size())}, n.b.getI64Type());
  return ConstantOp::create(n.b, n.loc(), type,
                            DenseElementsAttr::get(type, values))
      .getResult();
}

FailureOr<Value> rotateHalf(Node &n, Value x, Value pos, Value cosCache,
                            Value sinCache, int64_t heads, bool interleaved);

// onnxruntime's fused attentions (com.microsoft, transformer optimizer) as
// the opset-23 Attention op on [batch, tokens, heads * head_dim] inputs.
// Their past key/value operands are the runtime's cache: after
// qtc-onnx-strip-kv-cache they are absent; a present output still used is
// not converted. Attributes and inputs that change the numbers and are not
// raised are errors here rather than dropped.
LogicalResult fusedAttentionChecks(Node &n, ArrayRef<unsigned> pasts,
                                   ArrayRef<std::pair<unsigned, StringRef>> unsupported) {
  for (unsigned i : pasts)
    if (n.input(i))
      return n.error() << "has a past key/value input that is not a graph "
                          "input qtc-onnx-strip-kv-cache removes (the runtime "
                          "owns the cache)",
             failure();
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    if (!n.op.getResult(r).use_empty())
      return n.error() << "its present key/value or QK output is used, which "
                          "is not converted (the present of a past graph "
                          "input is the runtime's cache)",
             failure();
  for (auto [i, what] : unsupported)
    if (n.input(i))
      return n.error() << "has a " << what << " input, which is not converted",
             failure();
  return success();
}

Result fusedAttention(Node &n, Value q, Value k, Value mask, int64_t causal,
                      int64_t heads, int64_t kvHeads) {
  Value v = n.input(2);
  if (!k || !v)
    return n.error() << "packs Q, K and V into one input, which is not "
                        "converted",
           failure();
  std::optional<Dims> dq = dimsOf(q), dk = dimsOf(k), dv = dimsOf(v);
  if (!dq || !dk || !dv || dq->size() != 3 || dk->size() != 3 || dv->size() != 3)
    return n.error() << "needs Q, K and V of rank 3 ([batch, tokens, heads * "
                        "head_dim])",
           failure();
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads)
    return n.error() << "needs num_heads a positive multiple of the key/value "
                        "heads (" << heads << ", " << kvHeads << ")",
           failure();
  FloatAttr scale;
  if (auto a = dyn_cast_or_null<FloatAttr>(n.op.getAttrs().get("scale")))
    if (a.getValueAsDouble() != 0.0)
      scale = n.b.getF32FloatAttr(float(a.getValueAsDouble()));
  Dims out = *dq;
  out[2] = ShapedType::isDynamic((*dv)[2]) ? kDyn : (*dv)[2] / kvHeads * heads;
  auto op = AttentionOp::create(
      n.b, n.loc(), tensor(out, elementOf(q)), q, k, v, mask,
      n.b.getI64IntegerAttr(causal), n.b.getI64IntegerAttr(heads),
      n.b.getI64IntegerAttr(kvHeads), scale, n.b.getF32FloatAttr(0.0f));
  SmallVector<Value> results{op.getResult()};
  results.resize(n.op.getNumResults());
  return results;
}

// GroupQueryAttention(query, key, value, past_key, past_value, seqlens_k,
// total_sequence_length, cos_cache, sin_cache, position_ids,
// attention_bias, head_sink): always causal. seqlens_k and
// total_sequence_length state the lengths of a batch's (left-aligned)
// sequences; qtc runs one sequence, all of whose tokens are attended.
} // namespace

Result groupQueryAttention(Node &n) {
  bool rotary = n.intAttr("do_rotary", 0);
  bool interleaved = n.intAttr("rotary_interleaved", 0) != 0;
  if (n.intAttr("local_window_size", -1) != -1)
    return n.error() << "has a local window (local_window_size = "
                     << n.intAttr("local_window_size", -1)
                     << "), which is not converted",
           failure();
  if (n.floatAttr("softcap", 0.0f) != 0.0f || n.intAttr("smooth_softmax", 0))
    return n.error() << "has a softcap or a smooth softmax, which is not "
                        "converted",
           failure();
  SmallVector<std::pair<unsigned, StringRef>> unsupported{
      {10, "attention_bias"}, {11, "head_sink"}};
  if (!rotary)
    unsupported.push_back({9, "position_ids (without do_rotary)"});
  if (failed(fusedAttentionChecks(n, {3, 4}, unsupported)))
    return failure();
  int64_t heads = n.intAttr("num_heads", 0), kvHeads = n.intAttr("kv_num_heads", 0);
  Value q = n.input(0), k = n.input(1);
  if (rotary) {
    // do_rotary: q and k rotated by the cos_cache/sin_cache rows of their
    // positions, position_ids or else 0..T-1 (the past being the runtime's).
    Value cosCache = n.input(7), sinCache = n.input(8), pos = n.input(9);
    std::optional<Dims> dq = q ? dimsOf(q) : std::nullopt;
    std::optional<Dims> dc = cosCache ? dimsOf(cosCache) : std::nullopt;
    std::optional<Dims> ds = sinCache ? dimsOf(sinCache) : std::nullopt;
    std::optional<Dims> dp = pos ? dimsOf(pos) : std::nullopt;
    if (!k || !dq || dq->size() != 3 || !dc || dc->size() != 2 ||
        ShapedType::isDynamic((*dc)[1]) || !ds || *ds != *dc ||
        (pos && (!dp || dp->size() != 2)))
      return n.error() << "do_rotary needs 3-D query and key, cos_cache and "
                          "sin_cache of one static [positions, head_size / "
                          "2] shape and [batch, tokens] position_ids if any",
             failure();
    if (!pos) {
      Type i64 = n.b.getI64Type();
      auto scalar = [&](int64_t v) {
        auto t = tensor({}, i64);
        return ConstantOp::create(n.b, n.loc(), t, DenseElementsAttr::get(t, v))
            .getResult();
      };
      Value len = build<ShapeOp>(n, tensor({1}, i64), q,
                                 n.b.getI64IntegerAttr(1),
                                 n.b.getI64IntegerAttr(2));
      Value count = build<SqueezeOp>(n, tensor({}, i64), len,
                                     n.b.getDenseI64ArrayAttr({0}));
      Value zero = scalar(0), one = scalar(1);
      Value range = build<RangeOp>(n, tensor({(*dq)[1]}, i64), zero, count, one);
      pos = build<UnsqueezeOp>(n, tensor({1, (*dq)[1]}, i64), range,
                               n.b.getDenseI64ArrayAttr({0}));
    }
    FailureOr<Value> qr =
        rotateHalf(n, q, pos, cosCache, sinCache, heads, interleaved);
    if (failed(qr))
      return failure();
    FailureOr<Value> kr =
        rotateHalf(n, k, pos, cosCache, sinCache, kvHeads, interleaved);
    if (failed(kr))
      return failure();
    q = *qr;
    k = *kr;
  }
  return fusedAttention(n, q, k, Value(), /*causal=*/1, heads, kvHeads);
}

// MultiHeadAttention(query, key, value, bias, key_padding_mask,
// attention_bias, past_key, past_value, past_sequence_length,
// cache_indirection): `unidirectional` is causal; attention_bias an
// additive mask ([1 or batch, 1 or heads, T, T]).
Result multiHeadAttention(Node &n) {
  if (failed(fusedAttentionChecks(n, {6, 7},
                                  {{3, "bias"},
                                   {4, "key_padding_mask"},
                                   {8, "past_sequence_length"},
                                   {9, "cache_indirection"}})))
    return failure();
  int64_t heads = n.intAttr("num_heads", 0);
  return fusedAttention(n, n.input(0), n.input(1), n.input(5),
                        n.intAttr("unidirectional", 0), heads, heads);
}

// com.microsoft RotaryEmbedding(input, position_ids, cos_cache, sin_cache)
// as the decomposition qtc-onnx-raise-rope reads: x * cos + rotate_half(x) *
// sin on a [1, T, N, H] view of a 3-D input (or on the [1, N, T, H] input),
// cos/sin the cache rows gathered by position_ids, repeated for both halves.
Result rotaryEmbedding(Node &n) {
  Value x = n.input(0), pos = n.input(1), cosCache = n.input(2),
        sinCache = n.input(3);
  if (!x || !pos || !cosCache || !sinCache)
    return n.error() << "needs input, position_ids, cos_cache and sin_cache",
           failure();
  if (n.intAttr("is_packed_batching", 0))
    return n.error() << "has packed batching, which is not converted",
           failure();
  if (n.floatAttr("scale", 1.0f) != 1.0f)
    return n.error() << "has scale " << n.floatAttr("scale", 1.0f)
                     << ", which is not converted (only 1)",
           failure();
  std::optional<Dims> dx = dimsOf(x), dp = dimsOf(pos), dc = dimsOf(cosCache),
                      ds = dimsOf(sinCache);
  if (!dx || (dx->size() != 3 && dx->size() != 4) || !dp || dp->size() != 2 ||
      !dc || dc->size() != 2 || ShapedType::isDynamic((*dc)[1]) || !ds ||
      *ds != *dc)
    return n.error() << "needs a 3-D or 4-D input, [batch, tokens] "
                        "position_ids and cos/sin caches of one static "
                        "[positions, head_size / 2] shape",
           failure();
  int64_t rotary = n.intAttr("rotary_embedding_dim", 0);
  if (rotary && rotary != 2 * (*dc)[1])
    return n.error() << "rotates " << rotary << " of " << 2 * (*dc)[1]
                     << " features (partial rotary), which is not converted",
           failure();
  FailureOr<Value> y = rotateHalf(n, x, pos, cosCache, sinCache,
                                  n.intAttr("num_heads", 0),
                                  n.intAttr("interleaved", 0) != 0);
  if (failed(y))
    return failure();
  return one(*y);
}

namespace {

/// x * cos + rotate_half(x) * sin for `x` [b, T, heads * H] (viewed as
/// [b, T, heads, H]) or [b, N, T, H], cos/sin the rows of [P, H / 2] caches
/// gathered by `pos` [b, T] and repeated for both halves; interleaved: GPT-J's
/// rotate_every_two(x) (step-2 Slices, Neg, Unsqueeze, Concat, Reshape), each
/// row's entries repeated side by side.
FailureOr<Value> rotateHalf(Node &n, Value x, Value pos, Value cosCache,
                            Value sinCache, int64_t heads, bool interleaved) {
  std::optional<Dims> dx = dimsOf(x), dp = dimsOf(pos), dc = dimsOf(cosCache);
  Type et = elementOf(x);
  if (elementOf(cosCache) != et || elementOf(sinCache) != et)
    return n.error() << "needs cos/sin caches of the input's element type",
           failure();
  int64_t half = (*dc)[1], head = 2 * half;
  bool flat = dx->size() == 3;
  if (!flat)
    heads = (*dx)[1];
  if (flat && heads == 0 && !ShapedType::isDynamic((*dx)[2]))
    heads = (*dx)[2] / head;
  if (flat && (ShapedType::isDynamic((*dx)[2]) || heads <= 0 ||
               heads * head != (*dx)[2]))
    return n.error() << "needs a hidden size of num_heads x head_size "
                        "(cos_cache's width x 2)",
           failure();
  Dims viewDims = flat ? Dims{(*dx)[0], (*dx)[1], heads, head} : *dx;
  // A dynamic batch is copied (0) rather than stated.
  int64_t lead = ShapedType::isDynamic((*dx)[0]) ? 0 : (*dx)[0];
  Value view = flat ? build<ReshapeOp>(n, tensor(viewDims, et), x,
                                       i64s(n, {lead, -1, heads, head}),
                                       n.b.getI64IntegerAttr(0))
                    : x;
  // cos/sin [b, T, H] broadcast over the heads' axis (2 in the view of a
  // 3-D input, 1 in a [b, N, T, H] input).
  int64_t headAxis = flat ? 2 : 1;
  auto table = [&](Value cache) {
    Value rows = build<GatherOp>(n, tensor({(*dp)[0], (*dp)[1], half}, et),
                                 cache, pos, n.b.getI64IntegerAttr(0));
    Value both;
    if (interleaved) {
      Value col = build<UnsqueezeOp>(n, tensor({(*dp)[0], (*dp)[1], half, 1}, et),
                                     rows, n.b.getDenseI64ArrayAttr({3}));
      Value pairs = build<ConcatOp>(n, tensor({(*dp)[0], (*dp)[1], half, 2}, et),
                                    ValueRange{col, col}, n.b.getI64IntegerAttr(3));
      int64_t posLead = ShapedType::isDynamic((*dp)[0]) ? 0 : (*dp)[0];
      both = build<ReshapeOp>(n, tensor({(*dp)[0], (*dp)[1], head}, et), pairs,
                              i64s(n, {posLead, -1, head}),
                              n.b.getI64IntegerAttr(0));
    } else {
      both = build<ConcatOp>(n, tensor({(*dp)[0], (*dp)[1], head}, et),
                             ValueRange{rows, rows}, n.b.getI64IntegerAttr(2));
    }
    Dims d{(*dp)[0], (*dp)[1], head};
    d.insert(d.begin() + headAxis, 1);
    return build<UnsqueezeOp>(n, tensor(d, et), both,
                              n.b.getDenseI64ArrayAttr({headAxis}));
  };
  Value cos = table(cosCache), sin = table(sinCache);
  Dims halfDims = viewDims;
  halfDims[3] = half;
  Type viewType = view.getType();
  Value rotated;
  if (interleaved) {
    // flatten(stack(-x[..., 1::2], x[..., 0::2]), -2).
    Value even = build<SliceOp>(n, tensor(halfDims, et), view, i64s(n, {0}),
                                i64s(n, {head}), i64s(n, {3}), i64s(n, {2}));
    Value odd = build<SliceOp>(n, tensor(halfDims, et), view, i64s(n, {1}),
                               i64s(n, {head}), i64s(n, {3}), i64s(n, {2}));
    Dims pairDims = halfDims;
    pairDims.push_back(1);
    Value negated = build<NegOp>(n, odd.getType(), odd);
    Value first = build<UnsqueezeOp>(n, tensor(pairDims, et), negated,
                                     n.b.getDenseI64ArrayAttr({4}));
    Value second = build<UnsqueezeOp>(n, tensor(pairDims, et), even,
                                      n.b.getDenseI64ArrayAttr({4}));
    pairDims.back() = 2;
    Value pairs = build<ConcatOp>(n, tensor(pairDims, et),
                                  ValueRange{first, second},
                                  n.b.getI64IntegerAttr(4));
    SmallVector<int64_t> target(viewDims.begin(), viewDims.end());
    for (auto [i, d] : llvm::enumerate(target))
      if (ShapedType::isDynamic(d))
        d = i == 0 ? 0 : -1; // a dynamic batch copied
    if (llvm::count(target, -1) > 1)
      return n.error() << "needs at most one dynamic dimension besides the "
                          "batch for interleaved rotary",
             failure();
    rotated = build<ReshapeOp>(n, viewType, pairs, i64s(n, target),
                               n.b.getI64IntegerAttr(0));
  } else {
    Value lo = build<SliceOp>(n, tensor(halfDims, et), view, i64s(n, {0}),
                              i64s(n, {half}), i64s(n, {3}), i64s(n, {1}));
    Value hi = build<SliceOp>(n, tensor(halfDims, et), view, i64s(n, {half}),
                              i64s(n, {head}), i64s(n, {3}), i64s(n, {1}));
    Value negated = build<NegOp>(n, hi.getType(), hi);
    rotated = build<ConcatOp>(n, viewType, ValueRange{negated, lo},
                              n.b.getI64IntegerAttr(3));
  }
  Value plain = build<MulOp>(n, viewType, view, cos);
  Value turned = build<MulOp>(n, viewType, rotated, sin);
  Value y = build<AddOp>(n, viewType, plain, turned);
  if (flat)
    y = build<ReshapeOp>(n, x.getType(), y,
                         i64s(n, {lead, -1, (*dx)[2]}),
                         n.b.getI64IntegerAttr(0));
  return y;
}

} // namespace

} // namespace qtc::onnxconvert
