//===- HostTensor.cpp - Small tensors the raiser computes with ------------===//

#include "HostTensor.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace qtc;

bool qtc::isFloatDType(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::F32:
  case DType::F16:
  case DType::BF16:
  case DType::F8E4M3FN:
  case DType::F8E5M2:
    return true;
  default:
    return false;
  }
}

int64_t qtc::saturatingToInt64(double value) {
  if (std::isnan(value))
    return 0;
  if (value >= 9.2233720368547758e18)
    return std::numeric_limits<int64_t>::max();
  if (value <= -9.2233720368547758e18)
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(value);
}

bool HostTensor::isFloat() const { return isFloatDType(dtype); }

int64_t HostTensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

double HostTensor::floatAt(int64_t i) const {
  return isFloat() ? floats[i] : static_cast<double>(ints[i]);
}

int64_t HostTensor::intAt(int64_t i) const {
  return isFloat() ? saturatingToInt64(floats[i]) : ints[i];
}

HostTensor HostTensor::zeros(DType dtype, llvm::ArrayRef<int64_t> shape) {
  HostTensor tensor;
  tensor.dtype = dtype;
  tensor.shape.assign(shape.begin(), shape.end());
  if (tensor.isFloat())
    tensor.floats.assign(tensor.numElements(), 0.0);
  else
    tensor.ints.assign(tensor.numElements(), 0);
  return tensor;
}

namespace {
template <typename T> T load(const char *bytes, int64_t i) {
  T value;
  std::memcpy(&value, bytes + i * sizeof(T), sizeof(T));
  return value;
}

double decodeMinifloat(const llvm::fltSemantics &semantics, unsigned bits,
                       uint64_t pattern) {
  llvm::APFloat value(semantics, llvm::APInt(bits, pattern));
  bool losesInfo;
  value.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToDouble();
}
} // namespace

llvm::Expected<HostTensor> qtc::decodeHostTensor(const OnnxTensorData &data,
                                                 int64_t maxElements) {
  if (!data.dtype)
    return llvm::createStringError("tensor '" + data.name +
                                   "' has unsupported ONNX element type " +
                                   std::to_string(data.onnxType));
  int64_t count = data.numElements();
  if (count > maxElements)
    return llvm::createStringError("tensor '" + data.name + "' has " +
                                   std::to_string(count) +
                                   " elements, more than a constant the "
                                   "importer evaluates may have");
  HostTensor tensor = HostTensor::zeros(*data.dtype, data.shape);
  const char *bytes = data.bytes.data();
  for (int64_t i = 0; i < count; ++i) {
    switch (*data.dtype) {
    case DType::F64:
      tensor.floats[i] = load<double>(bytes, i);
      break;
    case DType::F32:
      tensor.floats[i] = load<float>(bytes, i);
      break;
    case DType::F16:
      tensor.floats[i] = decodeMinifloat(llvm::APFloat::IEEEhalf(), 16,
                                         load<uint16_t>(bytes, i));
      break;
    case DType::BF16:
      tensor.floats[i] = decodeMinifloat(llvm::APFloat::BFloat(), 16,
                                         load<uint16_t>(bytes, i));
      break;
    case DType::F8E4M3FN:
      tensor.floats[i] = decodeMinifloat(llvm::APFloat::Float8E4M3FN(), 8,
                                         load<uint8_t>(bytes, i));
      break;
    case DType::F8E5M2:
      tensor.floats[i] = decodeMinifloat(llvm::APFloat::Float8E5M2(), 8,
                                         load<uint8_t>(bytes, i));
      break;
    case DType::I64:
      tensor.ints[i] = load<int64_t>(bytes, i);
      break;
    case DType::U64:
      tensor.ints[i] = static_cast<int64_t>(load<uint64_t>(bytes, i));
      break;
    case DType::I32:
      tensor.ints[i] = load<int32_t>(bytes, i);
      break;
    case DType::U32:
      tensor.ints[i] = load<uint32_t>(bytes, i);
      break;
    case DType::I16:
      tensor.ints[i] = load<int16_t>(bytes, i);
      break;
    case DType::U16:
      tensor.ints[i] = load<uint16_t>(bytes, i);
      break;
    case DType::I8:
      tensor.ints[i] = load<int8_t>(bytes, i);
      break;
    case DType::U8:
      tensor.ints[i] = load<uint8_t>(bytes, i);
      break;
    case DType::Bool:
      tensor.ints[i] = load<uint8_t>(bytes, i) != 0;
      break;
    }
  }
  return tensor;
}
