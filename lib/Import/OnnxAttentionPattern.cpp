//===- OnnxAttentionPattern.cpp - Decomposed causal GQA attention ---------===//
//
// Anchored on the Softmax of the attention core, the pattern walks back to
// the three projections and forward to the merged heads:
//
//   heads(x)   = Transpose(Reshape(x, [b, s, H, D]), [0, 2, 1, 3])
//   rope(h)    = Add(Mul(h, cos), Mul(Concat(Neg(h[.., D/2:]), h[.., :D/2]),
//   sin)) repeat(h)  = Reshape(Expand(Unsqueeze(h, 2), [b, Hkv, n, s, D]), [b,
//   Hkv*n, s, D]) scores     = MatMul(rope(heads(q)),
//   Transpose(repeat(rope(heads(k))), [0,1,3,2])) probs      =
//   Softmax(Add(Mul(scores, scale), mask)) out        =
//   Reshape(Transpose(MatMul(probs, repeat(heads(v))), [0,2,1,3]), [b, s, H*D])
//
// The mask and the cos/sin tables are computed from the sequence length;
// they are evaluated to check that the mask is causal and to read the RoPE
// frequencies (positions are 0..s-1, the tfm model's positions argument).
//
//===----------------------------------------------------------------------===//

#include "OnnxPatterns.h"
#include "RopeFrequencies.h"

#include <cmath>

using namespace qtc;

namespace {

using Nodes = llvm::SmallVector<const OnnxNode *, 16>;

bool isLastAxis(int64_t axis, int64_t rank) {
  return axis == -1 || axis == rank - 1;
}

struct HeadSplit {
  std::string source;
  int64_t heads = 0;
  int64_t headDim = 0;
};

// Transpose(Reshape(x, [b, s, H, D]), [0, 2, 1, 3]) with x a raised value.
std::optional<HeadSplit> matchHeadSplit(PatternContext &context,
                                        llvm::StringRef value,
                                        const OnnxNode &anchor, Nodes &nodes) {
  const OnnxNode *transpose = context.def(value, "Transpose");
  if (!transpose || transpose->intsAttribute("perm") !=
                        llvm::SmallVector<int64_t, 4>{0, 2, 1, 3})
    return std::nullopt;
  const OnnxNode *reshape = context.def(transpose->inputs[0], "Reshape");
  if (!reshape || !context.isRaised(reshape->inputs[0]))
    return std::nullopt;
  std::optional<llvm::SmallVector<int64_t, 4>> shape =
      context.ints(reshape->inputs[1], anchor);
  if (!shape || shape->size() != 4 || (*shape)[2] <= 0 || (*shape)[3] <= 0)
    return std::nullopt;
  nodes.append({transpose, reshape});
  return HeadSplit{reshape->inputs[0], (*shape)[2], (*shape)[3]};
}

struct Rotary {
  std::string input;
  std::string cos;
  std::string sin;
  int64_t half = 0;
};

// Slice(x, start, end) along the last axis with step 1.
std::optional<std::pair<int64_t, int64_t>>
matchLastAxisSlice(PatternContext &context, const OnnxNode &slice,
                   const OnnxNode &anchor) {
  if (slice.inputs.size() < 4)
    return std::nullopt;
  auto starts = context.ints(slice.inputs[1], anchor);
  auto ends = context.ints(slice.inputs[2], anchor);
  auto axes = context.ints(slice.inputs[3], anchor);
  if (!starts || !ends || !axes || starts->size() != 1 || ends->size() != 1 ||
      axes->size() != 1 || !isLastAxis((*axes)[0], 4))
    return std::nullopt;
  if (slice.inputs.size() > 4 && !slice.inputs[4].empty()) {
    auto steps = context.ints(slice.inputs[4], anchor);
    if (!steps || *steps != llvm::SmallVector<int64_t, 4>{1})
      return std::nullopt;
  }
  return std::make_pair((*starts)[0], (*ends)[0]);
}

// Concat(Neg(x[.., half:]), x[.., :half]) along the last axis.
std::optional<std::pair<std::string, int64_t>>
matchRotateHalf(PatternContext &context, llvm::StringRef value,
                const OnnxNode &anchor, Nodes &nodes) {
  const OnnxNode *concat = context.def(value, "Concat");
  if (!concat || concat->inputs.size() != 2 ||
      !isLastAxis(concat->intAttribute("axis", 0), 4))
    return std::nullopt;
  const OnnxNode *neg = context.def(concat->inputs[0], "Neg");
  const OnnxNode *upper = neg ? context.def(neg->inputs[0], "Slice") : nullptr;
  const OnnxNode *lower = context.def(concat->inputs[1], "Slice");
  if (!upper || !lower || upper->inputs[0] != lower->inputs[0])
    return std::nullopt;
  auto upperRange = matchLastAxisSlice(context, *upper, anchor);
  auto lowerRange = matchLastAxisSlice(context, *lower, anchor);
  if (!upperRange || !lowerRange || lowerRange->first != 0)
    return std::nullopt;
  int64_t half = lowerRange->second;
  // The upper slice runs from half to the end (exporters write INT64_MAX).
  if (half <= 0 || upperRange->first != half || upperRange->second < 2 * half)
    return std::nullopt;
  nodes.append({concat, neg, upper, lower});
  return std::make_pair(upper->inputs[0], half);
}

std::optional<Rotary> matchRotary(PatternContext &context,
                                  llvm::StringRef value, const OnnxNode &anchor,
                                  Nodes &nodes) {
  const OnnxNode *add = context.def(value, "Add");
  if (!add || add->inputs.size() != 2)
    return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const OnnxNode *cosMul = context.def(add->inputs[side], "Mul");
    const OnnxNode *sinMul = context.def(add->inputs[1 - side], "Mul");
    if (!cosMul || !sinMul)
      continue;
    for (int cosSide = 0; cosSide < 2; ++cosSide) {
      llvm::StringRef x = cosMul->inputs[cosSide];
      llvm::StringRef cos = cosMul->inputs[1 - cosSide];
      if (!context.isShapeOnly(cos) || context.isShapeOnly(x))
        continue;
      for (int sinSide = 0; sinSide < 2; ++sinSide) {
        llvm::StringRef sin = sinMul->inputs[1 - sinSide];
        if (!context.isShapeOnly(sin))
          continue;
        Nodes rotateNodes;
        auto rotated = matchRotateHalf(context, sinMul->inputs[sinSide], anchor,
                                       rotateNodes);
        if (!rotated || rotated->first != x)
          continue;
        nodes.append({add, cosMul, sinMul});
        nodes.append(rotateNodes.begin(), rotateNodes.end());
        return Rotary{x.str(), cos.str(), sin.str(), rotated->second};
      }
    }
  }
  return std::nullopt;
}

struct RepeatKv {
  std::string source;
  int64_t repeats = 1;
  int64_t kvHeads = 0;
};

// repeat_kv: Reshape(Expand(Unsqueeze(h, [2]), [b, Hkv, n, s, D]),
// [b, Hkv * n, s, D]); anything else is taken as unrepeated (n = 1).
RepeatKv matchRepeatKv(PatternContext &context, llvm::StringRef value,
                       const OnnxNode &anchor, Nodes &nodes) {
  const OnnxNode *reshape = context.def(value, "Reshape");
  const OnnxNode *expand =
      reshape ? context.def(reshape->inputs[0], "Expand") : nullptr;
  const OnnxNode *unsqueeze =
      expand ? context.def(expand->inputs[0], "Unsqueeze") : nullptr;
  if (!unsqueeze)
    return RepeatKv{value.str()};
  auto axes = context.ints(unsqueeze->inputs[1], anchor);
  auto expanded = context.ints(expand->inputs[1], anchor);
  auto merged = context.ints(reshape->inputs[1], anchor);
  if (!axes || *axes != llvm::SmallVector<int64_t, 4>{2} || !expanded ||
      expanded->size() != 5 || !merged || merged->size() != 4 ||
      (*merged)[1] != (*expanded)[1] * (*expanded)[2])
    return RepeatKv{value.str()};
  nodes.append({reshape, expand, unsqueeze});
  return RepeatKv{unsqueeze->inputs[0], (*expanded)[2], (*expanded)[1]};
}

// The mask must be 0 where key <= query and very negative elsewhere.
bool isCausalMask(const HostTensor &mask, int64_t positions) {
  size_t rank = mask.shape.size();
  if (rank < 2 || mask.shape[rank - 1] != positions ||
      mask.shape[rank - 2] != positions ||
      mask.numElements() != positions * positions)
    return false;
  for (int64_t row = 0; row < positions; ++row)
    for (int64_t col = 0; col < positions; ++col) {
      double value = mask.floatAt(row * positions + col);
      if (col <= row ? value != 0.0 : !(value <= -1e4))
        return false;
    }
  return true;
}

// Mul(x, c), Mul(c, x) or Div(x, 1/c) with c a scalar constant: returns x
// (a name owned by the graph) and c.
std::optional<std::pair<llvm::StringRef, double>>
matchScaledBy(PatternContext &context, llvm::StringRef value,
              const OnnxNode &anchor, Nodes &nodes) {
  if (const OnnxNode *mul = context.def(value, "Mul"))
    for (int side = 0; side < 2; ++side)
      if (context.isShapeOnly(mul->inputs[1 - side]))
        if (auto c = context.scalar(mul->inputs[1 - side], anchor)) {
          nodes.push_back(mul);
          return std::make_pair(llvm::StringRef(mul->inputs[side]), *c);
        }
  if (const OnnxNode *div = context.def(value, "Div"))
    if (context.isShapeOnly(div->inputs[1]))
      if (auto c = context.scalar(div->inputs[1], anchor); c && *c != 0.0) {
        nodes.push_back(div);
        return std::make_pair(llvm::StringRef(div->inputs[0]), 1.0 / *c);
      }
  return std::nullopt;
}

} // namespace

bool qtc::matchAttention(PatternContext &context, const OnnxNode &softmax) {
  if (!isLastAxis(softmax.intAttribute("axis", -1), 4))
    return context.note(softmax, "attention softmax runs over the last axis");
  Nodes nodes = {&softmax};

  const OnnxNode *masked = context.def(softmax.inputs[0], "Add");
  if (!masked)
    return context.note(softmax, "attention scores get an additive causal "
                                 "mask");
  int maskSide = context.isShapeOnly(masked->inputs[1]) ? 1 : 0;
  llvm::StringRef mask = masked->inputs[maskSide];
  llvm::StringRef scaled = masked->inputs[1 - maskSide];
  if (!context.isShapeOnly(mask))
    return context.note(softmax, "the attention mask must be computed from "
                                 "the sequence length alone");
  nodes.push_back(masked);

  double scale = 1.0;
  llvm::StringRef scores = scaled;
  if (auto factor = matchScaledBy(context, scaled, softmax, nodes)) {
    scores = factor->first;
    scale = factor->second;
  }
  const OnnxNode *product = context.def(scores, "MatMul");
  if (!product)
    return context.note(softmax, "attention scores are MatMul(q, k^T)");
  nodes.push_back(product);

  // Some exporters scale q and k by sqrt(scale) each before the product.
  llvm::StringRef query = product->inputs[0], keyT = product->inputs[1];
  if (auto factor = matchScaledBy(context, query, softmax, nodes)) {
    query = factor->first;
    scale *= factor->second;
  }
  if (auto factor = matchScaledBy(context, keyT, softmax, nodes)) {
    keyT = factor->first;
    scale *= factor->second;
  }
  const OnnxNode *keyTranspose = context.def(keyT, "Transpose");
  if (!keyTranspose || keyTranspose->intsAttribute("perm") !=
                           llvm::SmallVector<int64_t, 4>{0, 1, 3, 2})
    return context.note(softmax, "attention multiplies q by the transposed "
                                 "keys");
  nodes.push_back(keyTranspose);

  auto queryRotary = matchRotary(context, query, softmax, nodes);
  if (!queryRotary)
    return context.note(softmax, "the query is not rotated by rotate-half "
                                 "RoPE");
  auto querySplit = matchHeadSplit(context, queryRotary->input, softmax, nodes);
  RepeatKv keyRepeat =
      matchRepeatKv(context, keyTranspose->inputs[0], softmax, nodes);
  auto keyRotary = matchRotary(context, keyRepeat.source, softmax, nodes);
  if (!keyRotary)
    return context.note(softmax, "the key is not rotated by rotate-half RoPE");
  auto keySplit = matchHeadSplit(context, keyRotary->input, softmax, nodes);

  const OnnxNode *weighted = context.soleUser(softmax.outputs[0], "MatMul");
  if (!weighted || weighted->inputs[0] != softmax.outputs[0])
    return context.note(softmax, "attention probabilities multiply the "
                                 "values");
  nodes.push_back(weighted);
  RepeatKv valueRepeat =
      matchRepeatKv(context, weighted->inputs[1], softmax, nodes);
  auto valueSplit = matchHeadSplit(context, valueRepeat.source, softmax, nodes);
  if (!querySplit || !keySplit || !valueSplit)
    return context.note(softmax, "q, k and v must be projections split into "
                                 "heads (Reshape to [b, s, heads, head_dim], "
                                 "Transpose [0, 2, 1, 3])");

  int64_t heads = querySplit->heads, kvHeads = keySplit->heads,
          headDim = querySplit->headDim;
  if (keySplit->headDim != headDim || valueSplit->headDim != headDim ||
      valueSplit->heads != kvHeads ||
      keyRepeat.repeats != valueRepeat.repeats ||
      kvHeads * keyRepeat.repeats != heads ||
      (keyRepeat.repeats > 1 && keyRepeat.kvHeads != kvHeads))
    return context.note(softmax, "query heads (" + llvm::Twine(heads) +
                                     ") must be the key/value heads (" +
                                     llvm::Twine(kvHeads) +
                                     ") repeated, all of one head size");
  if (queryRotary->half * 2 != headDim || keyRotary->half * 2 != headDim)
    return context.note(softmax, "RoPE must rotate whole heads");

  const OnnxNode *merge = context.soleUser(weighted->outputs[0], "Transpose");
  const OnnxNode *flatten =
      merge ? context.soleUser(merge->outputs[0], "Reshape") : nullptr;
  if (!merge ||
      merge->intsAttribute("perm") !=
          llvm::SmallVector<int64_t, 4>{0, 2, 1, 3} ||
      !flatten)
    return context.note(softmax, "attention heads are merged back with "
                                 "Transpose [0, 2, 1, 3] and Reshape");
  auto merged = context.ints(flatten->inputs[1], softmax);
  if (!merged || merged->size() != 3 || merged->back() != heads * headDim)
    return context.note(softmax, "merged attention heads must be [b, s, " +
                                     llvm::Twine(heads * headDim) + "]");
  nodes.append({merge, flatten});

  int64_t positions = context.evaluator.getSequenceLength();
  const HostTensor *maskValue = context.evaluate(mask, softmax);
  if (!maskValue)
    return false;
  if (!isCausalMask(*maskValue, positions))
    return context.note(softmax, "the attention mask '" + mask +
                                     "' is not causal (0 on and below the "
                                     "diagonal, large negative above)");

  const HostTensor *cos = context.evaluate(queryRotary->cos, softmax);
  const HostTensor *sin = context.evaluate(queryRotary->sin, softmax);
  if (!cos || !sin)
    return false;
  llvm::Expected<std::vector<double>> frequencies =
      frequenciesFromTables(*cos, *sin, headDim, positions);
  if (!frequencies)
    return context.note(softmax, llvm::toString(frequencies.takeError()));
  if (keyRotary->cos != queryRotary->cos || keyRotary->sin != queryRotary->sin)
    return context.note(softmax, "q and k must be rotated by the same tables");
  if (!(scale > 0.0))
    return context.note(softmax, "the attention scale must be positive");

  RaisedOp op(RaisedOp::Kind::Attention, softmax);
  op.inputs = {querySplit->source, keySplit->source, valueSplit->source};
  op.output = flatten->outputs[0];
  op.numHeads = heads;
  op.numKvHeads = kvHeads;
  op.headDim = headDim;
  op.scale = scale;
  op.ropeFrequencies = std::move(*frequencies);
  return context.commit(std::move(op), nodes);
}
