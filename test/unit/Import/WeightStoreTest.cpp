//===- WeightStoreTest.cpp - Names, views and lazy transposes -------------===//

#include "qtc/Import/WeightStore.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

using namespace qtc;

namespace {

TEST(WeightStoreTest, ViewsAdoptedBytesWithoutCopying) {
  WeightStore store;
  auto bytes = std::make_unique<std::string>(std::string(24, '\0'));
  llvm::StringRef view = store.adoptBytes(std::move(bytes));
  ASSERT_TRUE(store.add("w", {DType::F32, {2, 3}, view.data(), view.size()}));
  std::optional<WeightRef> weight = store.lookup("w");
  ASSERT_TRUE(weight.has_value());
  EXPECT_EQ(weight->data, view.data());
  EXPECT_EQ(weight->numElements(), 6);
  EXPECT_FALSE(store.lookup("missing").has_value());
}

TEST(WeightStoreTest, RejectsDuplicateNames) {
  WeightStore store;
  llvm::StringRef view =
      store.adoptBytes(std::make_unique<std::string>(std::string(4, '\0')));
  WeightRef ref{DType::F32, {1}, view.data(), view.size()};
  EXPECT_TRUE(store.add("w", ref));
  EXPECT_FALSE(store.add("w", ref));
  EXPECT_FALSE(store.addTransposed("w", {DType::F32, {1, 1}, view.data(), 4}));
  EXPECT_EQ(store.size(), 1u);
}

TEST(WeightStoreTest, TransposesOnFirstLookup) {
  WeightStore store;
  // A 3 x 5 matrix of 16-bit elements holding their row-major index.
  std::vector<uint16_t> values(15);
  std::iota(values.begin(), values.end(), 0);
  auto bytes = std::make_unique<std::string>(
      reinterpret_cast<const char *>(values.data()), values.size() * 2);
  llvm::StringRef view = store.adoptBytes(std::move(bytes));
  ASSERT_TRUE(store.addTransposed(
      "w", {DType::BF16, {3, 5}, view.data(), view.size()}));

  // The type is known before any copy exists.
  std::optional<WeightType> type = store.typeOf("w");
  ASSERT_TRUE(type.has_value());
  EXPECT_EQ(type->shape, (llvm::SmallVector<int64_t, 4>{5, 3}));

  std::optional<WeightRef> weight = store.lookup("w");
  ASSERT_TRUE(weight.has_value());
  EXPECT_NE(weight->data, view.data());
  EXPECT_EQ(weight->shape, (llvm::SmallVector<int64_t, 4>{5, 3}));
  for (int row = 0; row < 5; ++row)
    for (int col = 0; col < 3; ++col) {
      uint16_t element;
      std::memcpy(&element,
                  static_cast<const char *>(weight->data) + 2 * (row * 3 + col),
                  2);
      EXPECT_EQ(element, col * 5 + row);
    }
  // Later lookups reuse the copy.
  EXPECT_EQ(store.lookup("w")->data, weight->data);
}

TEST(WeightStoreTest, KeepsRegistrationOrder) {
  WeightStore store;
  llvm::StringRef view =
      store.adoptBytes(std::make_unique<std::string>(std::string(4, '\0')));
  for (const char *name : {"b", "a", "c"})
    store.add(name, {DType::F32, {1}, view.data(), 4});
  std::vector<std::string> names(store.names().begin(), store.names().end());
  EXPECT_EQ(names, (std::vector<std::string>{"b", "a", "c"}));
}

} // namespace

// A deferred tensor is produced on lookup (then kept), reports its
// producer's error, and is refused when its size disagrees with its shape.
TEST(WeightStoreTest, DeferredTensors) {
  qtc::WeightStore store;
  qtc::DeferredWeight four;
  four.byteSize = 4;
  four.granule = 2;
  int calls = 0;
  four.produce = [&calls](uint64_t offset, llvm::MutableArrayRef<uint8_t> out) {
    ++calls;
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<uint8_t>(offset + i + 1);
    return llvm::Error::success();
  };
  EXPECT_FALSE(store.addDeferred("wrong", qtc::DType::F16, {3}, four));
  ASSERT_TRUE(store.addDeferred("w", qtc::DType::F16, {2}, four));
  ASSERT_TRUE(store.deferred("w"));
  EXPECT_EQ(store.typeOf("w")->shape, (llvm::SmallVector<int64_t, 4>{2}));
  std::optional<qtc::WeightRef> ref = store.lookup("w");
  ASSERT_TRUE(ref);
  const auto *bytes = static_cast<const uint8_t *>(ref->data);
  EXPECT_EQ(std::vector<uint8_t>(bytes, bytes + 4), (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_FALSE(store.deferred("w")); // materialized once
  store.lookup("w");
  EXPECT_EQ(calls, 1);

  qtc::DeferredWeight bad = four;
  bad.produce = [](uint64_t, llvm::MutableArrayRef<uint8_t>) {
    return llvm::createStringError("no bytes today");
  };
  ASSERT_TRUE(store.addDeferred("bad", qtc::DType::U8, {4}, bad));
  std::string error;
  EXPECT_FALSE(store.lookup("bad", &error));
  EXPECT_EQ(error, "no bytes today");
  // Memory the store does not map is left alone by releasePages.
  store.releasePages(*ref);
  EXPECT_EQ(bytes[0], 1);
}
