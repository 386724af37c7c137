//===- RotationRecipeTest.cpp - Recipes that fold norms and rotate --------===//

#include "RecipeResolution.h"

using namespace qtc;

namespace {

class RotationRecipeTest : public RecipeResolution {};

TEST_F(RotationRecipeTest, RotSuffixRotatesAnyNamedRecipe) {
  for (llvm::StringRef name : {"fp16-rot", "w4a16-rtn-rot", "w4a16-rot", "w8a8-rot",
                               "w4a16-kvint4-rot"}) {
    SCOPED_TRACE(name.str());
    mlir::FailureOr<Recipe> r = resolve(name);
    ASSERT_TRUE(mlir::succeeded(r)) << error;
    EXPECT_EQ(r->name, name.str());
    EXPECT_TRUE(r->rotation.foldNorms);
    EXPECT_TRUE(r->rotation.hadamard);
    EXPECT_EQ(r->rotation.seed, 0u);
    mlir::FailureOr<Recipe> plain = resolve(name.drop_back(4));
    ASSERT_TRUE(mlir::succeeded(plain));
    EXPECT_FALSE(plain->rotation.hadamard);
    EXPECT_EQ(r->linear.format, plain->linear.format);
    EXPECT_EQ(r->linear.method, plain->linear.method);
    EXPECT_EQ(r->activations.format, plain->activations.format);
    EXPECT_EQ(r->kvCache.format, plain->kvCache.format);
  }
  EXPECT_TRUE(mlir::failed(resolve("w4a16-rot-rot")));
  EXPECT_TRUE(mlir::failed(resolve("nonsense-rot")));
}

TEST_F(RotationRecipeTest, JsonRotateAndFoldNorms) {
  mlir::FailureOr<Recipe> r = resolveJson(
      R"({"weights": {"format": "int4"}, "rotate": {"kind": "hadamard", "seed": 7}})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_TRUE(r->rotation.hadamard);
  EXPECT_TRUE(r->rotation.foldNorms); // implied
  EXPECT_EQ(r->rotation.seed, 7u);

  r = resolveJson(R"({"rotate": "hadamard"})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_TRUE(r->rotation.hadamard);

  r = resolveJson(R"({"fold_norms": true})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_TRUE(r->rotation.foldNorms);
  EXPECT_FALSE(r->rotation.hadamard);

  r = resolveJson(R"({"rotate": "none"})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_FALSE(r->rotation.hadamard);
  EXPECT_FALSE(r->rotation.foldNorms);
}

TEST_F(RotationRecipeTest, ContradictionsNameTheField) {
  struct {
    const char *json, *message;
  } cases[] = {
      {R"({"rotate": "hadamard", "fold_norms": false})",
       "recipe: fold_norms false contradicts rotate \"hadamard\""},
      {R"({"rotate": {"kind": "hadamard", "seed": 1}, "fold_norms": false})",
       "recipe: fold_norms false contradicts rotate \"hadamard\""},
      {R"({"rotate": "spinquant"})", "recipe: rotate must be \"none\", \"hadamard\""},
      {R"({"rotate": {"seed": 3}})", "recipe: rotate.kind is required"},
      {R"({"rotate": {"kind": "none", "seed": 3}})",
       "recipe: rotate.seed needs rotate.kind \"hadamard\""},
      {R"({"rotate": {"kind": "hadamard", "seed": -1}})",
       "recipe: rotate.seed must be a non-negative integer"},
      {R"({"rotate": {"kind": "hadamard", "online": true}})",
       "recipe: unknown key 'rotate.online'"},
      {R"({"fold_norms": "yes"})", "recipe: fold_norms must be a boolean"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.json);
    error.clear();
    EXPECT_TRUE(mlir::failed(resolveJson(c.json)));
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
  }
}

} // namespace
