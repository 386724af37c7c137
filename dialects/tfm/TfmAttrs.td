//===- TfmAttrs.td - tfm attributes and enums --------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_TFM_TFMATTRS_TD
#define QTC_DIALECTS_TFM_TFMATTRS_TD

include "dialects/tfm/TfmDialect.td"
include "dialects/QtcParameters.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tfm_RopeScalingKind : I32EnumAttr<"RopeScalingKind",
    "how RoPE frequencies are rescaled for contexts past training length", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"linear", 1>,
      I32EnumAttrCase<"llama3", 2>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qtc::tfm";
}

def Tfm_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "which formula tfm.gelu evaluates", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"tanh", 1>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qtc::tfm";
}

def Tfm_GeluApproximationAttr : EnumAttr<Tfm_Dialect, Tfm_GeluApproximation,
                                         "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Tfm_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tfm_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Tfm_RopeScalingAttr : Tfm_Attr<"RopeScaling", "rope_scaling"> {
  let summary = "RoPE frequency scaling for long contexts";
  let description = [{
    Rescales rotary frequencies as Hugging Face's `rope_scaling` /
    `rope_parameters` describe:

    * `none`: plain RoPE.
    * `linear`: positions are divided by `factor`.
    * `llama3`: Llama 3.1's band-wise rule: wavelengths longer than
      `original_max_positions / low_freq_factor` are divided by `factor`,
      shorter than `original_max_positions / high_freq_factor` are kept, and
      the band between is interpolated smoothly.

    Parameters left out take their defaults (`factor = 1`,
    `low_freq_factor = 1`, `high_freq_factor = 4`,
    `original_max_positions = 0`).

    ```mlir
    #tfm.rope_scaling<kind = llama3, factor = 8.000000e+00,
                      original_max_positions = 8192>
    ```
  }];
  let parameters = (ins
    EnumParameter<Tfm_RopeScalingKind>:$kind,
    QtcF32Parameter<"position or frequency divisor", "1.0f">:$factor,
    QtcF32Parameter<"llama3: low-frequency band edge", "1.0f">:$low_freq_factor,
    QtcF32Parameter<"llama3: high-frequency band edge", "4.0f">:$high_freq_factor,
    DefaultValuedParameter<"int64_t", "0",
        "llama3: context length the model was trained with">:$original_max_positions
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tfm_ModelConfigAttr : Tfm_Attr<"ModelConfig", "model_config"> {
  let summary = "Hyper-parameters of a decoder-only transformer";
  let description = [{
    The model-level facts that later stages need and the graph alone does not
    state (token ids, maximum context, norm epsilon as configured). Mirrors a
    Hugging Face `config.json` and the artifact's `ModelConfig` table.
    `bos_token_id` / `eos_token_id` are -1 when the model has none.

    ```mlir
    #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 4096,
      hidden_size = 256, num_layers = 6, num_heads = 4, num_kv_heads = 2,
      head_dim = 64, intermediate_size = 704, max_positions = 1024,
      rms_norm_eps = 9.99999974E-6, rope_theta = 1.000000e+04,
      bos_token_id = 1, eos_token_id = 2>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"Hugging Face architecture name">:$architecture,
    AttrParameter<"int64_t", "tokens in the vocabulary">:$vocab_size,
    AttrParameter<"int64_t", "width of the residual stream">:$hidden_size,
    AttrParameter<"int64_t", "decoder layers">:$num_layers,
    AttrParameter<"int64_t", "query heads">:$num_heads,
    AttrParameter<"int64_t", "key/value heads (grouped-query attention)">:$num_kv_heads,
    AttrParameter<"int64_t", "width of one head">:$head_dim,
    AttrParameter<"int64_t", "width of the MLP">:$intermediate_size,
    AttrParameter<"int64_t", "longest supported context">:$max_positions,
    QtcF32Parameter<"RMSNorm epsilon">:$rms_norm_eps,
    QtcF32Parameter<"RoPE base">:$rope_theta,
    DefaultValuedParameter<"int64_t", "-1", "beginning-of-sequence token">:$bos_token_id,
    DefaultValuedParameter<"int64_t", "-1", "end-of-sequence token">:$eos_token_id,
    QtcBoolParameter<"lm_head shares the embedding table", "false">:$tie_word_embeddings,
    OptionalParameter<"RopeScalingAttr", "long-context RoPE scaling">:$rope_scaling
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // QTC_DIALECTS_TFM_TFMATTRS_TD
