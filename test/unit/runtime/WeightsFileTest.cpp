//===- WeightsFileTest.cpp - Weights outside the artifact -----------------===//
//
// Artifact.weights_file and Artifact.dummy_weights (runtime/schema/artifact.fbs):
// the schema's rules for them, and the loader's checks of the weights file
// it maps (present, of the recorded size and checksum).
//
//===----------------------------------------------------------------------===//

#include "LlamaArtifact.h"
#include "TestArtifactBuilder.h"

#include "qtc/rt/Artifact.h"
#include "qtc/rt/WeightsChecksum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

TestArtifactBuilder tinyLlama() {
  TestArtifactBuilder builder;
  LlamaShape shape;
  LlamaArtifactOptions options;
  options.linears = LinearFormat::kInt4Asymmetric;
  addLlama(builder, shape, randomLlamaWeights(shape, 3), options);
  return builder;
}

// Names `path` as the builder's weights file, of its weights' size and
// checksum.
void setWeightsFile(TestArtifactBuilder &builder, const std::string &path) {
  auto file = std::make_unique<fb::WeightsFileT>();
  file->path = path;
  file->size = builder.weights().size();
  file->checksum = weightsChecksum(builder.weights().data(), builder.weights().size());
  builder.artifact().weights_file = std::move(file);
}

bool writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

// A folder of its own per test, under the test temp dir.
std::string testDir(const std::string &name) {
  std::string dir = ::testing::TempDir() + "weights_file_" + name + "/";
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

Status statusOf(const StatusOr<std::unique_ptr<Artifact>> &artifact) {
  return artifact ? Status::ok() : artifact.status();
}

} // namespace

TEST(WeightsFile, MapsTheFileBesideTheArtifact) {
  TestArtifactBuilder builder = tinyLlama();
  setWeightsFile(builder, "tiny.weights");
  std::string dir = testDir("maps");
  ASSERT_TRUE(writeFile(dir + "tiny.qtc", builder.buildWithoutWeights()));
  ASSERT_TRUE(writeFile(dir + "tiny.weights", builder.weights()));

  auto artifact = Artifact::open(dir + "tiny.qtc");
  ASSERT_TRUE(artifact) << artifact.status().toString();
  const Artifact &a = **artifact;
  EXPECT_EQ(a.weightsFilePath(), dir + "tiny.weights");
  EXPECT_FALSE(a.dummyWeights());
  EXPECT_EQ(a.fileSize(), builder.buildWithoutWeights().size());
  for (int i = 0; i < a.numTensors(); ++i) {
    ASSERT_EQ(reinterpret_cast<uintptr_t>(a.tensorData(i)) % kWeightsAlignment, 0u);
    std::vector<uint8_t> scratch;
    EXPECT_EQ(a.tensorBytes(i, scratch), a.tensorData(i)); // a view, no copy
    EXPECT_TRUE(scratch.empty());
    EXPECT_EQ(std::memcmp(a.tensorData(i), builder.weights().data() + a.tensor(i).offset(),
                          a.tensor(i).size()),
              0)
        << a.tensor(i).name()->str();
  }
}

TEST(WeightsFile, PathIsRelativeToTheArtifactsFolder) {
  TestArtifactBuilder builder = tinyLlama();
  setWeightsFile(builder, "../weights/tiny.weights");
  std::string dir = testDir("relative");
  ::mkdir((dir + "artifacts").c_str(), 0755);
  ::mkdir((dir + "weights").c_str(), 0755);
  ASSERT_TRUE(writeFile(dir + "artifacts/tiny.qtc", builder.buildWithoutWeights()));
  ASSERT_TRUE(writeFile(dir + "weights/tiny.weights", builder.weights()));
  auto artifact = Artifact::open(dir + "artifacts/tiny.qtc");
  ASSERT_TRUE(artifact) << artifact.status().toString();
  EXPECT_EQ((*artifact)->weightsFilePath(), dir + "artifacts/../weights/tiny.weights");
}

TEST(WeightsFile, RefusesAMissingFileNamingIt) {
  TestArtifactBuilder builder = tinyLlama();
  setWeightsFile(builder, "absent.weights");
  std::string dir = testDir("missing");
  ASSERT_TRUE(writeFile(dir + "tiny.qtc", builder.buildWithoutWeights()));
  std::remove((dir + "absent.weights").c_str());
  Status s = statusOf(Artifact::open(dir + "tiny.qtc"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("weights file: cannot open '" + dir + "absent.weights'"));
  EXPECT_THAT(s.message(), HasSubstr(dir + "tiny.qtc"));

  // Dummy weights never open it.
  LoadOptions dummy;
  dummy.format = LoadFormat::kDummy;
  auto artifact = Artifact::open(dir + "tiny.qtc", dummy);
  ASSERT_TRUE(artifact) << artifact.status().toString();
  EXPECT_TRUE((*artifact)->dummyWeights());
  EXPECT_TRUE((*artifact)->weightsFilePath().empty());
}

TEST(WeightsFile, RefusesATruncatedFileWithBothSizes) {
  TestArtifactBuilder builder = tinyLlama();
  setWeightsFile(builder, "tiny.weights");
  std::string dir = testDir("truncated");
  ASSERT_TRUE(writeFile(dir + "tiny.qtc", builder.buildWithoutWeights()));
  std::vector<uint8_t> shorter(builder.weights().begin(), builder.weights().end() - 100);
  ASSERT_TRUE(writeFile(dir + "tiny.weights", shorter));
  Status s = statusOf(Artifact::open(dir + "tiny.qtc"));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("weights file '" + dir + "tiny.weights' is " +
                                     std::to_string(shorter.size()) +
                                     " bytes, but the artifact expects " +
                                     std::to_string(builder.weights().size()) + " (truncated)"));
}

TEST(WeightsFile, RefusesACorruptedFileWithBothChecksums) {
  TestArtifactBuilder builder = tinyLlama();
  setWeightsFile(builder, "tiny.weights");
  std::string dir = testDir("corrupted");
  ASSERT_TRUE(writeFile(dir + "tiny.qtc", builder.buildWithoutWeights()));
  std::vector<uint8_t> flipped = builder.weights();
  flipped[flipped.size() / 2] ^= 0x40;
  ASSERT_TRUE(writeFile(dir + "tiny.weights", flipped));
  Status s = statusOf(Artifact::open(dir + "tiny.qtc"));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("weights file '" + dir + "tiny.weights' has XXH3-64 "
                                     "checksum 0x"));
  char expected[19];
  std::snprintf(expected, sizeof(expected), "0x%016llx",
                static_cast<unsigned long long>(builder.artifact().weights_file->checksum));
  EXPECT_THAT(s.message(), HasSubstr(std::string("but the artifact expects ") + expected));
}

TEST(WeightsFile, ChecksumIsIncrementalXxh3) {
  // The writer hashes the section piece by piece, the loader all at once.
  std::vector<uint8_t> bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(i * 7);
  WeightsChecksum pieces;
  pieces.update(bytes.data(), 300);
  pieces.update(bytes.data() + 300, 700);
  EXPECT_EQ(pieces.digest(), weightsChecksum(bytes.data(), bytes.size()));
  EXPECT_NE(weightsChecksum(bytes.data(), 999), weightsChecksum(bytes.data(), 1000));
  // XXH3-64 of nothing, seed 0 (xxHash's test vector).
  EXPECT_EQ(weightsChecksum(nullptr, 0), 0x2D06800538D394C2ull);
}

TEST(WeightsFile, FromBytesNeedsTheArtifactsFolder) {
  TestArtifactBuilder builder = tinyLlama();
  setWeightsFile(builder, "tiny.weights");
  Status s = statusOf(Artifact::fromBytes(builder.buildWithoutWeights(), "mem.qtc"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("its weights are in the file 'tiny.weights'"));
}

TEST(WeightsFile, SchemaRules) {
  auto refused = [](TestArtifactBuilder &builder, const std::string &message) {
    Status s = statusOf(Artifact::fromBytes(builder.buildWithoutWeights(), "bad.qtc"));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
    EXPECT_THAT(s.message(), HasSubstr(message));
  };
  {
    TestArtifactBuilder b = tinyLlama();
    setWeightsFile(b, "");
    refused(b, "weights_file: the path is empty");
  }
  {
    TestArtifactBuilder b = tinyLlama();
    setWeightsFile(b, "/abs/tiny.weights");
    refused(b, "weights_file: path '/abs/tiny.weights' is absolute");
  }
  {
    TestArtifactBuilder b = tinyLlama();
    setWeightsFile(b, std::string("a\0b", 3));
    refused(b, "weights_file: the path holds a NUL byte");
  }
  {
    TestArtifactBuilder b = tinyLlama();
    setWeightsFile(b, "tiny.weights");
    b.artifact().weights_file->size += 256;
    refused(b, "weights_file: size is " + std::to_string(b.weights().size() + 256) +
                   " bytes, but weights_size is " + std::to_string(b.weights().size()));
  }
  {
    TestArtifactBuilder b = tinyLlama();
    setWeightsFile(b, "tiny.weights");
    b.artifact().dummy_weights = true;
    refused(b, "weights_file: an artifact with dummy_weights has no weights file");
  }
}

TEST(WeightsFile, NoWeightsSectionBesideAWeightsFile) {
  TestArtifactBuilder builder = tinyLlama();
  setWeightsFile(builder, "tiny.weights");
  std::vector<uint8_t> bytes = builder.build(); // table + padding + section
  Status s = statusOf(Artifact::fromBytes(bytes, "bad.qtc"));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("unexpected bytes after the FlatBuffer"));
  EXPECT_THAT(s.message(), HasSubstr("in a weights file has no weights section"));
}

TEST(DummyWeightsArtifact, OpensOnlyWithDummyWeights) {
  TestArtifactBuilder builder = tinyLlama();
  builder.artifact().dummy_weights = true;
  std::vector<uint8_t> bytes = builder.buildWithoutWeights();
  EXPECT_LT(bytes.size(), builder.weights().size()); // the table is small beside them

  Status s = statusOf(Artifact::fromBytes(bytes, "dummy.qtc"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("dummy.qtc: holds no weights (compiled with "
                                     "--dummy-weights): run it with generated weights, "
                                     "qtc-run --load-format dummy"));

  LoadOptions dummy;
  dummy.format = LoadFormat::kDummy;
  auto artifact = Artifact::fromBytes(bytes, "dummy.qtc", dummy);
  ASSERT_TRUE(artifact) << artifact.status().toString();
  EXPECT_TRUE((*artifact)->dummyWeights());
  EXPECT_EQ((*artifact)->weights(), nullptr);
  EXPECT_EQ((*artifact)->tensorData(0), nullptr);
  EXPECT_EQ((*artifact)->weightsSize(), builder.weights().size());

  // Bytes after the table are refused: a dummy artifact has no section.
  std::vector<uint8_t> padded = builder.build();
  Status extra = statusOf(Artifact::fromBytes(padded, "dummy.qtc", dummy));
  EXPECT_EQ(extra.code(), StatusCode::kDataLoss);
  EXPECT_THAT(extra.message(), HasSubstr("an artifact whose weights are dummy has no weights "
                                         "section"));
}

TEST(LoadFormat, ParsesItsNames) {
  EXPECT_EQ(*parseLoadFormat("auto"), LoadFormat::kAuto);
  EXPECT_EQ(*parseLoadFormat("dummy"), LoadFormat::kDummy);
  EXPECT_STREQ(loadFormatName(LoadFormat::kDummy), "dummy");
  auto bad = parseLoadFormat("random");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown load format 'random'"));
}
