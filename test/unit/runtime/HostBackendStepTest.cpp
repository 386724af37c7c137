//===- HostBackendStepTest.cpp - Host backend steps vs plain references ---===//
//
// Each test builds a small plan: an Embedding feeds the step under test with
// rows of a random f32 table, GatherRows hands its output back as "logits".
// The references below are written from the schema's definitions, without
// the backend's code.
//
//===----------------------------------------------------------------------===//

#include "TestArtifactBuilder.h"

#include "qtc/rt/Backend.h"
#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

struct Sequence {
  std::vector<int32_t> blocks; // block table
};

class StepHarness {
public:
  // `outWidth` is the width of the step's output, handed back as logits.
  StepHarness(int inWidth, int outWidth, uint32_t seed = 1) : inWidth(inWidth), rng_(seed) {
    fb::ModelConfigT &c = b.config();
    c.vocab_size = outWidth;
    c.hidden_size = inWidth;
    c.num_layers = 1;
    c.num_heads = 2;
    c.num_kv_heads = 1;
    c.head_dim = 4;
    c.intermediate_size = 8;
    c.max_positions = 64;
    b.kvCache().num_layers = 1;
    b.kvCache().num_kv_heads = 1;
    b.kvCache().head_dim = 4;
    b.kvCache().block_size = 16;
    table = randomValues(rng_, static_cast<size_t>(outWidth) * inWidth, 1.0f);
    in = b.addSlot("in", inWidth);
    b.addStep(fb::StepKind::Embedding, {}, {in}, {b.addF32("table", {outWidth, inWidth}, table)});
    out = b.addSlot("out", outWidth);
  }

  void setAttention(int heads, int kvHeads, int headDim, int blockSize, fb::KvDType dtype) {
    fb::ModelConfigT &c = b.config();
    c.num_heads = heads;
    c.num_kv_heads = kvHeads;
    c.head_dim = headDim;
    b.kvCache().num_kv_heads = kvHeads;
    b.kvCache().head_dim = headDim;
    b.kvCache().block_size = blockSize;
    b.kvCache().dtype = dtype;
  }

  // Adds GatherRows out -> logits and prepares a host backend.
  void prepare(int hostThreads = 1, int numKvBlocks = 8) {
    int logits = b.addSlot("logits", b.config().vocab_size);
    b.addStep(fb::StepKind::GatherRows, {out}, {logits});
    b.plan().logits_slot = logits;
    auto loaded = b.load();
    ASSERT_TRUE(loaded) << loaded.status().toString();
    artifact = std::move(*loaded);
    backend = createHostBackend();
    BackendOptions options;
    options.maxTokensPerCall = 128;
    options.numKvBlocks = numKvBlocks;
    options.hostThreads = hostThreads;
    Status status = backend->prepare(*artifact, options);
    ASSERT_TRUE(status.isOk()) << status.toString();
  }

  std::vector<int32_t> randomIds(int count) {
    std::vector<int32_t> ids(count);
    for (int32_t &id : ids)
      id = static_cast<int32_t>(rng_() % b.config().vocab_size);
    return ids;
  }

  // The step's input rows for `ids`.
  std::vector<float> inputRows(const std::vector<int32_t> &ids) const {
    const int width = inWidth;
    std::vector<float> rows;
    for (int32_t id : ids)
      rows.insert(rows.end(), table.begin() + static_cast<size_t>(id) * width,
                  table.begin() + static_cast<size_t>(id + 1) * width);
    return rows;
  }

  // One sequence at positions 0..n-1, every row's output returned.
  std::vector<float> runSingle(const std::vector<int32_t> &ids) {
    std::vector<int32_t> positions(ids.size()), seqOf(ids.size(), 0), rows(ids.size());
    std::iota(positions.begin(), positions.end(), 0);
    std::iota(rows.begin(), rows.end(), 0);
    std::vector<int32_t> lens = {static_cast<int32_t>(ids.size())};
    std::vector<int32_t> blocks = {0, 1, 2, 3};
    BatchView batch;
    batch.numTokens = static_cast<int>(ids.size());
    batch.numSeqs = 1;
    batch.tokenIds = ids.data();
    batch.positions = positions.data();
    batch.tokenSeq = seqOf.data();
    batch.seqLens = lens.data();
    batch.blockTables = blocks.data();
    batch.maxBlocksPerSeq = 4;
    batch.logitRows = rows.data();
    batch.numLogitRows = static_cast<int>(rows.size());
    std::vector<float> logits;
    Status status = backend->forward(batch, logits);
    EXPECT_TRUE(status.isOk()) << status.toString();
    return logits;
  }

  TestArtifactBuilder b;
  int inWidth;
  int in = -1, out = -1;
  std::vector<float> table;
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Backend> backend;

private:
  std::mt19937 rng_;
};

void expectNear(const std::vector<float> &actual, const std::vector<double> &expected,
                double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i], tolerance * (1.0 + std::fabs(expected[i])))
        << "element " << i;
}

// y[t, n] = sum_k x[t, k] w[n, k] + bias[n] + residual[t, n]
std::vector<double> referenceLinear(const std::vector<float> &x, const std::vector<double> &w,
                                    int rows, int in, int out, const std::vector<float> &bias,
                                    const std::vector<float> &residual) {
  std::vector<double> y(static_cast<size_t>(rows) * out);
  for (int t = 0; t < rows; ++t)
    for (int n = 0; n < out; ++n) {
      double sum = bias.empty() ? 0.0 : bias[n];
      for (int k = 0; k < in; ++k)
        sum += double(x[t * in + k]) * w[static_cast<size_t>(n) * in + k];
      if (!residual.empty())
        sum += residual[t * out + n];
      y[t * out + n] = sum;
    }
  return y;
}

} // namespace

TEST(HostBackendStep, EmbeddingDecodesF16AndBf16Tables) {
  for (fb::DType dtype : {fb::DType::F16, fb::DType::BF16}) {
    // A second Embedding, from a 16-bit [vocab, hidden] = [10, 10] table.
    StepHarness h(10, 10);
    std::mt19937 rng(3);
    std::vector<float> values = randomValues(rng, 10 * 10, 2.0f);
    std::vector<uint16_t> raw(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      raw[i] = dtype == fb::DType::F16 ? floatToHalf(values[i]) : floatToBf16(values[i]);
    int table = h.b.addTensor("table16", dtype, {10, 10}, raw.data(), raw.size() * 2);
    h.b.addStep(fb::StepKind::Embedding, {}, {h.out}, {table});
    h.prepare();
    std::vector<int32_t> ids = {3, 0, 9, 3};
    std::vector<float> logits = h.runSingle(ids);
    ASSERT_EQ(logits.size(), 40u);
    for (size_t t = 0; t < ids.size(); ++t)
      for (int c = 0; c < 10; ++c) {
        uint16_t bits = raw[ids[t] * 10 + c];
        float expected = dtype == fb::DType::F16 ? halfToFloat(bits) : bf16ToFloat(bits);
        ASSERT_EQ(logits[t * 10 + c], expected);
      }
  }
}

TEST(HostBackendStep, RmsNorm) {
  StepHarness h(24, 24);
  std::mt19937 rng(5);
  std::vector<float> w = randomValues(rng, 24, 1.5f);
  h.b.addStep(fb::StepKind::RmsNorm, {h.in}, {h.out}, {h.b.addF32("w", {24}, w)}).epsilon = 1e-3f;
  h.prepare();
  std::vector<int32_t> ids = h.randomIds(5);
  std::vector<float> x = h.inputRows(ids);
  std::vector<double> expected(x.size());
  for (int t = 0; t < 5; ++t) {
    double meanSquare = 0;
    for (int i = 0; i < 24; ++i)
      meanSquare += double(x[t * 24 + i]) * x[t * 24 + i] / 24;
    for (int i = 0; i < 24; ++i)
      expected[t * 24 + i] = x[t * 24 + i] / std::sqrt(meanSquare + 1e-3) * w[i];
  }
  expectNear(h.runSingle(ids), expected, 1e-5);
}

TEST(HostBackendStep, DenseLinearWithBiasAndResidual) {
  // 7 rows and 37 columns: neither a multiple of the backend's tiles.
  const int in = 37, out = 37, rows = 7;
  StepHarness h(in, out);
  std::mt19937 rng(9);
  std::vector<float> w = randomValues(rng, out * in, 0.3f), bias = randomValues(rng, out, 1.0f);
  int wi = h.b.addF32("w", {out, in}, w);
  int bi = h.b.addF32("b", {out}, bias);
  fb::StepT &step = h.b.addDenseLinear(h.in, h.in, h.out, wi, in, out);
  step.weights = {wi, -1, -1, bi};
  h.prepare();
  std::vector<int32_t> ids = h.randomIds(rows);
  std::vector<float> x = h.inputRows(ids);
  expectNear(h.runSingle(ids),
             referenceLinear(x, std::vector<double>(w.begin(), w.end()), rows, in, out, bias, x),
             1e-5);
}

TEST(HostBackendStep, HalfPrecisionDenseLinear) {
  for (fb::DType dtype : {fb::DType::F16, fb::DType::BF16}) {
    const int in = 20, out = 33, rows = 5;
    StepHarness h(in, out);
    std::mt19937 rng(11);
    std::vector<float> w = randomValues(rng, out * in, 0.5f);
    std::vector<uint16_t> raw(w.size());
    std::vector<double> stored(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      raw[i] = dtype == fb::DType::F16 ? floatToHalf(w[i]) : floatToBf16(w[i]);
      stored[i] = dtype == fb::DType::F16 ? halfToFloat(raw[i]) : bf16ToFloat(raw[i]);
    }
    int wi = h.b.addTensor("w", dtype, {out, in}, raw.data(), raw.size() * 2);
    h.b.addDenseLinear(h.in, -1, h.out, wi, in, out);
    h.prepare();
    std::vector<int32_t> ids = h.randomIds(rows);
    expectNear(h.runSingle(ids), referenceLinear(h.inputRows(ids), stored, rows, in, out, {}, {}),
               1e-5);
  }
}

TEST(HostBackendStep, Int4GroupLinear) {
  for (bool symmetric : {true, false}) {
    const int in = 64, out = 24, group = 16, groups = in / group, rows = 6;
    StepHarness h(in, out, symmetric ? 21 : 22);
    std::mt19937 rng(13);
    // Arbitrary packed nibbles, scales and zero points (not a quantizer's).
    std::vector<uint8_t> packed(out * in / 2);
    for (uint8_t &byte : packed)
      byte = static_cast<uint8_t>(rng() & 0xff);
    std::vector<float> scales = randomValues(rng, out * groups, 0.1f);
    std::vector<float> zeros = randomValues(rng, out * groups, 4.0f);
    for (float &z : zeros)
      z = roundToHalf(z + 8.0f);
    for (float &s : scales)
      s = roundToHalf(s);
    int data = h.b.addTensor("q", fb::DType::U8, {out, in / 2}, packed.data(), packed.size());
    int si = h.b.addF16("scales", {out, groups}, scales);
    std::vector<int32_t> weights = {data, si};
    if (!symmetric)
      weights.push_back(h.b.addF16("zeros", {out, groups}, zeros));
    fb::StepT &step = h.b.addStep(fb::StepKind::Linear, {h.in}, {h.out}, weights);
    step.format = fb::WeightFormat::Int4Group;
    step.in_features = in;
    step.out_features = out;
    step.group_size = group;
    step.symmetric = symmetric;
    h.prepare();

    std::vector<double> w(out * in);
    for (int n = 0; n < out; ++n)
      for (int k = 0; k < in; ++k) {
        const uint8_t byte = packed[n * (in / 2) + k / 2];
        const int q = k % 2 ? byte >> 4 : byte & 15;
        const int g = n * groups + k / group;
        w[n * in + k] = (q - (symmetric ? 8.0 : zeros[g])) * scales[g];
      }
    std::vector<int32_t> ids = h.randomIds(rows);
    expectNear(h.runSingle(ids), referenceLinear(h.inputRows(ids), w, rows, in, out, {}, {}),
               1e-5);
  }
}

TEST(HostBackendStep, Int8GroupLinear) {
  for (int group : {16, 64}) { // groups, and one scale per row
    const int in = 64, out = 24, groups = in / group, rows = 5;
    StepHarness h(in, out, 23 + group);
    std::mt19937 rng(17);
    std::vector<uint8_t> data(out * in); // arbitrary two's complement codes
    for (uint8_t &byte : data)
      byte = static_cast<uint8_t>(rng() & 0xff);
    std::vector<float> scales = randomValues(rng, out * groups, 0.01f);
    for (float &s : scales)
      s = roundToHalf(s);
    int d = h.b.addTensor("q", fb::DType::I8, {out, in}, data.data(), data.size());
    int si = h.b.addF16("scales", {out, groups}, scales);
    fb::StepT &step = h.b.addStep(fb::StepKind::Linear, {h.in}, {h.out}, {d, si, -1});
    step.format = fb::WeightFormat::Int8Group;
    step.in_features = in;
    step.out_features = out;
    step.group_size = group;
    h.prepare();

    std::vector<double> w(out * in);
    for (int n = 0; n < out; ++n)
      for (int k = 0; k < in; ++k)
        w[n * in + k] = static_cast<int8_t>(data[n * in + k]) * double(scales[n * groups + k / group]);
    std::vector<int32_t> ids = h.randomIds(rows);
    expectNear(h.runSingle(ids), referenceLinear(h.inputRows(ids), w, rows, in, out, {}, {}),
               1e-5);
  }
}

// Every finite e4m3 code appears; the f32 row scale multiplies it.
TEST(HostBackendStep, Fp8ChannelLinear) {
  const int in = 64, out = 16, rows = 4;
  StepHarness h(in, out, 31);
  std::vector<uint8_t> data(out * in);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<uint8_t>((i * 37) & 0xff);
    if ((data[i] & 0x7f) == 0x7f) // NaN codes are not weights
      data[i] ^= 1;
  }
  std::vector<float> scales(out);
  for (int n = 0; n < out; ++n)
    scales[n] = 1e-3f * (n + 1);
  int d = h.b.addTensor("q", fb::DType::U8, {out, in}, data.data(), data.size());
  int si = h.b.addF32("scales", {out}, scales);
  fb::StepT &step = h.b.addStep(fb::StepKind::Linear, {h.in}, {h.out}, {d, si, -1});
  step.format = fb::WeightFormat::Fp8Channel;
  step.in_features = in;
  step.out_features = out;
  step.group_size = in;
  h.prepare();
  std::vector<double> w(out * in);
  for (int n = 0; n < out; ++n)
    for (int k = 0; k < in; ++k)
      w[n * in + k] = double(e4m3ToFloat(data[n * in + k])) * scales[n];
  std::vector<int32_t> ids = h.randomIds(rows);
  expectNear(h.runSingle(ids), referenceLinear(h.inputRows(ids), w, rows, in, out, {}, {}),
             1e-5);
}

// W8A8: each input row goes to codes round(x / s), s = max|x| / 127 (fp8:
// e4m3(x / s), s = max|x| / 448), and the product is of codes, times both
// scales; the reference computes the int8 dot product exactly in integers.
// A W8A8 (int8 codes, f16 row scales) or FP8 (e4m3 codes, f32 row scales)
// linear from quantized slot `q` to the harness's output.
static void addQuantizedInputLinear(StepHarness &h, int q, fb::ActivationQuant scheme,
                             const std::vector<uint8_t> &data, const std::vector<float> &scales,
                             int in, int out) {
  const bool fp8 = scheme == fb::ActivationQuant::Fp8PerToken;
  int d = h.b.addTensor("q", fp8 ? fb::DType::U8 : fb::DType::I8, {out, in}, data.data(),
                        data.size());
  int si = fp8 ? h.b.addF32("scales", {out}, scales) : h.b.addF16("scales", {out, 1}, scales);
  fb::StepT &step = h.b.addStep(fb::StepKind::Linear, {q}, {h.out}, {d, si, -1});
  step.format = fp8 ? fb::WeightFormat::Fp8Channel : fb::WeightFormat::Int8Group;
  step.in_features = in;
  step.out_features = out;
  step.group_size = in;
  step.activation = scheme;
}

TEST(HostBackendStep, PerTokenActivationQuantization) {
  for (bool fp8 : {false, true}) {
    const int in = 64, out = 12, rows = 5;
    StepHarness h(in, out, fp8 ? 41 : 42);
    std::mt19937 rng(19);
    std::vector<uint8_t> data(out * in);
    for (uint8_t &byte : data) {
      byte = static_cast<uint8_t>(rng() & 0xff);
      if (fp8 && (byte & 0x7f) == 0x7f)
        byte ^= 1;
    }
    std::vector<float> scales = randomValues(rng, out, 0.01f);
    for (float &s : scales)
      s = roundToHalf(std::fabs(s) + 1e-3f);
    const fb::ActivationQuant scheme =
        fp8 ? fb::ActivationQuant::Fp8PerToken : fb::ActivationQuant::Int8PerToken;
    int q = h.b.addSlot("q", in, scheme);
    h.b.addStep(fb::StepKind::QuantizeRows, {h.in}, {q}).activation = scheme;
    addQuantizedInputLinear(h, q, scheme, data, scales, in, out);
    h.prepare();

    std::vector<int32_t> ids = h.randomIds(rows);
    std::vector<float> x = h.inputRows(ids);
    std::vector<double> expected(rows * out);
    for (int t = 0; t < rows; ++t) {
      float absMax = 0;
      for (int k = 0; k < in; ++k)
        absMax = std::max(absMax, std::fabs(x[t * in + k]));
      float s = absMax / (fp8 ? 448.0f : 127.0f);
      for (int n = 0; n < out; ++n) {
        double sum = 0;
        int64_t isum = 0;
        for (int k = 0; k < in; ++k) {
          uint8_t wq = data[n * in + k];
          if (fp8)
            sum += double(roundToE4M3(x[t * in + k] / s)) * e4m3ToFloat(wq);
          else
            isum += int64_t(std::nearbyint(x[t * in + k] / s)) * static_cast<int8_t>(wq);
        }
        expected[t * out + n] = (fp8 ? sum : double(isum)) * s * scales[n];
      }
    }
    expectNear(h.runSingle(ids), expected, 1e-5);
  }
}

// The norm -> quantize fusion gives exactly what RmsNorm then QuantizeRows
// give: the same codes and scales, so the same products.
TEST(HostBackendStep, QuantizingRmsNormEqualsNormThenQuantizeRows) {
  for (bool fp8 : {false, true}) {
    const int in = 48, out = 10, rows = 7;
    const fb::ActivationQuant scheme =
        fp8 ? fb::ActivationQuant::Fp8PerToken : fb::ActivationQuant::Int8PerToken;
    std::vector<float> results[2];
    for (bool fused : {false, true}) {
      StepHarness h(in, out, 23);
      std::mt19937 rng(5);
      std::vector<float> w = randomValues(rng, in, 1.0f);
      std::vector<uint8_t> data(out * in);
      for (uint8_t &byte : data)
        byte = static_cast<uint8_t>(rng() & 0x77);
      std::vector<float> scales(out, 0.01f);
      int wi = h.b.addF32("w", {in}, w);
      int q = h.b.addSlot("q", in, scheme);
      if (fused) {
        fb::StepT &norm = h.b.addStep(fb::StepKind::RmsNorm, {h.in}, {q}, {wi});
        norm.epsilon = 1e-5f;
        norm.activation = scheme;
      } else {
        int normed = h.b.addSlot("normed", in);
        h.b.addStep(fb::StepKind::RmsNorm, {h.in}, {normed}, {wi}).epsilon = 1e-5f;
        h.b.addStep(fb::StepKind::QuantizeRows, {normed}, {q}).activation = scheme;
      }
      addQuantizedInputLinear(h, q, scheme, data, scales, in, out);
      h.prepare();
      results[fused] = h.runSingle(h.randomIds(rows));
    }
    EXPECT_EQ(results[0], results[1]) << (fp8 ? "fp8" : "int8");
  }
}

TEST(HostBackendStep, LargeLinearOnTwoThreads) {
  const int in = 256, out = 520, rows = 61;
  StepHarness h(in, out);
  std::mt19937 rng(17);
  std::vector<float> w = randomValues(rng, out * in, 0.1f);
  h.b.addDenseLinear(h.in, -1, h.out, h.b.addF32("w", {out, in}, w), in, out);
  h.prepare(/*hostThreads=*/2);
  std::vector<int32_t> ids = h.randomIds(rows);
  expectNear(h.runSingle(ids),
             referenceLinear(h.inputRows(ids), std::vector<double>(w.begin(), w.end()), rows, in,
                             out, {}, {}),
             1e-4);
}

TEST(HostBackendStep, SwiGlu) {
  StepHarness h(16, 8);
  h.b.addStep(fb::StepKind::SwiGlu, {h.in}, {h.out});
  h.prepare();
  std::vector<int32_t> ids = h.randomIds(3);
  std::vector<float> x = h.inputRows(ids);
  std::vector<double> expected;
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 8; ++i) {
      const double g = x[t * 16 + i], u = x[t * 16 + 8 + i];
      expected.push_back(g / (1 + std::exp(-g)) * u);
    }
  expectNear(h.runSingle(ids), expected, 1e-6);
}

TEST(HostBackendStep, Add) {
  StepHarness h(12, 12);
  std::mt19937 rng(19);
  std::vector<float> w = randomValues(rng, 12, 1.0f);
  int normed = h.b.addSlot("normed", 12);
  h.b.addStep(fb::StepKind::RmsNorm, {h.in}, {normed}, {h.b.addF32("w", {12}, w)}).epsilon = 1e-5f;
  h.b.addStep(fb::StepKind::Add, {h.in, normed}, {h.out});
  h.prepare();
  std::vector<int32_t> ids = h.randomIds(4);
  std::vector<float> x = h.inputRows(ids);
  std::vector<double> expected;
  for (int t = 0; t < 4; ++t) {
    double ms = 0;
    for (int i = 0; i < 12; ++i)
      ms += double(x[t * 12 + i]) * x[t * 12 + i] / 12;
    for (int i = 0; i < 12; ++i)
      expected.push_back(x[t * 12 + i] + x[t * 12 + i] / std::sqrt(ms + 1e-5) * w[i]);
  }
  expectNear(h.runSingle(ids), expected, 1e-5);
}

TEST(HostBackendStep, GatherRowsSelectsRequestedRowsInOrder) {
  StepHarness h(5, 5);
  h.b.addStep(fb::StepKind::RmsNorm, {h.in}, {h.out},
              {h.b.addF32("ones", {5}, std::vector<float>(5, 1.0f))})
      .epsilon = 1e-6f;
  h.prepare();
  std::vector<int32_t> ids = {4, 1, 3}, positions = {0, 1, 2}, seqOf = {0, 0, 0};
  std::vector<int32_t> lens = {3}, blocks = {0}, rows = {2, 0, 2};
  BatchView batch;
  batch.numTokens = 3;
  batch.numSeqs = 1;
  batch.tokenIds = ids.data();
  batch.positions = positions.data();
  batch.tokenSeq = seqOf.data();
  batch.seqLens = lens.data();
  batch.blockTables = blocks.data();
  batch.maxBlocksPerSeq = 1;
  batch.logitRows = rows.data();
  batch.numLogitRows = 3;
  std::vector<float> logits;
  ASSERT_TRUE(h.backend->forward(batch, logits).isOk());
  std::vector<float> all = h.runSingle(ids);
  ASSERT_EQ(logits.size(), 15u);
  for (int c = 0; c < 5; ++c) {
    EXPECT_EQ(logits[0 * 5 + c], all[2 * 5 + c]);
    EXPECT_EQ(logits[1 * 5 + c], all[0 * 5 + c]);
    EXPECT_EQ(logits[2 * 5 + c], all[2 * 5 + c]);
  }
}

//===-- RopeKvAppend + Attention ------------------------------------------===//

namespace {

struct AttentionCase {
  int heads = 4, kvHeads = 2, headDim = 8, blockSize = 4;
  fb::KvDType dtype = fb::KvDType::F16;
  bool llama3 = false;
};

// inv_freq per the schema, with llama3 scaling (factor 8, low 1, high 4,
// original context 16) written out from its definition.
std::vector<double> referenceInvFreq(const AttentionCase &c, double theta) {
  std::vector<double> inv(c.headDim / 2);
  for (int i = 0; i < c.headDim / 2; ++i) {
    inv[i] = std::pow(theta, -2.0 * i / c.headDim);
    if (!c.llama3)
      continue;
    const double factor = 8, low = 1, high = 4, original = 16;
    const double wavelen = 2 * M_PI / inv[i];
    if (wavelen < original / high)
      continue;
    if (wavelen > original / low) {
      inv[i] /= factor;
      continue;
    }
    const double smooth = (original / wavelen - low) / (high - low);
    inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
  }
  return inv;
}

// Outputs [tokens of `seq`, heads*headDim] for the whole sequence `x` (qkv
// rows at positions 0..n-1).
std::vector<double> referenceAttention(const AttentionCase &c, const std::vector<float> &x,
                                       int n, double theta) {
  const int hd = c.headDim, width = (c.heads + 2 * c.kvHeads) * hd;
  std::vector<double> qkv(x.begin(), x.end());
  std::vector<double> inv = referenceInvFreq(c, theta);
  for (int t = 0; t < n; ++t) {
    for (int h = 0; h < c.heads + c.kvHeads; ++h)
      for (int i = 0; i < hd / 2; ++i) {
        double *v = &qkv[t * width + h * hd];
        const double angle = t * inv[i], a = v[i], b = v[i + hd / 2];
        v[i] = a * std::cos(angle) - b * std::sin(angle);
        v[i + hd / 2] = b * std::cos(angle) + a * std::sin(angle);
      }
    if (c.dtype == fb::KvDType::F16)
      for (int i = c.heads * hd; i < width; ++i)
        qkv[t * width + i] = roundToHalf(static_cast<float>(qkv[t * width + i]));
  }
  std::vector<double> out(static_cast<size_t>(n) * c.heads * hd, 0.0);
  for (int t = 0; t < n; ++t)
    for (int h = 0; h < c.heads; ++h) {
      const int g = h / (c.heads / c.kvHeads);
      std::vector<double> s(t + 1);
      double mx = -1e300, total = 0;
      for (int p = 0; p <= t; ++p) {
        double dot = 0;
        for (int i = 0; i < hd; ++i)
          dot += qkv[t * width + h * hd + i] * qkv[p * width + (c.heads + g) * hd + i];
        s[p] = dot / std::sqrt(double(hd));
        mx = std::max(mx, s[p]);
      }
      for (int p = 0; p <= t; ++p)
        total += s[p] = std::exp(s[p] - mx);
      for (int p = 0; p <= t; ++p)
        for (int i = 0; i < hd; ++i)
          out[(t * c.heads + h) * hd + i] +=
              s[p] / total * qkv[p * width + (c.heads + c.kvHeads + g) * hd + i];
    }
  return out;
}

class AttentionHarness {
public:
  explicit AttentionHarness(const AttentionCase &c)
      : c_(c), h_((c.heads + 2 * c.kvHeads) * c.headDim, c.heads * c.headDim, 31) {
    h_.setAttention(c.heads, c.kvHeads, c.headDim, c.blockSize, c.dtype);
    if (c.llama3) {
      fb::ModelConfigT &config = h_.b.config();
      config.rope_scaling = fb::RopeScaling::Llama3;
      config.rope_factor = 8;
      config.rope_low_freq_factor = 1;
      config.rope_high_freq_factor = 4;
      config.rope_original_max_positions = 16;
    }
    h_.b.addStep(fb::StepKind::RopeKvAppend, {h_.in}, {}).layer = 0;
    h_.b.addStep(fb::StepKind::Attention, {h_.in}, {h_.out}).layer = 0;
    h_.prepare(1, /*numKvBlocks=*/16);
  }

  StepHarness &harness() { return h_; }
  int outWidth() const { return c_.heads * c_.headDim; }

  // Runs a batch of chunks: (sequence block table, ids, first position).
  struct Chunk {
    const std::vector<int32_t> *blocks;
    std::vector<int32_t> ids;
    int start;
  };
  std::vector<float> run(const std::vector<Chunk> &chunks, Status *status = nullptr) {
    std::vector<int32_t> ids, positions, seqOf, lens, tables, rows;
    int maxBlocks = 0;
    for (const Chunk &chunk : chunks)
      maxBlocks = std::max<int>(maxBlocks, chunk.blocks->size());
    for (size_t s = 0; s < chunks.size(); ++s) {
      const Chunk &chunk = chunks[s];
      for (size_t i = 0; i < chunk.ids.size(); ++i) {
        rows.push_back(static_cast<int32_t>(ids.size()));
        ids.push_back(chunk.ids[i]);
        positions.push_back(chunk.start + static_cast<int>(i));
        seqOf.push_back(static_cast<int32_t>(s));
      }
      lens.push_back(chunk.start + static_cast<int>(chunk.ids.size()));
      std::vector<int32_t> row = *chunk.blocks;
      row.resize(maxBlocks, -1);
      tables.insert(tables.end(), row.begin(), row.end());
    }
    BatchView batch;
    batch.numTokens = static_cast<int>(ids.size());
    batch.numSeqs = static_cast<int>(chunks.size());
    batch.tokenIds = ids.data();
    batch.positions = positions.data();
    batch.tokenSeq = seqOf.data();
    batch.seqLens = lens.data();
    batch.blockTables = tables.data();
    batch.maxBlocksPerSeq = maxBlocks;
    batch.logitRows = rows.data();
    batch.numLogitRows = static_cast<int>(rows.size());
    std::vector<float> logits;
    Status result = h_.backend->forward(batch, logits);
    if (status)
      *status = result;
    else
      EXPECT_TRUE(result.isOk()) << result.toString();
    return logits;
  }

  std::vector<double> reference(const std::vector<int32_t> &ids) {
    return referenceAttention(c_, h_.inputRows(ids), static_cast<int>(ids.size()),
                              h_.b.config().rope_theta);
  }

private:
  AttentionCase c_;
  StepHarness h_;
};

std::vector<float> rowsOf(const std::vector<float> &values, int width, int first, int count) {
  return std::vector<float>(values.begin() + static_cast<size_t>(first) * width,
                            values.begin() + static_cast<size_t>(first + count) * width);
}

std::vector<double> rowsOf(const std::vector<double> &values, int width, int first, int count) {
  return std::vector<double>(values.begin() + static_cast<size_t>(first) * width,
                             values.begin() + static_cast<size_t>(first + count) * width);
}

void checkTwoSequencesAcrossCalls(const AttentionCase &c) {
  AttentionHarness a(c);
  const int w = a.outWidth();
  std::vector<int32_t> seqA = a.harness().randomIds(9), seqB = a.harness().randomIds(6);
  // Scattered, non-contiguous physical blocks.
  std::vector<int32_t> blocksA = {7, 2, 11}, blocksB = {5, 0};
  // Call 1: A's first 6 tokens and B's first 5 together.
  std::vector<float> first =
      a.run({{&blocksA, {seqA.begin(), seqA.begin() + 6}, 0},
             {&blocksB, {seqB.begin(), seqB.begin() + 5}, 0}});
  // Call 2: the rest of A (3 tokens) and B's last token, reading the cache.
  std::vector<float> second =
      a.run({{&blocksA, {seqA.begin() + 6, seqA.end()}, 6}, {&blocksB, {seqB.back()}, 5}});
  std::vector<double> refA = a.reference(seqA), refB = a.reference(seqB);
  const double tol = 2e-5;
  expectNear(rowsOf(first, w, 0, 6), rowsOf(refA, w, 0, 6), tol);
  expectNear(rowsOf(first, w, 6, 5), rowsOf(refB, w, 0, 5), tol);
  expectNear(rowsOf(second, w, 0, 3), rowsOf(refA, w, 6, 3), tol);
  expectNear(rowsOf(second, w, 3, 1), rowsOf(refB, w, 5, 1), tol);
}

} // namespace

TEST(HostBackendStep, RopeKvAppendAndAttentionGqaPagedF16) {
  checkTwoSequencesAcrossCalls(AttentionCase{});
}

TEST(HostBackendStep, RopeKvAppendAndAttentionF32Cache) {
  AttentionCase c;
  c.dtype = fb::KvDType::F32;
  c.heads = 6;
  c.kvHeads = 3;
  checkTwoSequencesAcrossCalls(c);
}

TEST(HostBackendStep, RopeWithLlama3Scaling) {
  AttentionCase c;
  c.llama3 = true;
  c.heads = 2;
  c.kvHeads = 1;
  c.headDim = 8;
  checkTwoSequencesAcrossCalls(c);
}

TEST(HostBackendStep, CopiedKvBlockReadsTheSame) {
  AttentionHarness a(AttentionCase{});
  std::vector<int32_t> prompt = a.harness().randomIds(4), next = a.harness().randomIds(1);
  std::vector<int32_t> original = {3}, viaOriginal = {3, 9}, viaCopy = {12, 9};
  a.run({{&original, prompt, 0}});
  ASSERT_TRUE(a.harness().backend->copyKvBlock(3, 12).isOk());
  // Position 4 starts block 1; both runs attend to block 0's copies.
  std::vector<float> fromOriginal = a.run({{&viaOriginal, next, 4}});
  std::vector<float> fromCopy = a.run({{&viaCopy, next, 4}});
  EXPECT_EQ(fromOriginal, fromCopy);
  EXPECT_THAT(a.harness().backend->copyKvBlock(3, 16).message(), HasSubstr("outside the 16 blocks"));
}

TEST(HostBackendStep, RejectsMalformedBatches) {
  AttentionHarness a(AttentionCase{});
  std::vector<int32_t> blocks = {1, 2};
  Status status;
  a.run({{&blocks, {999}, 0}}, &status);
  EXPECT_THAT(status.message(), HasSubstr("token 0 has id 999 outside the vocabulary"));
  std::vector<int32_t> badBlocks = {1, 40};
  a.run({{&badBlocks, {1, 2, 3, 4, 5}, 0}}, &status);
  EXPECT_THAT(status.message(), HasSubstr("maps its block 1 to physical block 40 of 16"));
  std::vector<int32_t> oneBlock = {1};
  a.run({{&oneBlock, {1, 2, 3, 4, 5}, 0}}, &status);
  EXPECT_THAT(status.message(), HasSubstr("has length 5; its block table holds 4 positions"));
}
