//===- ChainAttrs.td - chain attributes --------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINATTRS_TD
#define QTC_DIALECTS_CHAIN_CHAINATTRS_TD

include "dialects/chain/ChainDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Chain_WeightNumericsAttr : AttrDef<Chain_Dialect, "WeightNumerics"> {
  let mnemonic = "numerics";
  let summary = "What a weight quantizer measured for one source weight";
  let description = [{
    Carried from `qnt.quantized_weight` to the artifact's per-layer numerics:
    the quantizer (`method`), the weight's SQNR and max error against the
    original, and the output SQNR over the calibration activations when the
    quantizer had them.

    ```mlir
    #chain.numerics<weight = "model.layers.0.self_attn.q_proj.weight",
                    method = "gptq", sqnr_db = 19.5, max_abs_error = 0.012,
                    output_sqnr_db = 24.1>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"the source weight">:$weight,
    StringRefParameter<"the quantizer">:$method,
    "::mlir::FloatAttr":$sqnr_db,
    "::mlir::FloatAttr":$max_abs_error,
    OptionalParameter<"::mlir::FloatAttr">:$output_sqnr_db
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // QTC_DIALECTS_CHAIN_CHAINATTRS_TD
