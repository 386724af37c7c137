//===- WeightMatrixTest.cpp - Weights read as f32 -------------------------===//

#include "qtc/Import/WeightMatrix.h"
#include "qtc/Import/WeightStore.h"
#include "qtc/rt/Float16.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace qtc;

namespace {

uint32_t bitsOf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Every half, subnormals, infinities and NaN payloads included, widens to
// the bits rt::halfToFloat gives; the flag says whether one was not finite.
TEST(WeightMatrixTest, WidensEveryHalfAsTheRuntimeDoes) {
  std::vector<uint16_t> halves(65536);
  for (uint32_t i = 0; i < halves.size(); ++i)
    halves[i] = static_cast<uint16_t>(i);
  std::vector<float> out(halves.size());
  EXPECT_FALSE(widenHalves(halves.data(), static_cast<int64_t>(halves.size()), out.data()));
  for (uint32_t i = 0; i < halves.size(); ++i)
    ASSERT_EQ(bitsOf(out[i]), bitsOf(rt::halfToFloat(halves[i]))) << "half 0x" << std::hex << i;
  // The finite halves alone (exponent below 31), at a length that is no
  // multiple of a vector.
  std::vector<uint16_t> finite;
  for (uint32_t i = 0; i < 65536; ++i)
    if (((i >> 10) & 0x1f) != 0x1f)
      finite.push_back(static_cast<uint16_t>(i));
  finite.resize(finite.size() - 3);
  out.assign(finite.size(), 0.0f);
  EXPECT_TRUE(widenHalves(finite.data(), static_cast<int64_t>(finite.size()), out.data()));
}

// An f16 weight at an odd address (mmap'ed safetensors need not align it)
// reads exactly; a NaN in it is named by element.
TEST(WeightMatrixTest, ReadsUnalignedHalvesAndNamesTheFirstNaN) {
  mlir::MLIRContext context;
  WeightStore store;
  const int64_t rows = 3, cols = 3001; // more than one widening piece
  std::vector<uint16_t> halves(rows * cols);
  for (size_t i = 0; i < halves.size(); ++i)
    halves[i] = rt::floatToHalf(static_cast<float>(i % 97) * 0.25f - 12.0f);
  auto bytes = std::make_unique<std::string>(1 + 2 * halves.size(), '\0');
  std::memcpy(bytes->data() + 1, halves.data(), 2 * halves.size());
  llvm::StringRef view = store.adoptBytes(std::move(bytes));
  ASSERT_TRUE(store.add("w", {DType::F16, {rows, cols}, view.data() + 1, 2 * halves.size()}));
  mlir::FailureOr<WeightMatrix> m = readWeight(store, "w", mlir::UnknownLoc::get(&context));
  ASSERT_TRUE(mlir::succeeded(m));
  ASSERT_EQ(m->values.size(), halves.size());
  for (size_t i = 0; i < halves.size(); ++i)
    ASSERT_EQ(m->values[i], rt::halfToFloat(halves[i])) << i;

  WeightStore bad;
  halves[4100] = 0x7e00; // NaN
  auto badBytes = std::make_unique<std::string>(2 * halves.size(), '\0');
  std::memcpy(badBytes->data(), halves.data(), 2 * halves.size());
  llvm::StringRef badView = bad.adoptBytes(std::move(badBytes));
  ASSERT_TRUE(bad.add("w", {DType::F16, {rows, cols}, badView.data(), badView.size()}));
  std::string message;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    message = d.str();
    return mlir::success();
  });
  EXPECT_TRUE(mlir::failed(readWeight(bad, "w", mlir::UnknownLoc::get(&context))));
  EXPECT_NE(message.find("non-finite value (nan) at element 4100"), std::string::npos) << message;
}

} // namespace
