//===- Gptq.cpp - GPTQ group-wise integer weight quantization -------------===//
//
// The linear algebra is plain C++ in double rather than a LAPACK call: Debian's
// LAPACK is not a dependency of this project, and the Hessians are at most a
// few thousand wide, where O(n^3) loops whose inner loop runs along a
// contiguous row (so it vectorizes and streams through the cache) do: one
// core factors a 1024-wide Hessian in about 0.07 s, a 4096-wide one in 3.5 s.
//
//===----------------------------------------------------------------------===//

#include "qtc/Quant/Gptq.h"

#include "qtc/Quant/Float16.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

using namespace qtc::quant;

namespace {

/// Rows swept together: each row of the inverse Hessian's factor is read once
/// per tile rather than once per row, while the tile's rows stay in cache.
constexpr int64_t kRowTile = 16;

/// Rows of the factorization updated together (see invertToUpperFactor):
/// 32 rows of a few thousand doubles stay in a core's L2.
constexpr int64_t kPanel = 32;

/// Symmetry tolerance, relative to sqrt(H[i, i] H[j, j]) (which bounds
/// |H[i, j]| for a positive semidefinite H): sums accumulated in different
/// orders may differ in their last bits, a transposed layout would not.
constexpr double kSymmetryTolerance = 1e-6;

/// Damping is raised 10x per retry while it stays at most this fraction of
/// mean(diag H); past it the damping, not H, would decide the updates.
constexpr double kMaxDampening = 1.0;

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// `value` as printf's %g writes it: short and exact enough for a message.
std::string printed(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

/// Checks that `h` can be a Hessian sum x x^T over inputs of `n` channels.
llvm::Error verifyHessian(llvm::ArrayRef<double> h, int64_t n) {
  if (h.size() != static_cast<size_t>(n) * n)
    return fail("hessian holds " + llvm::Twine(h.size()) +
                " values, expected " + llvm::Twine(n) + "x" + llvm::Twine(n) +
                " (the weight's input features)");
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (!std::isfinite(h[i * n + j]))
        return fail("hessian [" + llvm::Twine(i) + ", " + llvm::Twine(j) +
                    "] is not finite");
  for (int64_t i = 0; i < n; ++i) {
    double diagonal = h[i * n + i];
    if (diagonal < 0.0)
      return fail("hessian [" + llvm::Twine(i) + ", " + llvm::Twine(i) +
                  "] is negative (" + printed(diagonal) +
                  "); a sum of x x^T has a non-negative diagonal");
    for (int64_t j = 0; j < i; ++j) {
      double lower = h[i * n + j], upper = h[j * n + i];
      if (std::fabs(lower - upper) >
          kSymmetryTolerance * std::sqrt(diagonal * h[j * n + j]))
        return fail("hessian is not symmetric: [" + llvm::Twine(i) + ", " +
                    llvm::Twine(j) + "] is " + printed(lower) + " but [" +
                    llvm::Twine(j) + ", " + llvm::Twine(i) + "] is " +
                    printed(upper));
    }
    // An input that was always 0 contributes 0 to its whole row.
    if (diagonal == 0.0)
      for (int64_t j = 0; j < n; ++j)
        if (h[i * n + j] != 0.0)
          return fail("hessian [" + llvm::Twine(i) + ", " + llvm::Twine(i) +
                      "] is 0 but [" + llvm::Twine(i) + ", " + llvm::Twine(j) +
                      "] is not; a sum of x x^T cannot have that");
  }
  return llvm::Error::success();
}

/// The damped Hessian in sweep order: H[order[i], order[j]], with dead
/// channels' diagonal 1 (as the reference, so it stays invertible) and `damp`
/// added to the diagonal.
std::vector<double> dampedHessian(llvm::ArrayRef<double> h,
                                  llvm::ArrayRef<int64_t> order, double damp) {
  auto n = static_cast<int64_t>(order.size());
  std::vector<double> a(static_cast<size_t>(n) * n);
  for (int64_t i = 0; i < n; ++i) {
    const double *source = &h[order[i] * n];
    double *row = &a[i * n];
    for (int64_t j = 0; j < n; ++j)
      row[j] = source[order[j]];
    if (row[i] == 0.0)
      row[i] = 1.0;
    row[i] += damp;
  }
  return a;
}

/// y[0, n) -= f * x[0, n): the inner loop of everything here. The arrays never
/// overlap, and saying so lets the compiler vectorize without a runtime check.
inline void subtractScaled(double *__restrict y, const double *__restrict x,
                           double f, int64_t n) {
  for (int64_t c = 0; c < n; ++c)
    y[c] -= f * x[c];
}

/// y[0, n) -= f[0] x[0][0, n) + f[1] x[1][0, n) + ..., subtracting in that
/// order (so exactly as one subtractScaled per row would) but four rows per
/// pass over y: y is loaded and stored a quarter as often. The update of a
/// row by a block of rows, where the O(n^3) work is.
void subtractScaledRows(double *__restrict y, llvm::ArrayRef<const double *> x,
                        const double *f, int64_t n) {
  size_t r = 0;
  for (; r + 4 <= x.size(); r += 4) {
    const double *__restrict x0 = x[r], *__restrict x1 = x[r + 1];
    const double *__restrict x2 = x[r + 2], *__restrict x3 = x[r + 3];
    const double f0 = f[r], f1 = f[r + 1], f2 = f[r + 2], f3 = f[r + 3];
    for (int64_t c = 0; c < n; ++c)
      y[c] = y[c] - f0 * x0[c] - f1 * x1[c] - f2 * x2[c] - f3 * x3[c];
  }
  for (; r < x.size(); ++r)
    subtractScaled(y, x[r], f[r], n);
}

/// Replaces the symmetric positive definite `a` (n x n row-major; its lower
/// triangle is read) with the upper triangular U, zeros below the diagonal,
/// for which U^T U = a^-1: the upper Cholesky factor of the inverse that the
/// reference computes as cholesky(cholesky_inverse(cholesky(H)), upper=True).
/// That factor is unique, and this shorter route reaches it with half the
/// work and without forming a^-1: a = W^T W with W lower triangular gives
/// a^-1 = W^-1 W^-T, so U = (W^-1)^T. Returns false where `a` is not positive
/// definite to working precision.
///
/// Both O(n^3) steps go kPanel rows at a time, so each row they update is
/// loaded once per panel rather than once per row of it; every element still
/// sees its updates in the unblocked order.
bool invertToUpperFactor(std::vector<double> &a, int64_t n) {
  // a = W^T W: Cholesky from the last row up, W overwriting the lower
  // triangle. Row j of W is row j of what is left, over sqrt of its pivot;
  // removing its outer product from the rows above runs along their rows.
  for (int64_t hi = n - 1; hi >= 0; hi -= kPanel) {
    const int64_t lo = std::max<int64_t>(0, hi - kPanel + 1);
    for (int64_t j = hi; j >= lo; --j) {
      double *rowJ = &a[j * n];
      double pivot = rowJ[j];
      if (!(pivot > 0.0) || !std::isfinite(pivot))
        return false;
      double root = std::sqrt(pivot);
      for (int64_t c = 0; c < j; ++c)
        rowJ[c] /= root;
      rowJ[j] = root;
      for (int64_t i = lo; i < j; ++i)
        subtractScaled(&a[i * n], rowJ, rowJ[i], i + 1);
    }
    // The panel's rows, last first as above, update each row before it.
    std::vector<const double *> panel;
    for (int64_t j = hi; j >= lo; --j)
      panel.push_back(&a[j * n]);
    double factors[kPanel];
    for (int64_t i = 0; i < lo; ++i) {
      for (size_t r = 0; r < panel.size(); ++r)
        factors[r] = panel[r][i];
      subtractScaledRows(&a[i * n], panel, factors, i + 1);
    }
  }
  // Z = W^-1, row by row in place: W Z = I gives
  // Z[i] = (e_i - sum_{k<i} W[i, k] Z[k]) / W[i, i], rows k < i done already
  // (and zero past their diagonal, so a run of them shares one length).
  std::vector<double> z(kPanel * n);
  std::vector<const double *> rows(n);
  for (int64_t k = 0; k < n; ++k)
    rows[k] = &a[k * n];
  for (int64_t lo = 0; lo < n; lo += kPanel) {
    const int64_t hi = std::min(n, lo + kPanel);
    for (int64_t i = lo; i < hi; ++i) {
      double *zi = &z[(i - lo) * n];
      std::fill(zi, zi + i, 0.0);
      zi[i] = 1.0;
    }
    // The rows before the panel, a panel's worth at a time for every row of
    // this one.
    for (int64_t k = 0; k < lo; k += kPanel)
      for (int64_t i = lo; i < hi; ++i)
        subtractScaledRows(&z[(i - lo) * n],
                           llvm::ArrayRef(rows).slice(k, kPanel), &a[i * n + k],
                           k + kPanel);
    for (int64_t i = lo; i < hi; ++i) {
      double *zi = &z[(i - lo) * n];
      double *rowI = &a[i * n];
      subtractScaledRows(zi, llvm::ArrayRef(rows).slice(lo, i - lo), rowI + lo,
                         i);
      for (int64_t c = 0; c <= i; ++c)
        rowI[c] = zi[c] / rowI[i];
      std::fill(rowI + i + 1, rowI + n, 0.0);
    }
  }
  // U = Z^T.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < i; ++c)
      std::swap(a[c * n + i], a[i * n + c]);
  return std::all_of(a.begin(), a.end(),
                     [](double v) { return std::isfinite(v); });
}

/// What every row's sweep shares, read-only.
struct Sweep {
  llvm::ArrayRef<float> weight; // [out, in], original column order
  int64_t inFeatures = 0;
  int64_t groupSize = 0;
  int64_t blockSize = 0; // a multiple of groupSize unless staticGroups
  int bits = 4;
  bool symmetric = true;
  bool staticGroups = false;  // grids from the original weights
  std::vector<int64_t> order; // sweep position -> original column
  std::vector<uint8_t> dead;  // by original column: H[i, i] was 0
  std::vector<double> factor; // U, [in, in] in sweep order
};

llvm::Error groupFailure(int64_t row, int64_t group, llvm::Error error) {
  return fail("row " + llvm::Twine(row) + ", group " + llvm::Twine(group) +
              ": " + llvm::toString(std::move(error)));
}

/// Quantizes rows [rowBegin, rowEnd) into `out`, whose buffers are sized; the
/// rows' slices of them are written by this call alone.
llvm::Error quantizeRows(const Sweep &sweep, int64_t rowBegin, int64_t rowEnd,
                         IntGroupWeight &out) {
  const int64_t n = sweep.inFeatures, groupSize = sweep.groupSize;
  const int64_t groups = n / groupSize, blockSize = sweep.blockSize;
  std::vector<double> current(kRowTile * n); // tile rows, sweep order
  std::vector<double> errors(kRowTile * blockSize);
  std::vector<IntGrid> grids(kRowTile * groups);
  std::vector<uint8_t> codes(kRowTile * n); // original column order
  std::vector<float> groupValues(groupSize);

  for (int64_t tileBegin = rowBegin; tileBegin < rowEnd;
       tileBegin += kRowTile) {
    const int64_t rows = std::min(kRowTile, rowEnd - tileBegin);
    for (int64_t t = 0; t < rows; ++t) {
      llvm::ArrayRef<float> original =
          sweep.weight.slice((tileBegin + t) * n, n);
      for (int64_t p = 0; p < n; ++p) {
        int64_t col = sweep.order[p];
        current[t * n + p] = sweep.dead[col] ? 0.0 : original[col];
      }
      if (!sweep.staticGroups)
        continue;
      for (int64_t group = 0; group < groups; ++group) {
        for (int64_t k = 0; k < groupSize; ++k) {
          int64_t col = group * groupSize + k;
          groupValues[k] = sweep.dead[col] ? 0.0f : original[col];
        }
        llvm::Expected<IntGrid> grid =
            intGroupGrid(groupValues, sweep.bits, sweep.symmetric);
        if (!grid)
          return groupFailure(tileBegin + t, group, grid.takeError());
        grids[t * groups + group] = *grid;
      }
    }

    for (int64_t i1 = 0; i1 < n; i1 += blockSize) {
      const int64_t i2 = std::min(i1 + blockSize, n);
      // Inside the block, column by column: quantize, then spread the error
      // over the block's later columns.
      for (int64_t i = i1; i < i2; ++i) {
        const double *u = &sweep.factor[i * n];
        const int64_t col = sweep.order[i], group = col / groupSize;
        for (int64_t t = 0; t < rows; ++t) {
          double *w = &current[t * n];
          // Without act-order the sweep is in column order, and a group's
          // columns all lie in this block and have every update so far.
          if (!sweep.staticGroups && col % groupSize == 0) {
            for (int64_t k = 0; k < groupSize; ++k)
              groupValues[k] = static_cast<float>(w[i + k]);
            llvm::Expected<IntGrid> grid =
                intGroupGrid(groupValues, sweep.bits, sweep.symmetric);
            if (!grid)
              return groupFailure(tileBegin + t, group, grid.takeError());
            grids[t * groups + group] = *grid;
          }
          const IntGrid &grid = grids[t * groups + group];
          double value = w[i];
          if (!std::isfinite(value))
            return fail("row " + llvm::Twine(tileBegin + t) +
                        ": the GPTQ update of column " + llvm::Twine(col) +
                        " is not finite");
          uint8_t code = intCode(value, grid);
          codes[t * n + col] = code;
          double error = (value - intValue(code, grid)) / u[i];
          errors[t * blockSize + (i - i1)] = error;
          subtractScaled(w + i + 1, u + i + 1, error, i2 - i - 1);
        }
      }
      // The block's errors reach the later columns in one product,
      // W[:, i2:] -= Err @ U[i1:i2, i2:], along rows of U and of W.
      if (i2 == n)
        break;
      std::vector<const double *> block;
      for (int64_t k = i1; k < i2; ++k)
        block.push_back(&sweep.factor[k * n + i2]);
      for (int64_t k = 0; k < i2 - i1; k += kPanel) {
        llvm::ArrayRef<const double *> some =
            llvm::ArrayRef(block).slice(k, std::min(kPanel, i2 - i1 - k));
        for (int64_t t = 0; t < rows; ++t)
          subtractScaledRows(&current[t * n + i2], some,
                             &errors[t * blockSize + k], n - i2);
      }
    }

    for (int64_t t = 0; t < rows; ++t) {
      int64_t row = tileBegin + t;
      for (int64_t group = 0; group < groups; ++group) {
        const IntGrid &grid = grids[t * groups + group];
        out.scales[row * groups + group] = grid.scaleBits;
        if (!sweep.symmetric)
          out.zeros[row * groups + group] = toHalfBits(grid.zero);
      }
      std::copy_n(codes.begin() + t * n, n, out.codes.begin() + row * n);
    }
  }
  return llvm::Error::success();
}

llvm::Error verifyOptions(const GptqOptions &options) {
  if (options.blockSize <= 0)
    return fail("GPTQ block size must be positive, got " +
                llvm::Twine(options.blockSize));
  if (!std::isfinite(options.dampening) || options.dampening < 0.0)
    return fail("GPTQ dampening must be a finite fraction >= 0, got " +
                printed(options.dampening));
  if (options.threads < 0)
    return fail("GPTQ thread count must be >= 0, got " +
                llvm::Twine(options.threads));
  return llvm::Error::success();
}

} // namespace

llvm::Expected<IntGroupWeight> qtc::quant::quantizeIntGroupGptq(
    llvm::ArrayRef<float> weight, int64_t outFeatures, int64_t inFeatures,
    llvm::ArrayRef<double> hessian, const GptqOptions &options) {
  const int64_t n = inFeatures, groupSize = options.grid.groupSize;
  if (llvm::Error error =
          verifyIntGroupShape(outFeatures, n, groupSize, options.grid.bits))
    return std::move(error);
  if (weight.size() != static_cast<size_t>(outFeatures) * n)
    return fail("weight holds " + llvm::Twine(weight.size()) +
                " values, expected " + llvm::Twine(outFeatures) + "x" +
                llvm::Twine(n));
  if (llvm::Error error = verifyOptions(options))
    return std::move(error);
  if (llvm::Error error = verifyHessian(hessian, n))
    return std::move(error);
  for (size_t i = 0; i < weight.size(); ++i)
    if (!std::isfinite(weight[i]))
      return fail("weight [" + llvm::Twine(i / n) + ", " + llvm::Twine(i % n) +
                  "] is not finite");

  Sweep sweep;
  sweep.weight = weight;
  sweep.inFeatures = n;
  sweep.groupSize = groupSize;
  sweep.bits = options.grid.bits;
  sweep.symmetric = options.grid.symmetric;
  sweep.staticGroups = options.actOrder;
  // Whole groups per block keep a group's columns together while its grid is
  // chosen from their updated values; static grids need no such care.
  sweep.blockSize = std::min(options.blockSize, n);
  if (!sweep.staticGroups)
    sweep.blockSize = (sweep.blockSize + groupSize - 1) / groupSize * groupSize;

  std::vector<double> diagonal(n);
  sweep.dead.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    sweep.dead[i] = hessian[i * n + i] == 0.0;
    diagonal[i] = sweep.dead[i] ? 1.0 : hessian[i * n + i];
  }
  sweep.order.resize(n);
  std::iota(sweep.order.begin(), sweep.order.end(), 0);
  if (options.actOrder)
    std::stable_sort(
        sweep.order.begin(), sweep.order.end(),
        [&](int64_t a, int64_t b) { return diagonal[a] > diagonal[b]; });

  double meanDiagonal =
      std::accumulate(diagonal.begin(), diagonal.end(), 0.0) / n;
  double dampening = options.dampening;
  for (;;) {
    sweep.factor =
        dampedHessian(hessian, sweep.order, dampening * meanDiagonal);
    if (invertToUpperFactor(sweep.factor, n))
      break;
    // Zero dampening has nothing to scale: retry from the default's.
    double next = dampening > 0.0 ? 10.0 * dampening : GptqOptions().dampening;
    if (next > kMaxDampening * (1.0 + 1e-9))
      return fail("hessian is not positive definite, even with " +
                  printed(dampening) +
                  " of its mean diagonal added to the diagonal");
    dampening = next;
  }

  IntGroupWeight result;
  result.outFeatures = outFeatures;
  result.inFeatures = n;
  result.groupSize = groupSize;
  result.bits = options.grid.bits;
  result.symmetric = options.grid.symmetric;
  result.codes.resize(static_cast<size_t>(outFeatures) * n);
  result.scales.resize(static_cast<size_t>(outFeatures) *
                       result.groupsPerRow());
  if (!result.symmetric)
    result.zeros.resize(result.scales.size());

  int64_t threads = options.threads;
  if (threads == 0)
    threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 2);
  threads = std::min(threads, outFeatures);
  const int64_t rowsPerThread = (outFeatures + threads - 1) / threads;
  std::vector<std::string> failures(threads);
  auto work = [&](int64_t index) {
    int64_t begin = index * rowsPerThread;
    int64_t end = std::min(outFeatures, begin + rowsPerThread);
    if (llvm::Error error = quantizeRows(sweep, begin, end, result))
      failures[index] = llvm::toString(std::move(error));
  };
  std::vector<std::thread> pool;
  for (int64_t index = 1; index < threads; ++index)
    pool.emplace_back(work, index);
  work(0);
  for (std::thread &thread : pool)
    thread.join();
  for (const std::string &failure : failures)
    if (!failure.empty())
      return fail(failure);
  return result;
}

llvm::Expected<double> qtc::quant::hessianWeightedError(
    llvm::ArrayRef<float> weight, llvm::ArrayRef<float> dequantized,
    int64_t outFeatures, int64_t inFeatures, llvm::ArrayRef<double> hessian) {
  const int64_t n = inFeatures;
  if (outFeatures <= 0 || n <= 0)
    return fail("hessian-weighted error needs a positive shape, got " +
                llvm::Twine(outFeatures) + "x" + llvm::Twine(n));
  size_t size = static_cast<size_t>(outFeatures) * n;
  if (weight.size() != size || dequantized.size() != size)
    return fail("weight and dequantized weight hold " +
                llvm::Twine(weight.size()) + " and " +
                llvm::Twine(dequantized.size()) + " values, expected " +
                llvm::Twine(outFeatures) + "x" + llvm::Twine(n));
  if (llvm::Error error = verifyHessian(hessian, n))
    return std::move(error);

  // Per tile of rows: V = dW H by rows of H, then the rows' dot products
  // with dW.
  std::vector<double> delta(kRowTile * n), product(kRowTile * n);
  double total = 0.0;
  for (int64_t tileBegin = 0; tileBegin < outFeatures; tileBegin += kRowTile) {
    const int64_t rows = std::min(kRowTile, outFeatures - tileBegin);
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t j = 0; j < n; ++j) {
        size_t at = (tileBegin + t) * n + j;
        delta[t * n + j] = static_cast<double>(dequantized[at]) -
                           static_cast<double>(weight[at]);
      }
    std::fill(product.begin(), product.end(), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      const double *h = &hessian[i * n];
      for (int64_t t = 0; t < rows; ++t) {
        double d = delta[t * n + i];
        double *v = &product[t * n];
        for (int64_t j = 0; j < n; ++j)
          v[j] += d * h[j];
      }
    }
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t j = 0; j < n; ++j)
        total += product[t * n + j] * delta[t * n + j];
  }
  return total;
}
