//===- OnnxOps.td - ONNX operations ------------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_ONNX_ONNXOPS_TD
#define QTC_DIALECTS_ONNX_ONNXOPS_TD

include "dialects/onnx/OnnxDialect.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// The file's level: one op per node
//===----------------------------------------------------------------------===//

def Onnx_NodeOp : Onnx_Op<"node"> {
  let summary = "One ONNX node as the file states it";
  let description = [{
    `op_type` and `domain` name the operator (`""` is the default domain
    ai.onnx); `attrs` holds the node's attributes under their ONNX names
    (ints as `i64`, floats as `f32`, strings, arrays, tensors as dense
    elements). Operands are the node's inputs in order, `onnx.absent` for an
    omitted optional input; results are its outputs. The location is the
    node's name inside the model file. Nothing is interpreted here: the
    opset decides what the node means, and `qtc-onnx-convert-nodes` reads it.

    ```mlir
    %y = onnx.node "ReduceMean"(%x) {attrs = {axes = [-1], keepdims = 1 : i64}}
        : (tensor<1x?x256xf32>) -> !onnx.value
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$operands, StrAttr:$op_type,
                       DefaultValuedStrAttr<StrAttr, "">:$domain,
                       DictionaryAttr:$attrs);
  let results = (outs Variadic<AnyType>:$results);
  let assemblyFormat = [{
    $op_type `(` $operands `)` attr-dict `:` functional-type($operands, $results)
  }];
}

def Onnx_AbsentOp : Onnx_Op<"absent", [Pure]> {
  let summary = "An omitted optional input";
  let description = [{
    ONNX leaves an optional input out by naming it `""`; the node's operand
    list keeps its position with this value.

    ```mlir
    %none = onnx.absent
    ```
  }];
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict";
}

def Onnx_ConstantOp : Onnx_Op<"Constant", [
    ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "An initializer, a Constant node or a folded value";
  let description = [{
    Float initializers keep their bytes outside the IR: `value` is a
    `dense_resource` blob named after the initializer that views the
    importer's weight store. Integer and boolean initializers, Constant
    nodes and folded values are dense elements.

    ```mlir
    %w = onnx.Constant dense_resource<model.norm.weight> : tensor<256xf16>
    %s = onnx.Constant dense<[1, -1, 4, 64]> : tensor<4xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

class Onnx_UnaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Onnx_Op<mnemonic, !listconcat([Pure], traits)> {
  let summary = what;
  let description = [{
    Element-wise; the result has the operand's shape.
  }];
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Onnx_NegOp : Onnx_UnaryOp<"Neg", "-x">;
def Onnx_AbsOp : Onnx_UnaryOp<"Abs", "|x|">;
def Onnx_SqrtOp : Onnx_UnaryOp<"Sqrt", "square root">;
def Onnx_ReciprocalOp : Onnx_UnaryOp<"Reciprocal", "1 / x">;
def Onnx_ExpOp : Onnx_UnaryOp<"Exp", "e^x">;
def Onnx_LogOp : Onnx_UnaryOp<"Log", "natural logarithm">;
def Onnx_SinOp : Onnx_UnaryOp<"Sin", "sine">;
def Onnx_CosOp : Onnx_UnaryOp<"Cos", "cosine">;
def Onnx_TanhOp : Onnx_UnaryOp<"Tanh", "hyperbolic tangent">;
def Onnx_ErfOp : Onnx_UnaryOp<"Erf", "the error function">;
def Onnx_SigmoidOp : Onnx_UnaryOp<"Sigmoid", "1 / (1 + e^-x)">;
def Onnx_ReluOp : Onnx_UnaryOp<"Relu", "max(x, 0)">;
def Onnx_FloorOp : Onnx_UnaryOp<"Floor", "round down">;
def Onnx_CeilOp : Onnx_UnaryOp<"Ceil", "round up">;
def Onnx_NotOp : Onnx_UnaryOp<"Not", "logical not of a boolean tensor">;
def Onnx_CastOp : Onnx_UnaryOp<"Cast", "Converts to the result's element type"> {
  let description = [{
    ONNX's `to` attribute is the result's element type. Floats convert to
    integers by truncation toward zero, to booleans by `x != 0`.
  }];
}

def Onnx_GeluOp : Onnx_Op<"Gelu", [Pure]> {
  let summary = "GELU (opset 20), exact or with the tanh approximation";
  let description = [{
    `approximate` is `"none"` (erf) or `"tanh"`, as in ONNX.
  }];
  let arguments = (ins AnyTensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

class Onnx_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Onnx_Op<mnemonic, !listconcat([Pure], traits)> {
  let summary = what;
  let description = [{
    Element-wise with numpy broadcasting; comparisons and logical ops give
    `i1`, arithmetic the operands' element type.
  }];
  let arguments = (ins AnyTensor:$lhs, AnyTensor:$rhs);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Onnx_AddOp : Onnx_BinaryOp<"Add", "x + y">;
def Onnx_SubOp : Onnx_BinaryOp<"Sub", "x - y">;
def Onnx_MulOp : Onnx_BinaryOp<"Mul", "x * y">;
def Onnx_DivOp : Onnx_BinaryOp<"Div", "x / y (integer division truncates)">;
def Onnx_PowOp : Onnx_BinaryOp<"Pow", "x ^ y">;
def Onnx_MaxOp : Onnx_BinaryOp<"Max", "max(x, y) (two-operand Max)">;
def Onnx_MinOp : Onnx_BinaryOp<"Min", "min(x, y) (two-operand Min)">;
def Onnx_EqualOp : Onnx_BinaryOp<"Equal", "x == y">;
def Onnx_LessOp : Onnx_BinaryOp<"Less", "x < y">;
def Onnx_LessOrEqualOp : Onnx_BinaryOp<"LessOrEqual", "x <= y">;
def Onnx_GreaterOp : Onnx_BinaryOp<"Greater", "x > y">;
def Onnx_GreaterOrEqualOp : Onnx_BinaryOp<"GreaterOrEqual", "x >= y">;
def Onnx_AndOp : Onnx_BinaryOp<"And", "logical and">;
def Onnx_OrOp : Onnx_BinaryOp<"Or", "logical or">;
def Onnx_XorOp : Onnx_BinaryOp<"Xor", "logical exclusive or">;

def Onnx_WhereOp : Onnx_Op<"Where", [Pure]> {
  let summary = "cond ? x : y, broadcast";
  let description = [{ Element-wise select with numpy broadcasting. }];
  let arguments = (ins AnyTensor:$condition, AnyTensor:$x, AnyTensor:$y);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $condition `,` $x `,` $y attr-dict `:` type($condition) `,` type($x) `,`
    type($y) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_SoftmaxOp : Onnx_Op<"Softmax", [Pure]> {
  let summary = "Softmax along one axis (opset 13 semantics)";
  let description = [{
    Opset 11's softmax flattened the trailing axes; the conversion accepts
    such a node only where that is the same as one axis (the last).
  }];
  let arguments = (ins AnyTensor:$input, I64Attr:$axis);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Onnx_CumSumOp : Onnx_Op<"CumSum", [Pure]> {
  let summary = "Cumulative sum along the axis given by the second operand";
  let description = [{ `exclusive` and `reverse` as in ONNX (0 or 1). }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$exclusive,
                       DefaultValuedAttr<I64Attr, "0">:$reverse);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $axis attr-dict `:` type($input) `,` type($axis) `->` type($result)
  }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Shapes and data movement
//===----------------------------------------------------------------------===//

def Onnx_ShapeOp : Onnx_Op<"Shape", [Pure]> {
  let summary = "The operand's dimensions [start, end) as an i64 vector";
  let description = [{
    Folds when the selected dimensions are static; `onnx.Gather` of a static
    entry folds on its own (canonicalization), so only the computed sizes
    remain.
  }];
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<I64Attr, "0">:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs 1DTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Onnx_ReshapeOp : Onnx_Op<"Reshape", [Pure]> {
  let summary = "Reshape to the sizes held by `shape` (0 copies, -1 infers)";
  let description = [{ `allowzero` as in ONNX: 1 makes 0 a real size. }];
  let arguments = (ins AnyTensor:$input, 1DTensorOf<[I64]>:$shape,
                       DefaultValuedAttr<I64Attr, "0">:$allowzero);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $shape attr-dict `:` type($input) `,` type($shape) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_TransposeOp : Onnx_Op<"Transpose", [Pure]> {
  let summary = "Permutes the dimensions: result dim i is input dim perm[i]";
  let description = [{
    Never folds a named weight (a `dense_resource` operand): raising reads
    through the transpose to the initializer. Two transposes compose.
  }];
  let arguments = (ins AnyTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Onnx_UnsqueezeOp : Onnx_Op<"Unsqueeze", [Pure]> {
  let summary = "Inserts size-1 dimensions at `axes` (of the result)";
  let description = [{ The axes are an input since opset 13; here an attribute. }];
  let arguments = (ins AnyTensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Onnx_SqueezeOp : Onnx_Op<"Squeeze", [Pure]> {
  let summary = "Removes the size-1 dimensions at `axes`";
  let description = [{ The conversion fills `axes` in when the node omits them. }];
  let arguments = (ins AnyTensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Onnx_ConcatOp : Onnx_Op<"Concat", [Pure]> {
  let summary = "Concatenates along `axis`";
  let description = [{ At least one operand, all of the same rank. }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, $result)
  }];
  let hasFolder = 1;
}

def Onnx_SliceOp : Onnx_Op<"Slice", [Pure]> {
  let summary = "starts/ends/axes/steps as in ONNX (opset 10+)";
  let description = [{
    The conversion supplies `axes` (0..n-1) and `steps` (ones) where the
    node omits them, so all four are always present.
  }];
  let arguments = (ins AnyTensor:$input, 1DTensorOf<[I32, I64]>:$starts,
                       1DTensorOf<[I32, I64]>:$ends, 1DTensorOf<[I32, I64]>:$axes,
                       1DTensorOf<[I32, I64]>:$steps);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $starts `,` $ends `,` $axes `,` $steps attr-dict `:`
    functional-type(operands, $result)
  }];
  let hasFolder = 1;
}

def Onnx_GatherOp : Onnx_Op<"Gather", [Pure]> {
  let summary = "Takes entries of `data` along `axis` at `indices`";
  let description = [{
    Negative indices count from the end. A scalar index of a static entry
    of an `onnx.Shape` folds to that size.
  }];
  let arguments = (ins AnyTensor:$data, TensorOf<[I32, I64]>:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` type($data) `,` type($indices) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_GatherNDOp : Onnx_Op<"GatherND", [Pure]> {
  let summary = "Gathers slices of `data` by index tuples";
  let description = [{ `batch_dims` as in ONNX. }];
  let arguments = (ins AnyTensor:$data, TensorOf<[I64]>:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` type($data) `,` type($indices) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_ExpandOp : Onnx_Op<"Expand", [Pure]> {
  let summary = "Broadcasts the operand to `shape` (numpy rules)";
  let description = [{ The result has the broadcast of both shapes. }];
  let arguments = (ins AnyTensor:$input, 1DTensorOf<[I64]>:$shape);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $shape attr-dict `:` type($input) `,` type($shape) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_TileOp : Onnx_Op<"Tile", [Pure]> {
  let summary = "Repeats the operand `repeats[d]` times along each dim d";
  let description = [{ `repeats` is a 1-D i64 operand with one entry per dim. }];
  let arguments = (ins AnyTensor:$input, 1DTensorOf<[I64]>:$repeats);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $repeats attr-dict `:` type($input) `,` type($repeats) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_RangeOp : Onnx_Op<"Range", [Pure]> {
  let summary = "start, start + delta, ... below limit";
  let description = [{ Scalar operands of one element type. }];
  let arguments = (ins AnyTensor:$start, AnyTensor:$limit, AnyTensor:$delta);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $start `,` $limit `,` $delta attr-dict `:` functional-type(operands, $result)
  }];
  let hasFolder = 1;
}

def Onnx_ConstantOfShapeOp : Onnx_Op<"ConstantOfShape", [Pure]> {
  let summary = "A tensor of the given shape filled with `value`";
  let description = [{ `value` is a one-element tensor (ONNX's default: f32 0). }];
  let arguments = (ins 1DTensorOf<[I64]>:$shape, ElementsAttr:$value);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$shape attr-dict `:` type($shape) `->` type($result)";
  let hasFolder = 1;
}

def Onnx_TriluOp : Onnx_Op<"Trilu", [Pure]> {
  let summary = "Upper or lower triangle of the last two dimensions";
  let description = [{ The diagonal offset `k` is an operand (0 when omitted). }];
  let arguments = (ins AnyTensor:$input, TensorOf<[I64]>:$k,
                       DefaultValuedAttr<I64Attr, "1">:$upper);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $k attr-dict `:` type($input) `,` type($k) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_SplitOp : Onnx_Op<"Split", [Pure]> {
  let summary = "Splits along `axis` into pieces of `sizes`";
  let description = [{
    The sizes were an attribute, then an input (opset 13), then could be
    implied by `num_outputs` (opset 18); the conversion always states them.
  }];
  let arguments = (ins AnyTensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<AnyTensor>:$results);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions, products and normalization
//===----------------------------------------------------------------------===//

class Onnx_ReduceOp<string mnemonic, string what>
    : Onnx_Op<mnemonic, [Pure]> {
  let summary = what;
  let description = [{
    Over `axes` (normalized: never empty, non-negative), keeping them as
    size 1 when `keepdims` is 1. The axes moved from an attribute to an
    input in opset 18 (ReduceSum: 13); here they are an attribute.
  }];
  let arguments = (ins AnyTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<I64Attr, "1">:$keepdims);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Onnx_ReduceMeanOp : Onnx_ReduceOp<"ReduceMean", "Mean over axes">;
def Onnx_ReduceSumOp : Onnx_ReduceOp<"ReduceSum", "Sum over axes">;
def Onnx_ReduceMaxOp : Onnx_ReduceOp<"ReduceMax", "Maximum over axes">;

def Onnx_MatMulOp : Onnx_Op<"MatMul", [Pure]> {
  let summary = "numpy matmul: batched, broadcast, 1-D operands promoted";
  let description = [{ As ONNX MatMul. }];
  let arguments = (ins AnyTensor:$lhs, AnyTensor:$rhs);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasFolder = 1;
}

def Onnx_GemmOp : Onnx_Op<"Gemm", [Pure]> {
  let summary = "alpha * A' B' + beta * C on 2-D operands";
  let description = [{ `transA`/`transB` transpose A and B first. }];
  let arguments = (ins AnyTensor:$a, AnyTensor:$b, Optional<AnyTensor>:$c,
                       DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0f">:$beta,
                       DefaultValuedAttr<I64Attr, "0">:$transA,
                       DefaultValuedAttr<I64Attr, "0">:$transB);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, $result)
  }];
}

def Onnx_AttentionOp : Onnx_Op<"Attention", [Pure]> {
  let summary = "Scaled dot-product attention (opset 23)";
  let description = [{
    ONNX `Attention`'s output `Y`: `softmax(scale * Q K^T + mask) V` with
    key/value heads shared by groups of query heads. Q, K and V are
    `[B, heads, T, head_dim]`, or `[B, T, heads * head_dim]` with
    `q_num_heads` / `kv_num_heads` stating the heads; `Y` has Q's layout.
    `scale` absent means `1 / sqrt(head_dim)`. A boolean `mask` is true
    where a pair takes part, a float one is added. Only `Y`: a node with
    past key/value inputs or whose other outputs are used is not converted.
  }];
  let arguments = (ins AnyTensor:$query, AnyTensor:$key, AnyTensor:$value,
                       Optional<AnyTensor>:$mask,
                       DefaultValuedAttr<I64Attr, "0">:$is_causal,
                       DefaultValuedAttr<I64Attr, "0">:$q_num_heads,
                       DefaultValuedAttr<I64Attr, "0">:$kv_num_heads,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<F32Attr, "0.0f">:$softcap);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`,` $mask^)? attr-dict `:`
    functional-type(operands, $result)
  }];
}

def Onnx_LayerNormalizationOp : Onnx_Op<"LayerNormalization", [Pure]> {
  let summary = "Layer normalization over the axes from `axis` on (opset 17)";
  let description = [{
    Only the normalized output: a node whose mean or inverse standard
    deviation outputs are used is not converted.
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$scale,
                       Optional<AnyTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5f">:$epsilon);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, $result)
  }];
}

def Onnx_SimplifiedLayerNormalizationOp
    : Onnx_Op<"SimplifiedLayerNormalization", [Pure]> {
  let summary = "RMS normalization over the last axis (onnxruntime contrib op)";
  let description = [{
    onnxruntime's transformer optimizer fuses Llama's RMSNorm into this
    (domain `""` or `com.microsoft`): `x / sqrt(mean(x^2) + epsilon) * scale`.
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$scale,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5f">:$epsilon);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale attr-dict `:` functional-type(operands, $result)
  }];
}

#endif // QTC_DIALECTS_ONNX_ONNXOPS_TD
