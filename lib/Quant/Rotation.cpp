//===- Rotation.cpp - Seeded randomized Hadamard rotations ----------------===//

#include "qtc/Quant/Rotation.h"

#include <cmath>
#include <random>

namespace qtc::quant {
namespace {

// Uniform in (0, 1) from the top 53 bits: mt19937_64's sequence is fixed by
// the standard, std::normal_distribution's is not.
double uniformOpen(std::mt19937_64 &rng) {
  return ((rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// A standard normal draw (Box-Muller).
double normal(std::mt19937_64 &rng) {
  double u = uniformOpen(rng), v = uniformOpen(rng);
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

// A random orthogonal m x m matrix: Gram-Schmidt (twice, for orthogonality
// to rounding) of Gaussian rows.
std::vector<double> randomOrthogonal(int64_t m, std::mt19937_64 &rng) {
  std::vector<double> a(m * m);
  for (double &x : a)
    x = normal(rng);
  for (int64_t i = 0; i < m; ++i) {
    double *row = &a[i * m];
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t j = 0; j < i; ++j) {
        const double *prev = &a[j * m];
        double dot = 0;
        for (int64_t k = 0; k < m; ++k)
          dot += row[k] * prev[k];
        for (int64_t k = 0; k < m; ++k)
          row[k] -= dot * prev[k];
      }
    double norm = 0;
    for (int64_t k = 0; k < m; ++k)
      norm += row[k] * row[k];
    norm = std::sqrt(norm);
    for (int64_t k = 0; k < m; ++k)
      row[k] /= norm;
  }
  return a;
}

} // namespace

llvm::Expected<HadamardRotation> HadamardRotation::create(int64_t size,
                                                          uint64_t seed) {
  if (size <= 0)
    return llvm::createStringError("a rotation needs a positive size, got " +
                                   std::to_string(size));
  HadamardRotation r;
  r.n = size;
  r.p = 1;
  while (size % (2 * r.p) == 0)
    r.p *= 2;
  r.m = size / r.p;
  if (r.m > kMaxOddFactor)
    return llvm::createStringError(
        "a Hadamard rotation of " + std::to_string(size) + " features needs a " +
        std::to_string(r.m) + " x " + std::to_string(r.m) +
        " orthogonal factor (odd part of the size); at most " +
        std::to_string(kMaxOddFactor) + " is supported");
  std::mt19937_64 rng(seed);
  r.signs.resize(size);
  for (double &s : r.signs)
    s = (rng() >> 63) ? -1.0 : 1.0;
  if (r.m > 1)
    r.odd = randomOrthogonal(r.m, rng);
  return r;
}

void HadamardRotation::apply(llvm::MutableArrayRef<double> v) const {
  for (int64_t i = 0; i < n; ++i)
    v[i] *= signs[i];
  // Element a * m + b is block a, position b: v (H (x) R) multiplies every
  // block by R on the right, then mixes the blocks by H.
  if (m > 1) {
    std::vector<double> block(m);
    for (int64_t a = 0; a < p; ++a) {
      double *x = &v[a * m];
      for (int64_t b = 0; b < m; ++b) {
        double sum = 0;
        for (int64_t k = 0; k < m; ++k)
          sum += x[k] * odd[k * m + b];
        block[b] = sum;
      }
      std::copy(block.begin(), block.end(), x);
    }
  }
  for (int64_t h = 1; h < p; h *= 2)
    for (int64_t a = 0; a < p; a += 2 * h)
      for (int64_t j = a; j < a + h; ++j)
        for (int64_t b = 0; b < m; ++b) {
          double x = v[j * m + b], y = v[(j + h) * m + b];
          v[j * m + b] = x + y;
          v[(j + h) * m + b] = x - y;
        }
  const double scale = 1.0 / std::sqrt(static_cast<double>(p));
  for (int64_t i = 0; i < n; ++i)
    v[i] *= scale;
}

} // namespace qtc::quant
