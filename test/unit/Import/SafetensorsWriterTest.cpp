//===- SafetensorsWriterTest.cpp - Files the reader takes back byte for byte ===//

#include "qtc/Import/SafetensorsWriter.h"
#include "qtc/Import/Safetensors.h"
#include "CapturedDiagnostics.h"
#include "ScratchDirectory.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace qtc;
using namespace qtc::test;

namespace {

std::vector<uint8_t> pattern(size_t size, uint8_t start) {
  std::vector<uint8_t> bytes(size);
  std::iota(bytes.begin(), bytes.end(), start);
  return bytes;
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

class SafetensorsWriterTest : public ::testing::Test {
protected:
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics{context};
  ScratchDirectory scratch;
};

TEST_F(SafetensorsWriterTest, ReaderGetsBackEveryByteInPieces) {
  // Sizes 12, 20, 14, 0 and 3 bytes: the header's padding, not the tensors,
  // aligns the data section.
  std::vector<SafetensorsTensorSpec> specs = {
      {"model.a", DType::F16, {2, 3}},
      {"model.b", DType::F32, {5}},
      {"model.c", DType::BF16, {1, 1, 7}},
      {"model.empty", DType::F16, {0, 4}},
      {"model.d", DType::U8, {3}},
  };
  std::vector<std::vector<uint8_t>> data = {
      pattern(12, 1), pattern(20, 40), pattern(14, 90), {}, pattern(3, 200)};
  std::string path = scratch.file("w.safetensors");
  const std::pair<std::string, std::string> metadata[] = {{"format", "pt"}};
  auto writer = SafetensorsWriter::create(path, specs, metadata);
  ASSERT_TRUE(bool(writer)) << llvm::toString(writer.takeError());
  // Pieces that straddle tensor boundaries.
  std::vector<uint8_t> all;
  for (const std::vector<uint8_t> &tensor : data)
    all.insert(all.end(), tensor.begin(), tensor.end());
  for (size_t offset = 0; offset < all.size(); offset += 5) {
    size_t size = std::min<size_t>(5, all.size() - offset);
    ASSERT_FALSE(bool(writer->write({all.data() + offset, size})));
  }
  EXPECT_EQ(writer->remaining(), 0u);
  ASSERT_FALSE(bool(writer->finish()));

  std::string file = readFile(path);
  ASSERT_EQ(file.size(), writer->fileSize());
  uint64_t headerSize = llvm::support::endian::read64le(file.data());
  EXPECT_EQ(headerSize % 8, 0u);
  llvm::StringRef header(file.data() + 8, headerSize);
  EXPECT_TRUE(header.starts_with(R"({"__metadata__":{"format":"pt"},)"))
      << header.str();
  EXPECT_EQ(header.rtrim(' ').back(), '}');
  EXPECT_EQ(file.substr(8 + headerSize), std::string(all.begin(), all.end()));

  auto parsed = parseSafetensorsHeader(context, path, file);
  ASSERT_TRUE(mlir::succeeded(parsed)) << diagnostics.text();
  EXPECT_EQ(parsed->dataStart % 8, 0u);
  ASSERT_EQ(parsed->tensors.size(), specs.size());
  WeightStore store;
  auto names = addSafetensorsFile(context, path, store);
  ASSERT_TRUE(mlir::succeeded(names)) << diagnostics.text();
  for (size_t i = 0; i < specs.size(); ++i) {
    std::optional<WeightRef> ref = store.lookup(specs[i].name);
    ASSERT_TRUE(ref.has_value()) << specs[i].name;
    EXPECT_EQ(ref->dtype, specs[i].dtype) << specs[i].name;
    EXPECT_EQ(llvm::ArrayRef<int64_t>(ref->shape),
              llvm::ArrayRef<int64_t>(specs[i].shape))
        << specs[i].name;
    ASSERT_EQ(ref->byteSize, data[i].size()) << specs[i].name;
    EXPECT_EQ(0, std::memcmp(ref->data, data[i].data(), data[i].size()))
        << specs[i].name;
  }
}

TEST_F(SafetensorsWriterTest, FileWithoutTensorsIsAValidEmptyHeader) {
  std::string path = scratch.file("empty.safetensors");
  auto writer = SafetensorsWriter::create(path, {});
  ASSERT_TRUE(bool(writer)) << llvm::toString(writer.takeError());
  EXPECT_EQ(writer->remaining(), 0u);
  ASSERT_FALSE(bool(writer->finish()));
  std::string file = readFile(path);
  // "{}" padded to 8 bytes.
  EXPECT_EQ(file, std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  auto parsed = parseSafetensorsHeader(context, path, file);
  ASSERT_TRUE(mlir::succeeded(parsed)) << diagnostics.text();
  EXPECT_TRUE(parsed->tensors.empty());
  EXPECT_EQ(parsed->dataStart, 16u);
}

TEST_F(SafetensorsWriterTest, RefusesBytesPastTheDataAndAnIncompleteFile) {
  std::string path = scratch.file("short.safetensors");
  std::vector<SafetensorsTensorSpec> specs = {{"t", DType::F32, {2}}};
  auto writer = SafetensorsWriter::create(path, specs);
  ASSERT_TRUE(bool(writer)) << llvm::toString(writer.takeError());
  std::vector<uint8_t> tooMany(9, 0);
  std::string past = llvm::toString(writer->write(tooMany));
  EXPECT_NE(past.find("9 bytes would run past the 8-byte data section"),
            std::string::npos)
      << past;
  ASSERT_FALSE(bool(writer->write({tooMany.data(), 4})));
  std::string early = llvm::toString(writer->finish());
  EXPECT_NE(early.find("short.safetensors"), std::string::npos) << early;
  EXPECT_NE(early.find("closed with 4 of 8 data bytes unwritten"),
            std::string::npos)
      << early;
}

TEST_F(SafetensorsWriterTest, AnUnfinishedFileIsRemoved) {
  std::string path = scratch.file("partial.safetensors");
  {
    std::vector<SafetensorsTensorSpec> specs = {{"t", DType::F16, {4}}};
    auto writer = SafetensorsWriter::create(path, specs);
    ASSERT_TRUE(bool(writer)) << llvm::toString(writer.takeError());
    ASSERT_FALSE(bool(writer->write(pattern(2, 0))));
    EXPECT_TRUE(llvm::sys::fs::exists(path));
  }
  EXPECT_FALSE(llvm::sys::fs::exists(path));
}

TEST_F(SafetensorsWriterTest, NamesTheFileThatCannotBeWritten) {
  std::string missingDir = scratch.file("no/such/dir/x.safetensors");
  auto missing = SafetensorsWriter::create(missingDir, {});
  ASSERT_FALSE(bool(missing));
  std::string message = llvm::toString(missing.takeError());
  EXPECT_NE(message.find(missingDir), std::string::npos) << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos)
      << message;

  // A full disk: /dev/full refuses every write with ENOSPC.
  if (!llvm::sys::fs::exists("/dev/full"))
    GTEST_SKIP() << "no /dev/full";
  std::string full = scratch.file("full.safetensors");
  ASSERT_FALSE(llvm::sys::fs::create_link("/dev/full", full));
  std::vector<SafetensorsTensorSpec> specs = {{"t", DType::U8, {1 << 20}}};
  auto writer = SafetensorsWriter::create(full, specs);
  llvm::Error error = writer ? writer->write(pattern(1 << 20, 0))
                             : writer.takeError();
  if (!error)
    error = writer->finish();
  std::string noSpace = llvm::toString(std::move(error));
  EXPECT_NE(noSpace.find("full.safetensors"), std::string::npos) << noSpace;
  EXPECT_NE(noSpace.find("No space left on device"), std::string::npos)
      << noSpace;
}

TEST_F(SafetensorsWriterTest, RefusesDuplicateNamesAndNegativeDimensions) {
  std::vector<SafetensorsTensorSpec> twice = {{"t", DType::F16, {1}},
                                              {"t", DType::F16, {2}}};
  auto duplicate = encodeSafetensorsHeader(twice);
  ASSERT_FALSE(bool(duplicate));
  EXPECT_EQ(llvm::toString(duplicate.takeError()),
            "tensor name 't' is used twice or reserved");

  std::vector<SafetensorsTensorSpec> negative = {{"n", DType::F16, {2, -1}}};
  auto bad = encodeSafetensorsHeader(negative);
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "tensor 'n': negative dimension -1");
}

} // namespace
