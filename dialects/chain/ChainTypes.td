//===- ChainTypes.td - chain types -------------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINTYPES_TD
#define QTC_DIALECTS_CHAIN_CHAINTYPES_TD

include "dialects/chain/ChainDialect.td"
include "dialects/qnt/QntAttrs.td"
include "mlir/IR/AttrTypeBase.td"

class Chain_RowsType<string name, string typeMnemonic, string what>
    : TypeDef<Chain_Dialect, name> {
  let mnemonic = typeMnemonic;
  let summary = "Activation rows of a fixed width, " # what;
  let parameters = (ins "int64_t":$width);
  let assemblyFormat = "`<` $width `>`";
  let genVerifyDecl = 1;
}

def Chain_TokensType : Chain_RowsType<"Tokens", "tokens",
    "one per token of the batch"> {
  let description = [{
    `!chain.tokens<256>`: a `[tokens, 256]` activation. The element type is
    the backend's (f32 on the host, f16 on the GPU).
  }];
}

def Chain_LogitRowsType : Chain_RowsType<"LogitRows", "logit_rows",
    "one per token whose logits are wanted"> {
  let description = [{
    `!chain.logit_rows<4096>`: what `chain.gather_rows` selects, one row per
    entry of the batch's logit rows (the last token of each prefill chunk and
    every decode token), and what the ops after it compute on.
  }];
}

def Chain_QuantizedTokensType : TypeDef<Chain_Dialect, "QuantizedTokens"> {
  let mnemonic = "quantized_tokens";
  let summary = "Token rows quantized per token: codes and a scale per row";
  let description = [{
    `!chain.quantized_tokens<256, #qnt.encoding<format = i8, granularity =
    per_token, scale_type = f32>>`: each token's 256 values as one-byte
    codes (int8, or fp8 e4m3) and the row's f32 scale, as the runtime's
    quantized slots hold them (runtime/include/qtc/rt/QuantizedRows.h).
    `chain.quantize_rows` or a quantizing `chain.rms_norm` produces it; a
    `chain.linear` of the same `input_encoding` multiplies its codes.
  }];
  let parameters = (ins "int64_t":$width, "::qtc::qnt::EncodingAttr":$encoding);
  let assemblyFormat = "`<` $width `,` $encoding `>`";
  let genVerifyDecl = 1;
}

def Chain_AnyRows : AnyTypeOf<[Chain_TokensType, Chain_LogitRowsType]>;
// What a linear reads: rows as they are, or quantized token rows.
def Chain_LinearInput : AnyTypeOf<[Chain_TokensType, Chain_LogitRowsType,
                                   Chain_QuantizedTokensType]>;

#endif // QTC_DIALECTS_CHAIN_CHAINTYPES_TD
