//===- OnnxBindWeightsTest.cpp - Weights as tfm.model reads them ----------===//
//
// The binding registers an initializer as stored, transposed ([in, out]
// MatMul operands) or with its rows permuted (interleaved RoPE's q/k,
// produced when read); each must read back as the [out, in] rows tfm.model
// expects.

#include "CapturedDiagnostics.h"
#include "lib/Import/OnnxBindWeights.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

using namespace mlir;
using namespace qtc;

namespace {

class OnnxBindWeightsTest : public ::testing::Test {
protected:
  OnnxBindWeightsTest() : builder(&context) {
    context.loadDialect<onnxir::OnnxDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// An inline f32 constant of `shape` holding 0, 1, 2, ...
  onnxir::ConstantOp constant(ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, builder.getF32Type());
    std::vector<float> values(type.getNumElements());
    std::iota(values.begin(), values.end(), 0.0f);
    auto attr = DenseElementsAttr::get(type, ArrayRef<float>(values));
    return onnxir::ConstantOp::create(builder, builder.getUnknownLoc(), type,
                                      attr);
  }

  std::vector<float> read(StringRef name) {
    std::optional<WeightRef> ref = store.lookup(name);
    EXPECT_TRUE(ref.has_value()) << name.str();
    if (!ref)
      return {};
    std::vector<float> out(ref->numElements());
    std::memcpy(out.data(), ref->data, out.size() * sizeof(float));
    return out;
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  WeightStore store;
};

TEST_F(OnnxBindWeightsTest, PermutesRowsOfAStoredWeight) {
  // [out = 4, in = 2]: row r of the bound weight is row perm[r].
  WeightSource source{constant({4, 2}), false, {2, 0, 3, 1}};
  ASSERT_TRUE(succeeded(registerBoundWeight(store, "w", source)));
  EXPECT_EQ(store.typeOf("w")->shape, (SmallVector<int64_t, 4>{4, 2}));
  EXPECT_EQ(read("w"), (std::vector<float>{4, 5, 0, 1, 6, 7, 2, 3}));
}

TEST_F(OnnxBindWeightsTest, PermutesRowsOfATransposedWeight) {
  // [in = 2, out = 4] as the graph stores it: bound [4, 2], row r is
  // column perm[r] of the source.
  WeightSource source{constant({2, 4}), true, {2, 0, 3, 1}};
  ASSERT_TRUE(succeeded(registerBoundWeight(store, "w", source)));
  EXPECT_EQ(store.typeOf("w")->shape, (SmallVector<int64_t, 4>{4, 2}));
  EXPECT_EQ(read("w"), (std::vector<float>{2, 6, 0, 4, 3, 7, 1, 5}));
}

TEST_F(OnnxBindWeightsTest, TransposesAndPermutesBiases) {
  WeightSource plain{constant({2, 3}), true, {}};
  ASSERT_TRUE(succeeded(registerBoundWeight(store, "t", plain)));
  EXPECT_EQ(read("t"), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  WeightSource bias{constant({4}), false, {3, 2, 1, 0}};
  ASSERT_TRUE(succeeded(registerBoundWeight(store, "b", bias)));
  EXPECT_EQ(read("b"), (std::vector<float>{3, 2, 1, 0}));
}

TEST_F(OnnxBindWeightsTest, RefusesABadPermutationAndATakenName) {
  test::CapturedDiagnostics diagnostics(context);
  WeightSource wrongSize{constant({4, 2}), false, {0, 1}};
  EXPECT_TRUE(failed(registerBoundWeight(store, "w", wrongSize)));
  WeightSource outOfRange{constant({4, 2}), false, {0, 1, 2, 4}};
  EXPECT_TRUE(failed(registerBoundWeight(store, "w", outOfRange)));
  EXPECT_TRUE(diagnostics.contains(
      "cannot bind weight 'w': the row permutation does not fit its shape"))
      << diagnostics.text();
  WeightSource fine{constant({4, 2}), false, {}};
  ASSERT_TRUE(succeeded(registerBoundWeight(store, "w", fine)));
  EXPECT_TRUE(failed(registerBoundWeight(store, "w", fine)));
  EXPECT_TRUE(diagnostics.contains("two weights of the model are named 'w'"))
      << diagnostics.text();
}

} // namespace
