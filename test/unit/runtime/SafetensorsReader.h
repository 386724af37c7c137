//===- SafetensorsReader.h - Reads a .safetensors file for tests ----------===//
//
// The kjv model test turns the shared checkpoint into an artifact without the
// compiler; this reads the file's JSON header and tensor bytes (format:
// u64 little-endian header size, JSON {name: {dtype, shape, data_offsets}},
// raw data).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TEST_UNIT_RUNTIME_SAFETENSORSREADER_H
#define QTC_TEST_UNIT_RUNTIME_SAFETENSORSREADER_H

#include "qtc/rt/Status.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qtc::rt::test {

struct SafetensorsTensor {
  std::string dtype; // "F16", "F32", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

StatusOr<std::map<std::string, SafetensorsTensor>> readSafetensors(const std::string &path);

// The tensor as f32 (F16, BF16 or F32).
StatusOr<std::vector<float>> tensorAsFloats(const SafetensorsTensor &tensor);

} // namespace qtc::rt::test

#endif // QTC_TEST_UNIT_RUNTIME_SAFETENSORSREADER_H
