//===- RecipeResolution.h - Resolving recipes in tests ----------*- C++ -*-===//
//
// A fixture that resolves a named recipe or a JSON recipe text and keeps the
// diagnostic a refusal gave.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TEST_UNIT_PIPELINE_RECIPERESOLUTION_H
#define QTC_TEST_UNIT_PIPELINE_RECIPERESOLUTION_H

#include "qtc/Pipeline/Recipe.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

namespace qtc {

class RecipeResolution : public ::testing::Test {
protected:
  mlir::FailureOr<Recipe> resolve(llvm::StringRef nameOrPath) {
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      error = d.str();
      return mlir::success();
    });
    return resolveRecipe(mlir::UnknownLoc::get(&context), nameOrPath);
  }

  // Writes `json` to a temporary .json file and resolves it.
  mlir::FailureOr<Recipe> resolveJson(llvm::StringRef json) {
    llvm::SmallString<128> path;
    int fd;
    EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("recipe", "json", fd, path));
    {
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      os << json;
    }
    mlir::FailureOr<Recipe> r = resolve(path);
    llvm::sys::fs::remove(path);
    return r;
  }

  mlir::MLIRContext context;
  std::string error;
};

} // namespace qtc

#endif // QTC_TEST_UNIT_PIPELINE_RECIPERESOLUTION_H
