//===- TfmDialect.td - The transformer graph dialect -------*- tablegen -*-===//
//
// tfm describes a decoder-only transformer as value-semantic ops on ranked
// tensors. Importers produce it; quantization lowers it to qnt.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_DIALECTS_TFM_TFMDIALECT_TD
#define QTC_DIALECTS_TFM_TFMDIALECT_TD

include "mlir/IR/OpBase.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::qtc::tfm";
  let summary = "Transformer graphs: embeddings, norms, linears, RoPE, attention";
  let description = [{
    `tfm` is the graph every importer produces (ONNX, Hugging Face
    checkpoints). A model is one `tfm.model` symbol whose single block takes
    the token ids and positions of **one sequence** and ends in `tfm.output`
    with the logits; batching is the runtime's job.

    Conventions shared by all ops:

    * Activations are rank-2 tensors `[tokens, features]`, normally `f32`
      with a dynamic token count (`tensor<?x256xf32>`).
    * Weights come from `tfm.weight`, a named handle whose bytes live outside
      the IR (in the importer's weight store); they keep their source element
      type (f16, bf16, f32) and are statically shaped.
    * Linear weights are `[out, in]` as in PyTorch's `nn.Linear`: `y = x W^T`.
    * RoPE uses the rotate-half (non-interleaved) convention.
    * Ops are pure; verifiers check every shape relation that static sizes
      allow (unknown sizes `?` agree with anything).
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    // Defined beside the attribute storage classes, which must be complete.
    void registerAttributes();

    // The bytes behind this context's `tfm.weight` handles, and what passes
    // computed from them (quantized weights, calibration statistics). Set by
    // whoever imported the model: `qtc compile`, the JIT API, or
    // `qtc-opt --qtc-weights=MODEL`; null when only the IR is at hand.
    void setWeightContext(::qtc::WeightContext *context) { weightContext = context; }
    ::qtc::WeightContext *getWeightContext() const { return weightContext; }

  private:
    ::qtc::WeightContext *weightContext = nullptr;

  public:
  }];
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic, traits>;

#endif // QTC_DIALECTS_TFM_TFMDIALECT_TD
