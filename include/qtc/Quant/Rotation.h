//===- Rotation.h - Seeded randomized Hadamard rotations --------*- C++ -*-===//
//
// QuaRot (Ashkboos et al., 2024) rotates the residual stream by an orthogonal
// Q: activations x become x Q, which spreads outlier channels over all of
// them, and the weights absorb Q so the fp32 function is unchanged. Q here is
// a randomized Hadamard matrix
//
//   Q = D (H_p / sqrt(p)) (x) R_m,    n = p * m, p a power of two, m odd,
//
// D a diagonal of random signs, H_p the Sylvester Hadamard matrix and R_m a
// random orthogonal m x m matrix (the identity when m = 1; QuaRot uses known
// Hadamard matrices of orders 12, 20, 28, ... instead, which this does not
// carry). The Kronecker product of orthogonal matrices is orthogonal, and
// v Q costs n (log2 p + m) operations instead of n^2: a fast Walsh-Hadamard
// transform over p blocks and R_m within each block.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_QUANT_ROTATION_H
#define QTC_QUANT_ROTATION_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qtc::quant {

class HadamardRotation {
public:
  // The odd factor's orthogonal matrix is dense: sizes whose odd part
  // exceeds this are refused.
  static constexpr int64_t kMaxOddFactor = 1024;

  // The rotation of `size` features drawn from `seed` (the same seed gives
  // the same Q on every platform).
  static llvm::Expected<HadamardRotation> create(int64_t size, uint64_t seed);

  int64_t size() const { return n; }
  int64_t powerOfTwo() const { return p; }
  int64_t oddFactor() const { return m; }

  // v <- v Q for a row vector of size() values.
  void apply(llvm::MutableArrayRef<double> v) const;

private:
  int64_t n = 0, p = 0, m = 0;
  std::vector<double> signs; // D, n entries of +-1
  std::vector<double> odd;   // R_m, row-major m x m
};

} // namespace qtc::quant

#endif // QTC_QUANT_ROTATION_H
