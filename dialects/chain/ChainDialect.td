//===- ChainDialect.td - The kernel-chain dialect ----------*- tablegen -*-===//
//
// chain is the runtime plan as IR: one op per kernel the runtime launches,
// on rows of activations, with the attributes kernel generation reads.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_DIALECTS_CHAIN_CHAINDIALECT_TD
#define QTC_DIALECTS_CHAIN_CHAINDIALECT_TD

include "mlir/IR/OpBase.td"

def Chain_Dialect : Dialect {
  let name = "chain";
  let cppNamespace = "::qtc::chain";
  let summary = "Kernel chains: the fused steps the runtime executes";
  let description = [{
    `chain` sits between the graph (`tfm` with `qnt` encodings) and the
    artifact the runtime executes. A `chain.plan` holds, in execution order,
    one op per kernel the runtime launches for a batch of tokens
    (`chain.embedding`, `chain.rms_norm`, `chain.linear`, `chain.rope_kv_append`,
    `chain.attention`, `chain.swiglu`, `chain.add`, `chain.gather_rows`), plus
    the ops that exist only until a fusion pass removes them (`chain.concat`,
    `chain.rope`, `chain.kv_append`). Values are rows of activations:
    `!chain.tokens<W>` holds one row of width `W` per token of the batch,
    `!chain.logit_rows<W>` one row per token whose logits are wanted.

    `qtc-lower-to-chain` produces it one op per `tfm` op; the fusion passes
    (`qtc-chain-concat-projections`, `qtc-chain-fuse-rope-kv-append`,
    `qtc-chain-fuse-residual`, `qtc-chain-gather-logit-rows`) rewrite it into
    the runtime's kernel chains; `qtc-chain-pack-weights` lays the weights
    out as the kernels read them (`chain.tensor`); `qtc-chain-assign-slots`
    gives every value an activation buffer. The artifact's plan is a
    translation of the result, and each op's attributes are the kernel
    generator's request.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Chain_Op<string mnemonic, list<Trait> traits = []>
    : Op<Chain_Dialect, mnemonic, traits>;

#endif // QTC_DIALECTS_CHAIN_CHAINDIALECT_TD
