//===- BatchValidationTest.cpp - validateBatch names what is wrong --------===//

#include "qtc/rt/BatchValidation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <vector>

using namespace qtc::rt;
using ::testing::HasSubstr;

namespace {

// Two sequences (lengths 5 and 2, blocks of 4) and three new tokens: the
// last two of sequence 0 and the last of sequence 1.
struct GoodBatch {
  std::vector<int32_t> ids = {7, 8, 9};
  std::vector<int32_t> positions = {3, 4, 1};
  std::vector<int32_t> tokenSeq = {0, 0, 1};
  std::vector<int32_t> seqLens = {5, 2};
  std::vector<int32_t> blockTables = {3, 6, 0, -1}; // 2 blocks per sequence
  std::vector<int32_t> logitRows = {1, 2};
  BatchLimits limits;

  GoodBatch() {
    limits.maxTokens = 8;
    limits.numKvBlocks = 10;
    limits.blockSize = 4;
    limits.vocabSize = 16;
    limits.maxPositions = 32;
  }

  BatchView view() const {
    BatchView b;
    b.numTokens = static_cast<int>(ids.size());
    b.numSeqs = static_cast<int>(seqLens.size());
    b.tokenIds = ids.data();
    b.positions = positions.data();
    b.tokenSeq = tokenSeq.data();
    b.seqLens = seqLens.data();
    b.blockTables = blockTables.data();
    b.maxBlocksPerSeq = 2;
    b.logitRows = logitRows.data();
    b.numLogitRows = static_cast<int>(logitRows.size());
    return b;
  }
};

// The message of validateBatch on a GoodBatch after `edit` changed its view.
std::string rejection(const std::function<void(GoodBatch &, BatchView &)> &edit) {
  GoodBatch good;
  BatchView view = good.view();
  edit(good, view);
  Status status = validateBatch(view, good.limits);
  EXPECT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  return status.message();
}

} // namespace

TEST(BatchValidation, AcceptsAWellFormedBatch) {
  GoodBatch good;
  Status status = validateBatch(good.view(), good.limits);
  EXPECT_TRUE(status.isOk()) << status.toString();
  // No logit rows need no logitRows array.
  BatchView view = good.view();
  view.numLogitRows = 0;
  view.logitRows = nullptr;
  EXPECT_TRUE(validateBatch(view, good.limits).isOk());
}

TEST(BatchValidation, RejectsTokenCountsOutsideTheBackendsRange) {
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.numTokens = 0; }),
              HasSubstr("batch has 0 tokens; the backend takes 1 to 8"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.numTokens = 9; }),
              HasSubstr("batch has 9 tokens; the backend takes 1 to 8"));
}

TEST(BatchValidation, RejectsNoSequencesOrNoBlocks) {
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.numSeqs = 0; }),
              HasSubstr("at least one sequence and one block per sequence (has 0 sequences"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.maxBlocksPerSeq = 0; }),
              HasSubstr("0 blocks per sequence"));
}

TEST(BatchValidation, RejectsLogitRowCountsOutOfRange) {
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.numLogitRows = -1; }),
              HasSubstr("batch asks for -1 logit rows; at most 8"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.numLogitRows = 9; }),
              HasSubstr("batch asks for 9 logit rows; at most 8"));
}

TEST(BatchValidation, NamesTheMissingArray) {
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.tokenIds = nullptr; }),
              HasSubstr("batch is missing its tokenIds array"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.positions = nullptr; }),
              HasSubstr("batch is missing its positions array"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.tokenSeq = nullptr; }),
              HasSubstr("batch is missing its tokenSeq array"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.seqLens = nullptr; }),
              HasSubstr("batch is missing its seqLens array"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.blockTables = nullptr; }),
              HasSubstr("batch is missing its blockTables array"));
  EXPECT_THAT(rejection([](GoodBatch &, BatchView &v) { v.logitRows = nullptr; }),
              HasSubstr("batch is missing its logitRows array"));
}

TEST(BatchValidation, RejectsBadLimits) {
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.limits.blockSize = 0; }),
              HasSubstr("KV block size of 0"));
}

TEST(BatchValidation, RejectsSequenceLengthsOutsideTheirTablesOrTheModel) {
  // Two blocks of 4 hold 8 positions.
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.seqLens[1] = 9; }),
              HasSubstr("sequence 1 has length 9; its block table holds 8 positions and the "
                        "model 32"));
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.seqLens[0] = 0; }),
              HasSubstr("sequence 0 has length 0"));
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.limits.maxPositions = 4; }),
              HasSubstr("sequence 0 has length 5; its block table holds 8 positions and the "
                        "model 4"));
}

TEST(BatchValidation, RejectsBlockTableEntriesOutsideThePool) {
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.blockTables[1] = 10; }),
              HasSubstr("sequence 0 maps its block 1 to physical block 10 of 10"));
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.blockTables[2] = -1; }),
              HasSubstr("sequence 1 maps its block 0 to physical block -1 of 10"));
}

TEST(BatchValidation, OnlyChecksTheBlocksASequenceUses) {
  // Sequence 1 (length 2) uses one block; its second entry is never read.
  GoodBatch good;
  good.blockTables[3] = 999;
  EXPECT_TRUE(validateBatch(good.view(), good.limits).isOk());
}

TEST(BatchValidation, RejectsTokenIdsOutsideTheVocabulary) {
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.ids[2] = 16; }),
              HasSubstr("token 2 has id 16 outside the vocabulary of 16"));
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.ids[0] = -3; }),
              HasSubstr("token 0 has id -3 outside the vocabulary of 16"));
}

TEST(BatchValidation, RejectsTokensOfSequencesOutsideTheBatch) {
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.tokenSeq[1] = 2; }),
              HasSubstr("token 1 belongs to sequence 2 of 2"));
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.tokenSeq[0] = -1; }),
              HasSubstr("token 0 belongs to sequence -1 of 2"));
}

TEST(BatchValidation, RejectsPositionsOutsideTheirSequence) {
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.positions[2] = 2; }),
              HasSubstr("token 2 is at position 2, outside its sequence's length 2"));
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.positions[0] = -1; }),
              HasSubstr("token 0 is at position -1, outside its sequence's length 5"));
}

TEST(BatchValidation, RejectsLogitRowsOutsideTheBatch) {
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.logitRows[1] = 3; }),
              HasSubstr("logit row 1 names token 3 of 3"));
  EXPECT_THAT(rejection([](GoodBatch &g, BatchView &) { g.logitRows[0] = -1; }),
              HasSubstr("logit row 0 names token -1 of 3"));
}
