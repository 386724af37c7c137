//===- LlamaArtifact.h - Llama-shaped test artifacts and their reference --===//
//
// Builds the plan the compiler emits for a Llama decoder (see addLlama) from
// f32 weights, and computes the same model's logits the plain way: whole
// sequence at once, no KV cache, no paging. Tests compare the runtime's
// paged, batched execution against it.
//
//   plan: Embedding -> x
//         per layer: RmsNorm x -> n; Linear n -> qkv; RopeKvAppend qkv;
//                    Attention qkv -> attn; Linear attn (+x) -> x;
//                    RmsNorm x -> n; Linear n -> gate|up; SwiGlu -> act;
//                    Linear act (+x) -> x
//         GatherRows x -> last; RmsNorm last -> final; Linear final -> logits
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TEST_UNIT_RUNTIME_LLAMAARTIFACT_H
#define QTC_TEST_UNIT_RUNTIME_LLAMAARTIFACT_H

#include "TestArtifactBuilder.h"

#include <cstdint>
#include <vector>

namespace qtc::rt::test {

struct LlamaShape {
  int vocab = 96;
  int hidden = 32;
  int layers = 2;
  int heads = 4;
  int kvHeads = 2;
  int headDim = 8;
  int intermediate = 48;
  int maxPositions = 128;
  float ropeTheta = 10000.0f;
  float rmsEps = 1e-5f;
  int qkvWidth() const { return (heads + 2 * kvHeads) * headDim; }
};

struct LlamaLayerWeights {
  std::vector<float> inputNorm;  // [hidden]
  std::vector<float> postNorm;   // [hidden]
  std::vector<float> qkv;        // [(heads + 2 kvHeads) headDim, hidden]: q, k, v rows
  std::vector<float> out;        // [hidden, heads headDim]
  std::vector<float> gateUp;     // [2 intermediate, hidden]: gate rows, then up rows
  std::vector<float> down;       // [hidden, intermediate]
};

struct LlamaWeights {
  std::vector<float> embed;      // [vocab, hidden]
  std::vector<LlamaLayerWeights> layers;
  std::vector<float> finalNorm;  // [hidden]
  std::vector<float> lmHead;     // [vocab, hidden]
};

enum class LinearFormat { kF16, kInt4Symmetric, kInt4Asymmetric };

struct LlamaArtifactOptions {
  LinearFormat linears = LinearFormat::kF16;
  int groupSize = 16;
  fb::KvDType kvDtype = fb::KvDType::F16;
  // The rest of KvCacheSpec (integer and scaled fp8 caches).
  int kvBlockSize = 16;
  fb::KvGranularity keyGranularity = fb::KvGranularity::PerToken;
  bool keySymmetric = false, valueSymmetric = false;
  int residualWindow = 0, sinkTokens = 0;
  std::vector<float> kvKeyScales, kvValueScales;
  int bosId = 1;
  int eosId = 2;
};

// Fills config, KV spec, tensors and plan. Norms and the embedding are
// stored in f16. Returns the weights as stored (f16-rounded, int4
// dequantized), which the reference must use.
LlamaWeights addLlama(TestArtifactBuilder &builder, const LlamaShape &shape,
                      const LlamaWeights &weights, const LlamaArtifactOptions &options);

// Random weights of `shape`, scaled to keep activations of order one.
LlamaWeights randomLlamaWeights(const LlamaShape &shape, uint32_t seed);

// [ids.size(), vocab] logits of one sequence, k and v rounded as a KV cache
// of `kvDtype` stores them.
std::vector<float> referenceLlamaLogits(const LlamaShape &shape, const LlamaWeights &weights,
                                        const std::vector<int32_t> &ids,
                                        fb::KvDType kvDtype = fb::KvDType::F16);

} // namespace qtc::rt::test

#endif // QTC_TEST_UNIT_RUNTIME_LLAMAARTIFACT_H
