//===- OnnxLoaderTest.cpp - Initializer encodings the loader accepts ------===//

#include "CapturedDiagnostics.h"
#include "lib/Import/OnnxModelLoader.h"
#include "qtc/rt/Float16.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace qtc;
using namespace qtc::test;

namespace {

std::string input(llvm::StringRef name) {
  llvm::SmallString<256> path(QTC_TEST_INPUTS_DIR);
  llvm::sys::path::append(path, "onnx", name);
  return std::string(path);
}

// The elements of initializer `name`, read from the little-endian bytes
// the loader produced, as T (the element type the test expects).
template <typename T>
std::vector<T> elements(const OnnxGraph &graph, llvm::StringRef name,
                        DType dtype) {
  const OnnxTensorData *data = graph.constant(name);
  EXPECT_NE(data, nullptr) << name.str();
  if (!data)
    return {};
  EXPECT_TRUE(data->dtype == dtype) << name.str();
  EXPECT_EQ(data->bytes.size(), size_t(data->numElements()) * sizeof(T));
  std::vector<T> out(data->bytes.size() / sizeof(T));
  std::memcpy(out.data(), data->bytes.data(), out.size() * sizeof(T));
  return out;
}

TEST(OnnxLoaderTest, DecodesTypedDataFields) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  WeightStore store;
  auto graph = loadOnnxGraph(context, input("typed-fields.onnx"), store);
  ASSERT_TRUE(mlir::succeeded(graph)) << diagnostics.text();
  EXPECT_EQ(graph->opsetVersion, 18);

  EXPECT_EQ(graph->constant("floats")->shape,
            (llvm::SmallVector<int64_t, 4>{2, 2}));
  EXPECT_EQ(elements<float>(*graph, "floats", DType::F32),
            (std::vector<float>{1.0f, -2.0f, 3.5f, 0.25f}));
  EXPECT_EQ(elements<int64_t>(*graph, "ints", DType::I64),
            (std::vector<int64_t>{7, -8, 9}));

  // f16 values arrive as bit patterns widened into int32_data.
  std::vector<uint16_t> halves = elements<uint16_t>(*graph, "halves", DType::F16);
  ASSERT_EQ(halves.size(), 2u);
  EXPECT_EQ(qtc::rt::halfToFloat(halves[0]), 1.5f);
  EXPECT_EQ(qtc::rt::halfToFloat(halves[1]), -0.5f);
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
  std::vector<float> values =
      elements<float>(*graph, "model.embed_tokens.weight", DType::F32);
  ASSERT_EQ(values.size(), 32u * 16u);
  // The embedding's marker (see make_onnx_inputs.py).
  EXPECT_EQ(values[0], -1.0f);
  EXPECT_EQ(values[1], -0.5f);
}

} // namespace
