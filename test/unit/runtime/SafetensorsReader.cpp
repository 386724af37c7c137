//===- SafetensorsReader.cpp - Reads a .safetensors file for tests --------===//

#include "SafetensorsReader.h"

#include "qtc/rt/Float16.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <iterator>

namespace qtc::rt::test {

StatusOr<std::map<std::string, SafetensorsTensor>> readSafetensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return notFound("cannot open '" + path + "'");
  std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 8)
    return dataLoss(path + ": too short");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | file[i];
  if (headerSize > file.size() - 8)
    return dataLoss(path + ": header runs past the end");
  nlohmann::json header = nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + headerSize,
                                                nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return dataLoss(path + ": header is not a JSON object");
  const size_t dataStart = 8 + headerSize;
  std::map<std::string, SafetensorsTensor> tensors;
  for (auto &[name, entry] : header.items()) {
    if (name == "__metadata__")
      continue;
    SafetensorsTensor tensor;
    tensor.dtype = entry.at("dtype").get<std::string>();
    tensor.shape = entry.at("shape").get<std::vector<int64_t>>();
    auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
    if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > file.size() - dataStart)
      return dataLoss(path + ": bad data_offsets for " + name);
    tensor.bytes.assign(file.begin() + dataStart + offsets[0], file.begin() + dataStart + offsets[1]);
    tensors.emplace(name, std::move(tensor));
  }
  return tensors;
}

StatusOr<std::vector<float>> tensorAsFloats(const SafetensorsTensor &tensor) {
  std::vector<float> values;
  if (tensor.dtype == "F32") {
    values.resize(tensor.bytes.size() / 4);
    std::memcpy(values.data(), tensor.bytes.data(), values.size() * 4);
  } else if (tensor.dtype == "F16" || tensor.dtype == "BF16") {
    values.resize(tensor.bytes.size() / 2);
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t raw;
      std::memcpy(&raw, tensor.bytes.data() + 2 * i, 2);
      values[i] = tensor.dtype == "F16" ? halfToFloat(raw) : bf16ToFloat(raw);
    }
  } else {
    return invalidArgument("unsupported safetensors dtype " + tensor.dtype);
  }
  return values;
}

} // namespace qtc::rt::test
