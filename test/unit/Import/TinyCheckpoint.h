//===- TinyCheckpoint.h - Writes small Hugging Face checkpoints -*- C++ -*-===//
//
// A one-layer Llama (hidden 16, 2 heads of 8, 1 KV head, MLP 24, vocab 32)
// as config.json + model.safetensors, editable before it is written so each
// test can break exactly one thing.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_TEST_UNIT_IMPORT_TINYCHECKPOINT_H
#define QTC_TEST_UNIT_IMPORT_TINYCHECKPOINT_H

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qtc::test {

struct TinyTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::string dtype = "F16";
};

struct TinyCheckpoint {
  static TinyCheckpoint llama();

  void remove(llvm::StringRef name);
  TinyTensor *find(llvm::StringRef name);

  /// The safetensors bytes of `tensors` (zero data, back to back).
  static std::string safetensors(const std::vector<TinyTensor> &tensors);

  /// Writes config.json and model.safetensors into `dir`.
  void writeTo(llvm::StringRef dir) const;

  llvm::json::Object config;
  std::vector<TinyTensor> tensors;
};

} // namespace qtc::test

#endif // QTC_TEST_UNIT_IMPORT_TINYCHECKPOINT_H
