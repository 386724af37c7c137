//===- SafetensorsTest.cpp - Header validation of safetensors files -------===//

#include "qtc/Import/Safetensors.h"
#include "CapturedDiagnostics.h"
#include "ScratchDirectory.h"

#include "llvm/Support/Endian.h"

#include <gtest/gtest.h>

using namespace qtc;
using namespace qtc::test;

namespace {

// An 8-byte length (`declaredLength`, default the header's), the header
// text, then `dataBytes` zero bytes.
std::string fileWith(llvm::StringRef header, size_t dataBytes,
                     std::optional<uint64_t> declaredLength = std::nullopt) {
  std::string file(8, '\0');
  llvm::support::endian::write64le(file.data(),
                                   declaredLength.value_or(header.size()));
  file += header.str();
  file.append(dataBytes, '\0');
  return file;
}

class SafetensorsHeaderTest : public ::testing::Test {
protected:
  mlir::FailureOr<SafetensorsHeader> parse(llvm::StringRef bytes) {
    return parseSafetensorsHeader(context, "weights.safetensors", bytes);
  }

  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics{context};
};

TEST_F(SafetensorsHeaderTest, AcceptsAValidHeader) {
  std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("b":{"dtype":"F16","shape":[4],"data_offsets":[16,24]},)"
      R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  auto parsed = parse(fileWith(header, 24));
  ASSERT_TRUE(mlir::succeeded(parsed)) << diagnostics.text();
  ASSERT_EQ(parsed->tensors.size(), 2u);
  // Sorted by offset, offsets made absolute.
  EXPECT_EQ(parsed->tensors[0].name, "a");
  EXPECT_EQ(parsed->tensors[0].dtype, DType::F32);
  EXPECT_EQ(parsed->tensors[0].begin, 8 + header.size());
  EXPECT_EQ(parsed->tensors[1].name, "b");
  EXPECT_EQ(parsed->tensors[1].end, 8 + header.size() + 24);
  EXPECT_TRUE(diagnostics.text().empty());
}

TEST_F(SafetensorsHeaderTest, RejectsSizesThatDisagreeWithTheShape) {
  auto parsed = parse(fileWith(
      R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 16));
  EXPECT_TRUE(mlir::failed(parsed));
  EXPECT_TRUE(diagnostics.contains("weights.safetensors"))
      << diagnostics.text();
  EXPECT_TRUE(diagnostics.contains(
      "tensor 'a': data_offsets [0, 12] span 12 bytes but f32 shape [2, 2] "
      "needs 16"))
      << diagnostics.text();
}

TEST_F(SafetensorsHeaderTest, RejectsOffsetsPastTheData) {
  auto parsed = parse(fileWith(
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8));
  EXPECT_TRUE(mlir::failed(parsed));
  EXPECT_TRUE(diagnostics.contains("tensor 'a': data_offsets [0, 16] run past "
                                   "the end of the data section (8 bytes)"))
      << diagnostics.text();
}

TEST_F(SafetensorsHeaderTest, RejectsOverlappingTensors) {
  auto parsed = parse(
      fileWith(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
               R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
               24));
  EXPECT_TRUE(mlir::failed(parsed));
  EXPECT_TRUE(diagnostics.contains("tensors 'a' data_offsets [0, 16] and 'b' "
                                   "data_offsets [8, 24] overlap"))
      << diagnostics.text();
}

TEST_F(SafetensorsHeaderTest, RejectsBadJson) {
  auto parsed = parse(fileWith(R"({"a": {"dtype": "F32",)", 0));
  EXPECT_TRUE(mlir::failed(parsed));
  EXPECT_TRUE(diagnostics.contains("header is not valid JSON"))
      << diagnostics.text();
}

TEST_F(SafetensorsHeaderTest, RejectsAHeaderLengthPastTheEndOfTheFile) {
  auto parsed = parse(fileWith("{}", 0, /*declaredLength=*/1000));
  EXPECT_TRUE(mlir::failed(parsed));
  EXPECT_TRUE(diagnostics.contains(
      "header length 1000 runs past the end of the file (10 bytes)"))
      << diagnostics.text();
}

TEST_F(SafetensorsHeaderTest, RejectsAFileShorterThanTheLengthField) {
  EXPECT_TRUE(mlir::failed(parse("abc")));
  EXPECT_TRUE(diagnostics.contains("file is 3 bytes")) << diagnostics.text();
}

TEST_F(SafetensorsHeaderTest, RejectsUnknownDtypes) {
  auto parsed = parse(
      fileWith(R"({"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}})", 1));
  EXPECT_TRUE(mlir::failed(parsed));
  EXPECT_TRUE(diagnostics.contains("tensor 'a': unknown dtype 'F7'"))
      << diagnostics.text();
}

TEST_F(SafetensorsHeaderTest, RejectsNegativeAndMissingFields) {
  EXPECT_TRUE(mlir::failed(parse(fileWith(
      R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4))));
  EXPECT_TRUE(diagnostics.contains("shape entries must be non-negative"))
      << diagnostics.text();
  EXPECT_TRUE(
      mlir::failed(parse(fileWith(R"({"a":{"dtype":"F32","shape":[1]}})", 4))));
  EXPECT_TRUE(diagnostics.contains("'data_offsets' must be two"))
      << diagnostics.text();
}

TEST(SafetensorsFileTest, RegistersMappedTensorsInTheStore) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  ScratchDirectory dir;
  std::string file = fileWith(
      R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}})", 12);
  for (int i = 0; i < 12; ++i)
    file[file.size() - 12 + i] = static_cast<char>(i);
  std::string path = dir.write("model.safetensors", file);

  WeightStore store;
  auto names = addSafetensorsFile(context, path, store);
  ASSERT_TRUE(mlir::succeeded(names)) << diagnostics.text();
  ASSERT_EQ(*names, std::vector<std::string>{"w"});
  std::optional<WeightRef> weight = store.lookup("w");
  ASSERT_TRUE(weight.has_value());
  EXPECT_EQ(weight->dtype, DType::BF16);
  EXPECT_EQ(weight->shape, (llvm::SmallVector<int64_t, 4>{2, 3}));
  ASSERT_EQ(weight->byteSize, 12u);
  EXPECT_EQ(static_cast<const char *>(weight->data)[11], 11);
}

TEST(SafetensorsFileTest, NamesTheFileItCannotOpen) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  WeightStore store;
  EXPECT_TRUE(mlir::failed(
      addSafetensorsFile(context, "/nonexistent/x.safetensors", store)));
  EXPECT_TRUE(diagnostics.contains("/nonexistent/x.safetensors"))
      << diagnostics.text();
  EXPECT_TRUE(diagnostics.contains("cannot open")) << diagnostics.text();
}

} // namespace
