//===- QntDialect.td - The quantization dialect ------------*- tablegen -*-===//
//
// qnt carries quantization decisions: how each weight, activation and KV
// cache is encoded, and the transforms (rotations, outlier splits) that make
// low-bit encodings accurate.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_DIALECTS_QNT_QNTDIALECT_TD
#define QTC_DIALECTS_QNT_QNTDIALECT_TD

include "mlir/IR/OpBase.td"

def Qnt_Dialect : Dialect {
  let name = "qnt";
  let cppNamespace = "::qtc::qnt";
  let summary = "Quantized weights, activations and KV caches";
  let description = [{
    `qnt` is where quantization passes record their decisions on a `tfm`
    graph. An `#qnt.encoding` says how values are stored: the number format
    (int2..8, fp8 e4m3/e5m2, fp4 e2m1, nf4, lookup tables), how scales are
    shared (per tensor, channel, group or token), symmetry and the scale and
    zero-point types. `qtc-quantize-weights` marks a weight for an encoding
    (`qnt.quantize`), a weight quantizer (`qtc-rtn`, `qtc-gptq`) computes it
    (`qnt.quantized_weight`, type `!qnt.weight<[out]x[in], original-type,
    encoding>`), and `qnt.qlinear` consumes it. `qtc-quantize-kv-cache` sets a
    `#qnt.kv_scheme` on each attention. `qtc-lower-to-chain` carries the
    encodings into the kernel chains.

    Quantized values are `q` in the format's range; a value is recovered as
    `(q - zero) * scale` (symmetric encodings have no stored zero: signed
    formats centre on 0, unsigned ones on `2^(bits-1)`). Lookup formats
    (`nf4`, `lutN`) store indices into a table of `2^bits` values that are
    then multiplied by the scale.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    // Defined beside the storage classes, which must be complete.
    void registerAttributes();
    void registerTypes();
  }];
}

class Qnt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qnt_Dialect, mnemonic, traits>;

#endif // QTC_DIALECTS_QNT_QNTDIALECT_TD
