//===- WeightPacking.h - Weights in the layouts the kernels read ----------===//
#ifndef QTC_LIB_CHAIN_WEIGHTPACKING_H
#define QTC_LIB_CHAIN_WEIGHTPACKING_H

#include "qtc/Import/WeightMatrix.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <vector>

namespace qtc {

// f32 -> IEEE half, round to nearest even, little-endian bytes.
std::vector<uint8_t> packF16(llvm::ArrayRef<float> values);

} // namespace qtc

#endif // QTC_LIB_CHAIN_WEIGHTPACKING_H
