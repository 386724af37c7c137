//===- KvPageTest.cpp - The integer KV page against a plain reference -----===//
//
// Every width (8, 4, 2), zero points or none, per-channel or per-token
// scales, partly filled blocks and sink slots: the page's codes, scales and
// zeros decode to what a plain quantize-dequantize of the same values gives,
// every byte stays inside its region, and the error stays within half a step.
//
//===----------------------------------------------------------------------===//

#include "KvReference.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/KvPage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace qtc::rt;
using qtc::rt::test::referenceGroup;

namespace {

struct Case {
  int bits;
  bool perChannel, symmetric;
  int sinks;
};

std::string caseName(const Case &c) {
  return "int" + std::to_string(c.bits) + (c.perChannel ? " per-channel" : " per-token") +
         (c.symmetric ? " symmetric" : " asymmetric") + " sinks " + std::to_string(c.sinks);
}

class KvPageTest : public ::testing::TestWithParam<Case> {};

TEST_P(KvPageTest, DecodesToThePlainReferenceInEveryFill) {
  const Case c = GetParam();
  const int blockSize = 16, headDim = 24;
  const KvPageLayout l =
      KvPageLayout::make(blockSize, headDim, c.bits, c.perChannel, c.symmetric, c.sinks);
  // Regions in order, 16-byte aligned, inside the page.
  EXPECT_EQ(l.scalesOffset % 16, 0u);
  EXPECT_EQ(l.zerosOffset % 16, 0u);
  EXPECT_EQ(l.sinkOffset % 16, 0u);
  EXPECT_GE(l.scalesOffset, l.codesBytes());
  EXPECT_LE(l.sinkOffset + size_t(c.sinks) * headDim * 2, l.pageBytes);
  EXPECT_EQ(l.codesBytes(), size_t(blockSize) * headDim * c.bits / 8);

  std::mt19937 rng(c.bits * 7 + c.perChannel * 3 + c.symmetric + c.sinks);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int filled = 1; filled <= blockSize; ++filled) {
    SCOPED_TRACE(caseName(c) + ", " + std::to_string(filled) + " slots filled");
    // An outlier channel, as keys have.
    std::vector<float> x(size_t(blockSize) * headDim);
    for (int s = 0; s < blockSize; ++s)
      for (int ch = 0; ch < headDim; ++ch)
        x[s * headDim + ch] = normal(rng) * (ch == 5 ? 8.0f : 1.0f) + (ch == 7 ? 3.0f : 0.0f);
    // Guard bytes around the page catch writes outside it.
    std::vector<uint8_t> buffer(l.pageBytes + 64, 0xA5);
    uint8_t *page = buffer.data() + 32;
    std::fill(page, page + l.pageBytes, 0);
    const int sinks = std::min(c.sinks, filled);
    for (int s = 0; s < sinks; ++s)
      kvPageStoreSink(page, l, s, &x[s * headDim]);
    if (c.perChannel) {
      kvPageEncodeChannels(page, l, x.data(), sinks, filled);
    } else {
      for (int s = sinks; s < filled; ++s)
        kvPageEncodeToken(page, l, s, &x[s * headDim]);
    }
    for (int i = 0; i < 32; ++i) {
      ASSERT_EQ(buffer[i], 0xA5);
      ASSERT_EQ(buffer[32 + l.pageBytes + i], 0xA5);
    }
    std::vector<float> decoded(size_t(filled) * headDim);
    kvPageDecodeSlots(page, l, 0, filled, sinks, decoded.data());

    // The reference, group by group.
    std::vector<float> expected(decoded.size()), step(decoded.size());
    for (int s = 0; s < sinks; ++s)
      for (int ch = 0; ch < headDim; ++ch)
        expected[s * headDim + ch] = roundToHalf(x[s * headDim + ch]);
    if (filled > sinks) {
      if (c.perChannel) {
        for (int ch = 0; ch < headDim; ++ch) {
          std::vector<float> g;
          for (int s = sinks; s < filled; ++s)
            g.push_back(x[s * headDim + ch]);
          float st = 0;
          std::vector<float> r = referenceGroup(g, c.bits, c.symmetric, &st);
          for (int s = sinks; s < filled; ++s) {
            expected[s * headDim + ch] = r[s - sinks];
            step[s * headDim + ch] = st;
          }
        }
      } else {
        for (int s = sinks; s < filled; ++s) {
          std::vector<float> g(&x[s * headDim], &x[s * headDim] + headDim);
          float st = 0;
          std::vector<float> r = referenceGroup(g, c.bits, c.symmetric, &st);
          for (int ch = 0; ch < headDim; ++ch) {
            expected[s * headDim + ch] = r[ch];
            step[s * headDim + ch] = st;
          }
        }
      }
    }
    for (size_t i = 0; i < decoded.size(); ++i) {
      ASSERT_EQ(decoded[i], expected[i]) << "slot " << i / headDim << " channel " << i % headDim;
      const float x0 = x[i];
      if (int(i / headDim) < sinks)
        EXPECT_LE(std::fabs(decoded[i] - x0), std::fabs(x0) * 1e-3f);
      else if (!c.symmetric || c.bits > 2)
        // Within half a step (and the f16 rounding of scale and zero).
        EXPECT_LE(std::fabs(decoded[i] - x0), 0.5f * step[i] * 1.01f + 1e-2f * std::fabs(x0) + 1e-6f)
            << "slot " << i / headDim << " channel " << i % headDim;
    }
  }
}

// A constant group has a zero scale: it decodes to the constant (asymmetric)
// or to 0 (symmetric, all zeros).
TEST(KvPage, ConstantGroupsDecodeExactly) {
  for (int bits : {8, 4, 2}) {
    KvPageLayout l = KvPageLayout::make(4, 8, bits, false, false, 0);
    std::vector<uint8_t> page(l.pageBytes, 0);
    std::vector<float> x(8, 0.375f), out(8);
    kvPageEncodeToken(page.data(), l, 2, x.data());
    kvPageDecodeSlots(page.data(), l, 2, 3, 0, out.data());
    for (float v : out)
      EXPECT_EQ(v, 0.375f) << bits;
    KvPageLayout sym = KvPageLayout::make(4, 8, bits, false, true, 0);
    std::vector<uint8_t> symPage(sym.pageBytes, 0);
    std::vector<float> zeros(8, 0.0f);
    kvPageEncodeToken(symPage.data(), sym, 1, zeros.data());
    kvPageDecodeSlots(symPage.data(), sym, 1, 2, 0, out.data());
    for (float v : out)
      EXPECT_EQ(v, 0.0f) << bits;
  }
}

// Writing one slot leaves every other slot's codes as they were: codes of
// neighbouring slots share bytes at 4 and 2 bits.
TEST(KvPage, TokenWritesLeaveOtherSlotsAlone) {
  for (int bits : {4, 2}) {
    KvPageLayout l = KvPageLayout::make(8, 6, bits, false, false, 0);
    std::vector<uint8_t> page(l.pageBytes, 0);
    std::mt19937 rng(bits);
    std::uniform_real_distribution<float> u(-2, 2);
    std::vector<std::vector<float>> rows(8, std::vector<float>(6));
    std::vector<std::vector<float>> before(8, std::vector<float>(6));
    for (int s = 0; s < 8; ++s) {
      for (float &v : rows[s])
        v = u(rng);
      kvPageEncodeToken(page.data(), l, s, rows[s].data());
      for (int t = 0; t < s; ++t) {
        std::vector<float> now(6);
        kvPageDecodeSlots(page.data(), l, t, t + 1, 0, now.data());
        EXPECT_EQ(now, before[t]) << "bits " << bits << " slot " << t << " after " << s;
      }
      kvPageDecodeSlots(page.data(), l, s, s + 1, 0, before[s].data());
    }
  }
}

std::vector<Case> allCases() {
  std::vector<Case> cases;
  for (int bits : {8, 4, 2})
    for (bool perChannel : {false, true})
      for (bool symmetric : {false, true})
        for (int sinks : {0, 3})
          cases.push_back({bits, perChannel, symmetric, sinks});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, KvPageTest, ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           const Case &c = info.param;
                           return "Int" + std::to_string(c.bits) +
                                  (c.perChannel ? "PerChannel" : "PerToken") +
                                  (c.symmetric ? "Sym" : "Asym") + "Sinks" +
                                  std::to_string(c.sinks);
                         });

} // namespace
