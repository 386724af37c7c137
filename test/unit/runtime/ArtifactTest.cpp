//===- ArtifactTest.cpp - Loading and verification of .qtc artifacts ------===//

#include "LlamaArtifact.h"
#include "TestArtifactBuilder.h"

#include "qtc/rt/Artifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

// A tiny valid Llama artifact with int4 asymmetric linears.
TestArtifactBuilder tinyLlama(LinearFormat format = LinearFormat::kInt4Asymmetric) {
  TestArtifactBuilder builder;
  LlamaShape shape;
  LlamaArtifactOptions options;
  options.linears = format;
  addLlama(builder, shape, randomLlamaWeights(shape, 7), options);
  return builder;
}

Status loadStatus(std::vector<uint8_t> bytes) {
  auto artifact = Artifact::fromBytes(std::move(bytes), "bad.qtc");
  return artifact ? Status::ok() : artifact.status();
}

Status loadStatus(const TestArtifactBuilder &builder) { return loadStatus(builder.build()); }

int findTensor(TestArtifactBuilder &b, const std::string &name) {
  for (size_t i = 0; i < b.artifact().tensors.size(); ++i)
    if (b.artifact().tensors[i]->name == name)
      return static_cast<int>(i);
  ADD_FAILURE() << "no tensor " << name;
  return 0;
}

int findStep(TestArtifactBuilder &b, fb::StepKind kind, int nth = 0) {
  for (size_t i = 0; i < b.plan().steps.size(); ++i)
    if (b.plan().steps[i]->kind == kind && nth-- == 0)
      return static_cast<int>(i);
  ADD_FAILURE() << "no such step";
  return 0;
}

} // namespace

TEST(Artifact, LoadsValidArtifact) {
  TestArtifactBuilder builder = tinyLlama();
  auto artifact = builder.load();
  ASSERT_TRUE(artifact) << artifact.status().toString();
  const Artifact &a = **artifact;
  EXPECT_EQ(a.config().vocab_size(), 96);
  EXPECT_EQ(a.plan().steps()->size(), builder.plan().steps.size());
  EXPECT_EQ(a.numTensors(), static_cast<int>(builder.artifact().tensors.size()));
  int norm = findTensor(builder, "model.norm.weight");
  EXPECT_EQ(a.tensorShape(norm), std::vector<int64_t>{32});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.tensorData(norm)) % kWeightsAlignment, 0u);
  EXPECT_EQ(std::memcmp(a.tensorData(norm),
                        builder.weights().data() + builder.artifact().tensors[norm]->offset,
                        a.tensor(norm).size()),
            0);
  EXPECT_TRUE(a.tokenizerModel().empty());
}

TEST(Artifact, OpensFileAndReportsMissingOne) {
  TestArtifactBuilder builder = tinyLlama(LinearFormat::kF16);
  std::string path = ::testing::TempDir() + "artifact_open_test.qtc";
  ASSERT_TRUE(builder.writeTo(path));
  auto artifact = Artifact::open(path);
  ASSERT_TRUE(artifact) << artifact.status().toString();
  EXPECT_EQ((*artifact)->fileSize(), builder.build().size());
  EXPECT_EQ((*artifact)->name(), path);
  std::remove(path.c_str());

  auto missing = Artifact::open(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("cannot open"));
  EXPECT_THAT(missing.status().message(), HasSubstr(path));
}

TEST(Artifact, RejectsFileShorterThanHeader) {
  std::vector<uint8_t> bytes = tinyLlama().build();
  bytes.resize(10);
  Status s = loadStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("shorter than the 16-byte header"));
}

TEST(Artifact, RejectsTruncatedTable) {
  std::vector<uint8_t> bytes = tinyLlama().build();
  bytes.resize(100);
  Status s = loadStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("bytes follow the header"));
}

TEST(Artifact, RejectsTruncatedWeights) {
  std::vector<uint8_t> bytes = tinyLlama().build();
  bytes.resize(bytes.size() - 1);
  Status s = loadStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("runs past the end of the"));
  EXPECT_THAT(s.message(), HasSubstr("(truncated)"));
  EXPECT_THAT(s.message(), HasSubstr("bad.qtc"));
}

TEST(Artifact, RejectsTrailingBytes) {
  std::vector<uint8_t> bytes = tinyLlama().build();
  bytes.push_back(0);
  Status s = loadStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("1 unexpected bytes after the weights section"));
}

TEST(Artifact, RejectsBadMagic) {
  std::vector<uint8_t> bytes = tinyLlama().build();
  bytes[3] = 'X';
  Status s = loadStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bad magic at offset 0"));
}

TEST(Artifact, RejectsWrongIdentifier) {
  std::vector<uint8_t> bytes = tinyLlama().build();
  bytes[kArtifactHeaderSize + 4] = 'Z'; // the identifier follows the root offset
  Status s = loadStatus(bytes);
  EXPECT_THAT(s.message(), HasSubstr("lacks the identifier \"QTC1\""));
}

TEST(Artifact, RejectsCorruptedTable) {
  std::vector<uint8_t> bytes = tinyLlama().build();
  // Point the root table offset far outside the buffer.
  bytes[kArtifactHeaderSize + 2] = 0x7f;
  Status s = loadStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("failed verification"));
}

TEST(Artifact, RejectsOtherSchemaVersion) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().schema_version = kSchemaVersion + 1;
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("schema version 2 is not supported"));
}

TEST(Artifact, RejectsOutOfRangeTensorOffset) {
  TestArtifactBuilder b = tinyLlama();
  int t = findTensor(b, "model.layers.1.input_layernorm.weight");
  b.artifact().tensors[t]->offset = alignUp(b.weights().size(), kWeightsAlignment);
  Status s = loadStatus(b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'model.layers.1.input_layernorm.weight'"));
  EXPECT_THAT(s.message(), HasSubstr("lie outside the weights section"));
}

TEST(Artifact, RejectsHugeTensorOffsetWithoutOverflow) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().tensors[0]->offset = UINT64_MAX - 255;
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("lie outside the weights section"));
}

TEST(Artifact, RejectsMisalignedTensor) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().tensors[2]->offset += 2;
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("is not a multiple of 256"));
}

TEST(Artifact, RejectsSizeInconsistentWithShape) {
  TestArtifactBuilder b = tinyLlama();
  int t = findTensor(b, "model.norm.weight");
  b.artifact().tensors[t]->size = 32 * 4; // f16 [32] takes 64 bytes
  Status s = loadStatus(b);
  EXPECT_THAT(s.message(), HasSubstr("'model.norm.weight': size is 128 bytes, but f16 [32] takes 64"));
}

TEST(Artifact, CountsInt4AsHalfAByte) {
  uint8_t bytes[3] = {};
  TestArtifactBuilder b = tinyLlama();
  b.addTensor("packed", fb::DType::I4, {5}, bytes, 3);
  EXPECT_TRUE(loadStatus(b).isOk()) << loadStatus(b).toString();
  TestArtifactBuilder c = tinyLlama();
  c.addTensor("packed", fb::DType::I4, {5}, bytes, 2);
  EXPECT_THAT(loadStatus(c).message(), HasSubstr("'packed': size is 2 bytes, but i4 [5] takes 3"));
}

TEST(Artifact, RejectsWrongLinearShape) {
  TestArtifactBuilder b = tinyLlama(LinearFormat::kF16);
  // Same bytes, transposed shape: [in, out] instead of [out, in].
  int down = findTensor(b, "model.layers.0.mlp.down_proj.weight");
  b.artifact().tensors[down]->shape = {48, 32};
  int step = findStep(b, fb::StepKind::Linear, 3);
  Status s = loadStatus(b);
  EXPECT_THAT(s.message(), HasSubstr("step " + std::to_string(step) + " (Linear, layer 0)"));
  EXPECT_THAT(s.message(), HasSubstr("'model.layers.0.mlp.down_proj.weight' has shape [48, 32], "
                                     "expected [32, 48]"));
}

TEST(Artifact, RejectsWrongInt4ScalesShape) {
  TestArtifactBuilder b = tinyLlama(LinearFormat::kInt4Symmetric);
  int t = findTensor(b, "lm_head.weight.scales");
  b.artifact().tensors[t]->shape = {48, 4}; // [96, 2] in the same bytes
  Status s = loadStatus(b);
  EXPECT_THAT(s.message(), HasSubstr("weight 1 (scales) tensor"));
  EXPECT_THAT(s.message(), HasSubstr("has shape [48, 4], expected [96, 2]"));
}

TEST(Artifact, RejectsAsymmetricInt4WithoutZeros) {
  TestArtifactBuilder b = tinyLlama(LinearFormat::kInt4Asymmetric);
  int step = findStep(b, fb::StepKind::Linear, 0);
  b.plan().steps[step]->weights.resize(2);
  Status s = loadStatus(b);
  EXPECT_THAT(s.message(), HasSubstr("step " + std::to_string(step) +
                                     " (Linear, layer 0): weight 2 (zero points) is missing"));
}

TEST(Artifact, RejectsInt4GroupNotDividingInput) {
  TestArtifactBuilder b = tinyLlama(LinearFormat::kInt4Asymmetric);
  int step = findStep(b, fb::StepKind::Linear, 0);
  b.plan().steps[step]->group_size = 12;
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("group_size 12 must be even and divide in_features 32"));
}

TEST(Artifact, RejectsActivationQuantizationOfOtherWeights) {
  TestArtifactBuilder b = tinyLlama(LinearFormat::kInt4Asymmetric);
  int step = findStep(b, fb::StepKind::Linear, 0);
  b.plan().steps[step]->activation = fb::ActivationQuant::Int8PerToken;
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("int8 activations need int8 weights with one scale per row"));
  b.plan().steps[step]->activation = fb::ActivationQuant::Fp8PerToken;
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("fp8 activations need fp8 weights"));
  b.plan().steps[step]->activation = static_cast<fb::ActivationQuant>(9);
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("unknown activation quantization 9"));
}

// Quantized activation rows live only in slots that say so, written by
// QuantizeRows or a quantizing RmsNorm and read by a Linear of that scheme.
TEST(Artifact, RejectsQuantizedRowsWhereTheStepDoesNotReadThem) {
  TestArtifactBuilder b = tinyLlama(LinearFormat::kInt4Asymmetric);
  int norm = findStep(b, fb::StepKind::RmsNorm, 0);
  int out = b.plan().steps[norm]->outputs[0];
  b.plan().slots[out]->activation = fb::ActivationQuant::Int8PerToken;
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("(RmsNorm, layer 0): output 0 slot " + std::to_string(out)));
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("holds Int8PerToken rows, expected unquantized rows"));
  b.plan().steps[norm]->activation = fb::ActivationQuant::Int8PerToken;
  // The norm now writes int8 rows, which the int4 linear after it reads as
  // if they were unquantized.
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("input 0 slot " + std::to_string(out)));
  int swiglu = findStep(b, fb::StepKind::SwiGlu, 0);
  b.plan().steps[swiglu]->activation = fb::ActivationQuant::Fp8PerToken;
  b.plan().slots[out]->activation = fb::ActivationQuant::None;
  b.plan().steps[norm]->activation = fb::ActivationQuant::None;
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("a SwiGlu step has no activation quantization"));
}

TEST(Artifact, RejectsInt8AndFp8WeightsOfTheWrongLayout) {
  // The int4 step's packed [out, in/2] bytes are the wrong shape for int8
  // and fp8, and its zero points are not allowed.
  TestArtifactBuilder b = tinyLlama(LinearFormat::kInt4Asymmetric);
  int step = findStep(b, fb::StepKind::Linear, 0);
  b.plan().steps[step]->format = fb::WeightFormat::Int8Group;
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("int8 weights are symmetric"));
  b.plan().steps[step]->symmetric = true;
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("int8 data"));
  b.plan().steps[step]->format = fb::WeightFormat::Fp8Channel;
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("fp8 weights have one scale per row, so group_size"));
}

TEST(Artifact, RejectsTargetWithoutKernels) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().targets = {"sm_90"};
  Status s = loadStatus(b);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("target sm_90 is listed, but no step has a kernel for it"));
}

TEST(Artifact, RejectsKernelIdOutOfRange) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().targets = {"sm_90"};
  auto kernel = std::make_unique<fb::KernelT>();
  kernel->name = "qtc_embedding";
  kernel->target = "sm_90";
  kernel->ptx = ".version 8.0";
  kernel->block_x = 128;
  b.artifact().kernels.push_back(std::move(kernel));
  b.plan().steps[0]->kernel_ids = {0};
  b.plan().steps[1]->kernel_ids = {3};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("step 1: kernel_ids[0] = 3 names a missing kernel (the artifact has 1)"));
  b.plan().steps[1]->kernel_ids = {0, 0};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("step 1: kernel_ids has 2 entries, expected one per target (1)"));
  b.plan().steps[1]->kernel_ids = {-1};
  EXPECT_TRUE(loadStatus(b).isOk()) << loadStatus(b).toString();
}

TEST(Artifact, RejectsKernelForAnotherTarget) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().targets = {"sm_90", "sm_80"};
  for (const char *target : {"sm_80", "sm_90"}) {
    auto kernel = std::make_unique<fb::KernelT>();
    kernel->name = std::string("k_") + target;
    kernel->target = target;
    kernel->ptx = ".version 8.0";
    kernel->block_x = 128;
    b.artifact().kernels.push_back(std::move(kernel));
  }
  b.plan().steps[0]->kernel_ids = {0, 1};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("kernel_ids[0] names kernel 'k_sm_80' for sm_80, expected one for sm_90"));
  b.plan().steps[0]->kernel_ids = {1, 0};
  EXPECT_TRUE(loadStatus(b).isOk()) << loadStatus(b).toString();
  b.artifact().kernels[0]->ptx.clear();
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("kernel 0 'k_sm_80' has no PTX"));
}

// Programmatic launch lets a kernel start before its predecessor has
// finished writing: only a kernel whose PTX waits for it may ask for it.
TEST(Artifact, RejectsProgrammaticLaunchWithoutWait) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().targets = {"sm_90"};
  auto kernel = std::make_unique<fb::KernelT>();
  kernel->name = "qtc_linear";
  kernel->target = "sm_90";
  kernel->ptx = ".version 8.0\n.target sm_90\n";
  kernel->block_x = 128;
  kernel->programmatic_launch = true;
  b.artifact().kernels.push_back(std::move(kernel));
  b.plan().steps[0]->kernel_ids = {0};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("kernel 0 'qtc_linear' asks for programmatic launch, but its PTX "
                        "never waits for its predecessor (griddepcontrol.wait)"));
  b.artifact().kernels[0]->ptx += "griddepcontrol.wait;\n";
  EXPECT_TRUE(loadStatus(b).isOk()) << loadStatus(b).toString();
  b.artifact().kernels[0]->programmatic_launch = false;
  EXPECT_TRUE(loadStatus(b).isOk()) << loadStatus(b).toString();
}

// Plan.argmax_kernel_ids: optional, else one valid kernel (or -1) per target.
TEST(Artifact, ChecksArgmaxKernelIds) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().targets = {"sm_90", "sm_80"};
  for (const char *name : {"k_sm_90", "argmax_sm_90", "k_sm_80"}) {
    auto kernel = std::make_unique<fb::KernelT>();
    kernel->name = name;
    kernel->target = std::string(name).substr(std::string(name).find("sm_"));
    kernel->ptx = ".version 8.0";
    kernel->block_x = 128;
    b.artifact().kernels.push_back(std::move(kernel));
  }
  b.plan().steps[0]->kernel_ids = {0, 2};
  // Absent: artifacts from before the field stay valid.
  EXPECT_TRUE(loadStatus(b).isOk()) << loadStatus(b).toString();

  b.plan().argmax_kernel_ids = {1, -1};
  auto artifact = b.load();
  ASSERT_TRUE(artifact) << artifact.status().toString();
  const auto *ids = (*artifact)->plan().argmax_kernel_ids();
  ASSERT_TRUE(ids && ids->size() == 2);
  EXPECT_EQ(ids->Get(0), 1);
  EXPECT_EQ(ids->Get(1), -1);

  b.plan().argmax_kernel_ids = {1};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("plan: argmax_kernel_ids has 1 entries, expected one per target (2)"));
  b.plan().argmax_kernel_ids = {7, -1};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("plan: argmax_kernel_ids[0] = 7 names a missing kernel (the artifact "
                        "has 3)"));
  b.plan().argmax_kernel_ids = {-2, -1};
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("plan: argmax_kernel_ids[0] = -2 names a "
                                                 "missing kernel"));
  b.plan().argmax_kernel_ids = {1, 1};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("plan: argmax_kernel_ids[1] names kernel 'argmax_sm_90' for sm_90, "
                        "expected one for sm_80"));
}

// An argmax kernel alone does not make a target runnable.
TEST(Artifact, ArgmaxKernelAloneDoesNotServeATarget) {
  TestArtifactBuilder b = tinyLlama();
  b.artifact().targets = {"sm_90"};
  auto kernel = std::make_unique<fb::KernelT>();
  kernel->name = "argmax";
  kernel->target = "sm_90";
  kernel->ptx = ".version 8.0";
  kernel->block_x = 128;
  b.artifact().kernels.push_back(std::move(kernel));
  b.plan().argmax_kernel_ids = {0};
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("target sm_90 is listed, but no step has a kernel for it"));
}

TEST(Artifact, RejectsInconsistentConfig) {
  TestArtifactBuilder b = tinyLlama();
  b.config().num_kv_heads = 3;
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("config: num_heads 4 is not a multiple of num_kv_heads 3"));
  TestArtifactBuilder c = tinyLlama();
  c.config().hidden_size = 0;
  EXPECT_THAT(loadStatus(c).message(), HasSubstr("config: hidden_size is 0"));
  TestArtifactBuilder d = tinyLlama();
  d.config().eos_token_id = 96;
  EXPECT_THAT(loadStatus(d).message(),
              HasSubstr("config: eos_token_id 96 is outside the vocabulary of 96"));
}

TEST(Artifact, RejectsHeadsInconsistentWithQkvSlot) {
  TestArtifactBuilder b = tinyLlama();
  b.config().head_dim = 4; // qkv slot is (4 + 2*2) * 8 wide
  b.kvCache().head_dim = 4;
  Status s = loadStatus(b);
  EXPECT_THAT(s.message(), HasSubstr("(RopeKvAppend, layer 0): qkv input slot 2 'qkv' has width "
                                     "64, expected 32"));
}

TEST(Artifact, RejectsKvSpecMismatch) {
  TestArtifactBuilder b = tinyLlama();
  b.kvCache().num_layers = 3;
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("kv_cache: num_layers is 3, but the config says 2"));
  TestArtifactBuilder c = tinyLlama();
  c.kvCache().block_size = 0;
  EXPECT_THAT(loadStatus(c).message(), HasSubstr("kv_cache: block_size 0"));
}

// The quantization fields of KvCacheSpec: each contradiction named.
TEST(Artifact, RejectsContradictoryKvSchemes) {
  struct Case {
    void (*edit)(fb::KvCacheSpecT &);
    const char *message;
  } cases[] = {
      {[](fb::KvCacheSpecT &kv) { kv.dtype = static_cast<fb::KvDType>(9); },
       "kv_cache: unknown dtype 9"},
      {[](fb::KvCacheSpecT &kv) { kv.residual_window = 16; },
       "residual_window and sink_tokens apply to integer caches, not F16"},
      {[](fb::KvCacheSpecT &kv) {
         kv.dtype = fb::KvDType::Int4;
         kv.residual_window = 8;
       },
       "kv_cache: residual_window 8 must be 0 or block_size (16)"},
      {[](fb::KvCacheSpecT &kv) {
         kv.dtype = fb::KvDType::Int2;
         kv.sink_tokens = 17;
       },
       "kv_cache: sink_tokens 17 must be in [0, block_size]"},
      {[](fb::KvCacheSpecT &kv) {
         kv.dtype = fb::KvDType::Int8;
         kv.key_scales = {1.0f, 1.0f};
       },
       "kv_cache: key_scales apply to F8E4M3, not Int8"},
      {[](fb::KvCacheSpecT &kv) {
         kv.dtype = fb::KvDType::F8E4M3;
         kv.value_scales = {1.0f, 1.0f, 1.0f};
       },
       "kv_cache: value_scales has 3 entries, expected 2 (per layer) or 4 (per layer and kv "
       "head)"},
      {[](fb::KvCacheSpecT &kv) {
         kv.dtype = fb::KvDType::F8E4M3;
         kv.key_scales = {1.0f, -1.0f};
       },
       "kv_cache: key_scales[1] is -1.000000, not a positive finite scale"},
  };
  for (const Case &c : cases) {
    TestArtifactBuilder b = tinyLlama();
    c.edit(b.kvCache());
    EXPECT_THAT(loadStatus(b).message(), HasSubstr(c.message));
  }
  TestArtifactBuilder ok = tinyLlama();
  ok.kvCache().dtype = fb::KvDType::Int4;
  ok.kvCache().key_granularity = fb::KvGranularity::PerChannel;
  ok.kvCache().residual_window = 16;
  ok.kvCache().sink_tokens = 4;
  EXPECT_TRUE(loadStatus(ok).isOk()) << loadStatus(ok).toString();
}

TEST(Artifact, RejectsSlotReadBeforeWritten) {
  TestArtifactBuilder b = tinyLlama();
  // The first RmsNorm reads x, which the Embedding writes: drop the writer.
  b.plan().steps.erase(b.plan().steps.begin());
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("step 0 (RmsNorm, layer 0): reads slot 0 'x' before any step writes it"));
}

TEST(Artifact, RejectsSlotIndexOutOfRange) {
  TestArtifactBuilder b = tinyLlama();
  b.plan().steps[1]->outputs = {42};
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("output 0 names slot 42 of 9"));
}

TEST(Artifact, RejectsAttentionWithoutRope) {
  TestArtifactBuilder b = tinyLlama();
  int rope = findStep(b, fb::StepKind::RopeKvAppend, 0);
  b.plan().steps.erase(b.plan().steps.begin() + rope);
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("no earlier RopeKvAppend fills layer 0's KV cache"));
}

TEST(Artifact, RejectsLogitsThatAreNotGathered) {
  TestArtifactBuilder b = tinyLlama();
  int gather = findStep(b, fb::StepKind::GatherRows, 0);
  // Norm the full x instead of the gathered rows.
  b.plan().steps[gather + 1]->inputs = {0};
  b.plan().steps.erase(b.plan().steps.begin() + gather);
  EXPECT_THAT(loadStatus(b).message(), HasSubstr("is not downstream of a GatherRows step"));
}

TEST(Artifact, RejectsAttentionOnGatheredRows) {
  TestArtifactBuilder b = tinyLlama();
  int rope = findStep(b, fb::StepKind::RopeKvAppend, 0);
  int gathered = b.addSlot("gathered_qkv", 64);
  auto gather = std::make_unique<fb::StepT>();
  gather->kind = fb::StepKind::GatherRows;
  gather->inputs = {2};
  gather->outputs = {gathered};
  b.plan().steps[rope]->inputs = {gathered};
  b.plan().steps.insert(b.plan().steps.begin() + rope, std::move(gather));
  EXPECT_THAT(loadStatus(b).message(),
              HasSubstr("(RopeKvAppend, layer 0): runs on gathered logit rows"));
}

// Random corruption of a valid artifact must give a clean error or a
// still-valid artifact, never a crash; every error carries a message.
TEST(Artifact, SurvivesRandomCorruption) {
  const std::vector<uint8_t> valid = tinyLlama().build();
  std::mt19937 rng(123);
  int rejected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> bytes = valid;
    const size_t tableEnd = std::min<size_t>(bytes.size(), 4096);
    for (int flips = 1 + trial % 4; flips > 0; --flips)
      bytes[rng() % tableEnd] ^= static_cast<uint8_t>(1u << (rng() % 8));
    Status s = loadStatus(bytes);
    if (!s.isOk()) {
      ++rejected;
      EXPECT_FALSE(s.message().empty());
    }
  }
  EXPECT_GT(rejected, 0);
}
