//===- HostKvCacheTest.cpp - What each query reads from a quantized cache -===//
//
// The host backend's KV cache (the numerics oracle) against the plain rule of
// artifact.fbs's KvCacheSpec, for every scheme and every block boundary: a
// sequence appended token by token across several blocks (in a scrambled
// block table), then for every query position p and key position j <= p the
// key and value the query reads equal:
//   j < sink_tokens                        f16(x)
//   j in p's block, residual window        f16(x)
//   j in p's block, per-channel keys       keys of slots up to p quantized
//                                          per channel (from their f16 values)
//   j in an earlier block, per-channel     the full block quantized per channel
//   otherwise (per token)                  x quantized per token
// and what a query reads does not change when later tokens are appended
// (so a prefill split anywhere reads what one prefill reads).
//
//===----------------------------------------------------------------------===//

#include "KvReference.h"

#include "backends/host/HostAttention.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"
#include "qtc/rt/KvMemory.h"

#include <gtest/gtest.h>

#include <random>

using namespace qtc::rt;
using namespace qtc::rt::host;
using qtc::rt::test::referenceGroup;

namespace {

struct Scheme {
  fb::KvDType dtype;
  bool perChannel = false, keySymmetric = false, valueSymmetric = false;
  int blockSize = 8, window = 0, sinks = 0;
  bool fp8HeadScales = false;
};

std::string schemeName(const Scheme &s) {
  std::string n = fb::EnumNameKvDType(s.dtype);
  if (kvIsInteger(s.dtype))
    n += std::string(s.perChannel ? "KeysPerChannel" : "KeysPerToken") +
         (s.keySymmetric ? "Sym" : "Asym") + (s.valueSymmetric ? "Sym" : "Asym") + "Block" +
         std::to_string(s.blockSize) + "Window" + std::to_string(s.window) + "Sinks" +
         std::to_string(s.sinks);
  if (s.fp8HeadScales)
    n += "HeadScales";
  return n;
}

constexpr int kLayers = 2, kKvHeads = 2, kHeadDim = 16;

class HostKvCacheTest : public ::testing::TestWithParam<Scheme> {
protected:
  void SetUp() override {
    const Scheme &s = GetParam();
    std::vector<float> keyScales, valueScales;
    if (s.fp8HeadScales)
      for (int i = 0; i < kLayers * kKvHeads; ++i) {
        keyScales.push_back(0.01f * (i + 1));
        valueScales.push_back(0.02f * (i + 1));
      }
    builder_.Finish(fb::CreateKvCacheSpecDirect(
        builder_, kLayers, kKvHeads, kHeadDim, s.blockSize, s.dtype,
        s.perChannel ? fb::KvGranularity::PerChannel : fb::KvGranularity::PerToken,
        s.keySymmetric, s.valueSymmetric, s.window, s.sinks,
        keyScales.empty() ? nullptr : &keyScales, valueScales.empty() ? nullptr : &valueScales));
    spec_ = flatbuffers::GetRoot<fb::KvCacheSpec>(builder_.GetBufferPointer());
    shape_ = {4, kKvHeads, kHeadDim, s.blockSize};
    cache_.allocate(kLayers, shape_, kBlocks, *spec_);
  }

  // The value query `p` must read for key (`keys`) or value position `j` of
  // kv head `g`, from the unrounded rows x[position][headDim].
  float expected(const std::vector<std::vector<float>> &x, bool keys, int layer, int g, int j,
                 int p, int c) const {
    const Scheme &s = GetParam();
    if (s.dtype == fb::KvDType::F16)
      return roundToHalf(x[j][c]);
    if (s.dtype == fb::KvDType::F8E4M3) {
      const float scale = s.fp8HeadScales ? (keys ? 0.01f : 0.02f) * (layer * kKvHeads + g + 1)
                                          : 1.0f;
      return roundToE4M3(x[j][c] / scale) * scale;
    }
    const int bits = kvIntegerBits(s.dtype), bs = s.blockSize;
    const int block = j / bs, sinks = block == 0 ? s.sinks : 0;
    if (j < s.sinks)
      return roundToHalf(x[j][c]);
    const bool own = block == p / bs;
    if (own && s.window > 0)
      return roundToHalf(x[j][c]);
    float step = 0;
    if (keys && s.perChannel) {
      const int last = own ? p : block * bs + bs - 1;
      std::vector<float> group;
      for (int i = block * bs + sinks; i <= last; ++i)
        group.push_back(roundToHalf(x[i][c]));
      return referenceGroup(group, bits, s.keySymmetric, &step)[j - block * bs - sinks];
    }
    return referenceGroup(x[j], bits, keys ? s.keySymmetric : s.valueSymmetric, &step)[c];
  }

  float read(bool keys, int layer, int g, int j, int p) {
    const int bs = GetParam().blockSize;
    const int block = table_[j / bs], slot = j % bs;
    const float *row;
    if (j / bs == p / bs)
      row = keys ? cache_.ownBlockKeys(layer, block, g, p, page_.data(), scratch_.data())
                 : cache_.ownBlockValues(layer, block, g);
    else
      row = keys ? cache_.keys(layer, block, g) : cache_.values(layer, block, g);
    return row[slot * kHeadDim];
  }

  static constexpr int kBlocks = 12;
  flatbuffers::FlatBufferBuilder builder_;
  const fb::KvCacheSpec *spec_ = nullptr;
  AttentionShape shape_;
  HostKvCache cache_;
  std::vector<int> table_ = {7, 2, 9, 0, 11, 4};
  std::vector<uint8_t> page_ = std::vector<uint8_t>(4096);
  std::vector<float> scratch_ = std::vector<float>(64 * kHeadDim);
};

TEST_P(HostKvCacheTest, QueriesReadThePlainRuleAtEveryBlockBoundary) {
  const Scheme &s = GetParam();
  const int length = 3 * s.blockSize + 5;
  ASSERT_LE((length + s.blockSize - 1) / s.blockSize, static_cast<int>(table_.size()));
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // [layer][kv head][position][channel]; keys with an outlier channel.
  std::vector<std::vector<std::vector<std::vector<float>>>> k(kLayers), v(kLayers);
  for (int l = 0; l < kLayers; ++l) {
    k[l].assign(kKvHeads, std::vector<std::vector<float>>(length, std::vector<float>(kHeadDim)));
    v[l] = k[l];
    for (int g = 0; g < kKvHeads; ++g)
      for (int j = 0; j < length; ++j)
        for (int c = 0; c < kHeadDim; ++c) {
          k[l][g][j][c] = normal(rng) * (c == 3 ? 6.0f : 1.0f);
          v[l][g][j][c] = normal(rng);
        }
  }
  auto check = [&](int stored) {
    for (int l = 0; l < kLayers; ++l)
      for (int g = 0; g < kKvHeads; ++g)
        for (int p = 0; p < stored; ++p)
          for (int j = 0; j <= p; ++j) {
            // Channel 0 through read(); all channels of the row below.
            const int bs = s.blockSize, block = table_[j / bs], slot = j % bs;
            for (bool keys : {true, false}) {
              const float *row =
                  j / bs == p / bs
                      ? (keys ? cache_.ownBlockKeys(l, block, g, p, page_.data(), scratch_.data())
                              : cache_.ownBlockValues(l, block, g))
                      : (keys ? cache_.keys(l, block, g) : cache_.values(l, block, g));
              for (int c = 0; c < kHeadDim; ++c)
                ASSERT_EQ(row[slot * kHeadDim + c],
                          expected(keys ? k[l][g] : v[l][g], keys, l, g, j, p, c))
                    << (keys ? "key" : "value") << " layer " << l << " head " << g
                    << " position " << j << " read by query " << p << " channel " << c
                    << " with " << stored << " stored";
            }
          }
  };
  for (int pos = 0; pos < length; ++pos) {
    for (int l = 0; l < kLayers; ++l)
      for (int g = 0; g < kKvHeads; ++g)
        cache_.store(l, table_[pos / s.blockSize], g, pos, k[l][g][pos].data(),
                     v[l][g][pos].data());
    // After a block boundary and mid-block: later tokens change nothing.
    if (pos % s.blockSize == 0 || pos % s.blockSize == s.blockSize / 2)
      check(pos + 1);
  }
  check(length);
  EXPECT_EQ(read(true, 0, 0, 0, 0),
            expected(k[0][0], true, 0, 0, 0, 0, 0)); // the helper agrees with the loop

  // A copied block (copy-on-write) reads as the original.
  const int last = table_[(length - 1) / s.blockSize];
  cache_.copyBlock(last, 1);
  for (int l = 0; l < kLayers; ++l)
    for (int g = 0; g < kKvHeads; ++g)
      for (int slot = 0; slot <= (length - 1) % s.blockSize; ++slot)
        for (int c = 0; c < kHeadDim; ++c) {
          const int p = length - 1;
          ASSERT_EQ(cache_.ownBlockKeys(l, 1, g, p, page_.data(), scratch_.data())[slot * kHeadDim + c],
                    cache_.ownBlockKeys(l, last, g, p, page_.data() + 2048,
                                        scratch_.data() + 32 * kHeadDim)[slot * kHeadDim + c]);
          ASSERT_EQ(cache_.ownBlockValues(l, 1, g)[slot * kHeadDim + c],
                    cache_.ownBlockValues(l, last, g)[slot * kHeadDim + c]);
        }
}

// The attention step over the cache (one prefill of the whole sequence, all
// appends before attention, as a step runs them) equals softmax attention
// over the values the rule above says each query reads.
TEST_P(HostKvCacheTest, AttentionReadsWhatTheRuleSays) {
  const Scheme &s = GetParam();
  const int length = 3 * s.blockSize + 5, heads = shape_.numHeads, group = heads / kKvHeads;
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int layer = 1;
  std::vector<std::vector<std::vector<float>>> k(kKvHeads), v(kKvHeads);
  for (int g = 0; g < kKvHeads; ++g) {
    k[g].assign(length, std::vector<float>(kHeadDim));
    v[g] = k[g];
    for (int j = 0; j < length; ++j)
      for (int c = 0; c < kHeadDim; ++c) {
        k[g][j][c] = normal(rng) * (c == 3 ? 6.0f : 1.0f);
        v[g][j][c] = normal(rng);
      }
    for (int j = 0; j < length; ++j)
      cache_.store(layer, table_[j / s.blockSize], g, j, k[g][j].data(), v[g][j].data());
  }
  std::vector<float> qkv(static_cast<size_t>(length) * shape_.qkvWidth());
  for (float &x : qkv)
    x = normal(rng);
  std::vector<int32_t> positions(length), tokenSeq(length, 0), seqLens = {length};
  for (int t = 0; t < length; ++t)
    positions[t] = t;
  BatchView batch;
  batch.numTokens = length;
  batch.numSeqs = 1;
  batch.positions = positions.data();
  batch.tokenSeq = tokenSeq.data();
  batch.seqLens = seqLens.data();
  batch.blockTables = table_.data();
  batch.maxBlocksPerSeq = static_cast<int>(table_.size());
  for (int threads : {1, 2}) {
    std::vector<float> out(static_cast<size_t>(length) * heads * kHeadDim, 0.0f);
    attention(batch, shape_, layer, qkv.data(), cache_, out.data(), threads);
    for (int t = 0; t < length; ++t)
      for (int h = 0; h < heads; ++h) {
        const int g = h / group;
        const float *q = &qkv[static_cast<size_t>(t) * shape_.qkvWidth() + h * kHeadDim];
        std::vector<double> w(t + 1);
        double top = -1e300, total = 0;
        for (int j = 0; j <= t; ++j) {
          double dot = 0;
          for (int c = 0; c < kHeadDim; ++c)
            dot += double(q[c]) * expected(k[g], true, layer, g, j, t, c);
          w[j] = dot / std::sqrt(double(kHeadDim));
          top = std::max(top, w[j]);
        }
        for (double &x : w)
          total += (x = std::exp(x - top));
        for (int c = 0; c < kHeadDim; ++c) {
          double o = 0;
          for (int j = 0; j <= t; ++j)
            o += w[j] * expected(v[g], false, layer, g, j, t, c);
          o /= total;
          ASSERT_NEAR(out[(static_cast<size_t>(t) * heads + h) * kHeadDim + c], o,
                      2e-5 * (1 + std::fabs(o)))
              << "query " << t << " head " << h << " channel " << c << ", " << threads
              << " threads";
        }
      }
  }
}

std::vector<Scheme> allSchemes() {
  std::vector<Scheme> schemes = {{fb::KvDType::F16}, {fb::KvDType::F8E4M3}};
  Scheme headScales{fb::KvDType::F8E4M3};
  headScales.fp8HeadScales = true;
  schemes.push_back(headScales);
  for (fb::KvDType dtype : {fb::KvDType::Int8, fb::KvDType::Int4, fb::KvDType::Int2})
    for (bool perChannel : {false, true})
      for (int window : {0, 8})
        for (int sinks : {0, 3}) {
          Scheme s{dtype, perChannel};
          s.window = window;
          s.sinks = sinks;
          s.keySymmetric = dtype == fb::KvDType::Int8 && !perChannel;
          s.valueSymmetric = dtype == fb::KvDType::Int8;
          schemes.push_back(s);
        }
  Scheme wide{fb::KvDType::Int4, true};
  wide.blockSize = 16;
  wide.window = 16;
  schemes.push_back(wide);
  return schemes;
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, HostKvCacheTest, ::testing::ValuesIn(allSchemes()),
                         [](const ::testing::TestParamInfo<Scheme> &info) {
                           return schemeName(info.param);
                         });

} // namespace
