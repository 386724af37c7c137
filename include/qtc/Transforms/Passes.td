//===- Passes.td - qtc's passes ----------------------------*- tablegen -*-===//
//
// The single source of every qtc pass's name, options and documentation.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_TRANSFORMS_PASSES_TD
#define QTC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuantizeWeights : Pass<"qtc-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Store linear-layer weights in a quantized encoding";
  let description = [{
    Rewrites every `tfm.linear` whose weight is a `tfm.weight` into
    `qnt.quantize` of that weight and a `qnt.qlinear` that consumes it, with
    the encoding the options describe: `int4` gives signed 4-bit values in
    groups of `group-size` input channels with f16 scales (`symmetric`) or
    unsigned 4-bit values with f16 scales and zero points (`symmetric=false`).
    The lm_head keeps its dense weight unless `include-lm-head` is set, in
    which case `tfm.lm_head` becomes a `qnt.qlinear` too.

    The pass records the decision only; values, scales and zero points are
    computed from the weight store when the artifact is packed (round to
    nearest), which also records each layer's SQNR and maximum error.

    A group size that does not divide a layer's input features is an error
    naming the weight, unless `smaller-groups` is set: then that layer uses
    the largest power-of-two group below `group-size` that divides its input
    features (an MLP of 704 gets groups of 64 under a 128 recipe), and the
    layer's encoding says so.

    ```mlir
    %y = tfm.linear %x, %w : tensor<?x256xf32>, tensor<768x256xf16> -> tensor<?x768xf32>
    // becomes
    %q = qnt.quantize %w : tensor<768x256xf16> -> !qnt.weight<768x256, f16, #enc>
    %y = qnt.qlinear %x, %q : tensor<?x256xf32>, !qnt.weight<768x256, f16, #enc> -> tensor<?x768xf32>
    ```
  }];
  let dependentDialects = ["::qtc::qnt::QntDialect"];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"int4\"",
           "Weight format: int4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Input channels sharing one scale (and zero point)">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric (no zero point) or asymmetric encoding">,
    Option<"includeLmHead", "include-lm-head", "bool", /*default=*/"false",
           "Quantize the lm_head too">,
    Option<"smallerGroups", "smaller-groups", "bool", /*default=*/"false",
           "Where group-size does not divide a layer's input features, use "
           "the largest power-of-two group that does">,
  ];
}

def QuantizeKvCache : Pass<"qtc-quantize-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Choose how the paged KV cache stores keys and values";
  let description = [{
    Attaches a `#qnt.kv_scheme` (attribute `qnt.kv_scheme`) to every
    `tfm.attention`: the keys and values that attention reads from the paged
    cache are stored in `format`, one per-tensor scale of 1 (no calibration;
    values beyond the format's range saturate). The plan builder turns the
    scheme into the artifact's KV dtype, and the kernel generators store and
    load that format. `f8e4m3` (OCP FP8 E4M3, largest finite 448) halves the
    KV memory of an f16 cache.

    ```mlir
    %a = tfm.attention %q, %k, %v {..., qnt.kv_scheme = #qnt.kv_scheme<
           key = <format = f8e4m3, granularity = per_tensor, scale_type = f32>,
           value = <format = f8e4m3, granularity = per_tensor, scale_type = f32>,
           block_size = 16>}
    ```
  }];
  let dependentDialects = ["::qtc::qnt::QntDialect"];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"f8e4m3\"",
           "Cached key/value format: f8e4m3">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"16",
           "Tokens per cache block">,
  ];
}

#endif // QTC_TRANSFORMS_PASSES_TD
