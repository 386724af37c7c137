//===- WeightPacking.cpp - Weights in the layouts the kernels read --------===//

#include "WeightPacking.h"

#include "qtc/Import/WeightStore.h"
#include "qtc/rt/Float16.h"

#include "mlir/IR/Diagnostics.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace qtc {

std::vector<uint8_t> packF16(ArrayRef<float> values) {
  std::vector<uint8_t> bytes(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t h = rt::floatToHalf(values[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return bytes;
}

} // namespace qtc
