//===- OnnxLoaderTest.cpp - Initializer encodings the loader accepts ------===//

#include "CapturedDiagnostics.h"
#include "lib/Import/HostTensor.h"
#include "lib/Import/OnnxModelLoader.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

using namespace qtc;
using namespace qtc::test;

namespace {

std::string input(llvm::StringRef name) {
  llvm::SmallString<256> path(QTC_TEST_INPUTS_DIR);
  llvm::sys::path::append(path, "onnx", name);
  return std::string(path);
}

HostTensor decoded(const OnnxGraph &graph, llvm::StringRef name) {
  const OnnxTensorData *data = graph.constant(name);
  EXPECT_NE(data, nullptr) << name.str();
  llvm::Expected<HostTensor> tensor = decodeHostTensor(*data, 64);
  EXPECT_TRUE(bool(tensor));
  return tensor ? std::move(*tensor) : HostTensor();
}

TEST(OnnxLoaderTest, DecodesTypedDataFields) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  WeightStore store;
  auto graph = loadOnnxGraph(context, input("typed-fields.onnx"), store);
  ASSERT_TRUE(mlir::succeeded(graph)) << diagnostics.text();
  EXPECT_EQ(graph->opsetVersion, 18);

  HostTensor floats = decoded(*graph, "floats");
  EXPECT_EQ(floats.dtype, DType::F32);
  EXPECT_EQ(floats.shape, (llvm::SmallVector<int64_t, 4>{2, 2}));
  EXPECT_EQ(floats.floats, (std::vector<double>{1.0, -2.0, 3.5, 0.25}));

  HostTensor ints = decoded(*graph, "ints");
  EXPECT_EQ(ints.dtype, DType::I64);
  EXPECT_EQ(ints.ints, (std::vector<int64_t>{7, -8, 9}));

  // f16 values arrive as bit patterns widened into int32_data.
  HostTensor halves = decoded(*graph, "halves");
  EXPECT_EQ(halves.dtype, DType::F16);
  EXPECT_EQ(halves.floats, (std::vector<double>{1.5, -0.5}));
}

TEST(OnnxLoaderTest, MapsExternalDataInsideTheFolder) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  WeightStore store;
  auto graph =
      loadOnnxGraph(context, input("tiny-llama-external/model.onnx"), store);
  ASSERT_TRUE(mlir::succeeded(graph)) << diagnostics.text();
  const OnnxTensorData *table = graph->constant("model.embed_tokens.weight");
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->shape, (llvm::SmallVector<int64_t, 4>{32, 16}));
  ASSERT_EQ(table->bytes.size(), 32u * 16u * 4u);
  llvm::Expected<HostTensor> values = decodeHostTensor(*table, 1 << 10);
  ASSERT_TRUE(bool(values));
  // The embedding's marker (see make_onnx_inputs.py).
  EXPECT_EQ(values->floats[0], -1.0);
  EXPECT_EQ(values->floats[1], -0.5);
}

} // namespace
