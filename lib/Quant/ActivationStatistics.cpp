//===- ActivationStatistics.cpp - What calibration learns of an input -----===//

#include "qtc/Quant/ActivationStatistics.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace qtc::quant;

ActivationStatistics::ActivationStatistics(int64_t width)
    : width_(width), upper_(static_cast<size_t>(width * width), 0.0),
      absMax_(width, 0.0f), sumAbs_(width, 0.0) {}

namespace {

// Built for AVX2+FMA and for any x86-64, picked at load time, as the host
// backend's hot loops are (runtime/backends/host/HostVectorize.h): the tools
// must run on other machines than the one that built them.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QTC_QUANT_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define QTC_QUANT_TARGET_CLONES
#endif

typedef float Float8 __attribute__((vector_size(32)));

// upper[i, j] += sum_r x[r, i] x[r, j] for j >= i over `rows` rows of `x`
// (finite, row-major, `w` wide). Each row block sums in f32 (a few dozen
// terms, far below f32's error for a statistic) and lands in the f64 total.
QTC_QUANT_TARGET_CLONES
void addGramBlock(const float *x, int64_t rows, int64_t w, double *upper,
                  float *acc) {
  for (int64_t i = 0; i < w; ++i) {
    const int64_t n = w - i;
    std::fill(acc, acc + n, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const float xi = x[r * w + i];
      if (xi == 0.0f)
        continue;
      const float *xr = x + r * w + i;
      const Float8 b = {xi, xi, xi, xi, xi, xi, xi, xi};
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) {
        Float8 a, v;
        std::memcpy(&a, acc + j, sizeof a);
        std::memcpy(&v, xr + j, sizeof v);
        a += b * v;
        std::memcpy(acc + j, &a, sizeof a);
      }
      for (; j < n; ++j)
        acc[j] += xi * xr[j];
    }
    double *h = upper + i * w + i;
    for (int64_t j = 0; j < n; ++j)
      h[j] += acc[j];
  }
}

constexpr int64_t kGramBlockRows = 64;

} // namespace

void ActivationStatistics::accumulate(const float *rows, int64_t numRows) {
  const int64_t w = width_;
  std::vector<float> block(static_cast<size_t>(kGramBlockRows * w));
  std::vector<float> acc(w);
  for (int64_t r0 = 0; r0 < numRows; r0 += kGramBlockRows) {
    const int64_t n = std::min(kGramBlockRows, numRows - r0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < w; ++i) {
        float v = rows[(r0 + r) * w + i];
        if (!std::isfinite(v)) {
          ++nonFinite_;
          v = 0.0f;
        }
        block[r * w + i] = v;
        absMax_[i] = std::max(absMax_[i], std::fabs(v));
        sumAbs_[i] += std::fabs(v);
      }
    addGramBlock(block.data(), n, w, upper_.data(), acc.data());
  }
  rows_ += numRows;
}

std::vector<double> ActivationStatistics::gram() const {
  std::vector<double> full(upper_);
  for (int64_t i = 0; i < width_; ++i)
    for (int64_t j = 0; j < i; ++j)
      full[i * width_ + j] = upper_[j * width_ + i];
  return full;
}

std::vector<double> ActivationStatistics::meanAbs() const {
  std::vector<double> mean(width_, 0.0);
  if (rows_ > 0)
    for (int64_t i = 0; i < width_; ++i)
      mean[i] = sumAbs_[i] / static_cast<double>(rows_);
  return mean;
}

ActivationStatistics
ActivationStatistics::scaled(llvm::ArrayRef<double> factors) const {
  ActivationStatistics out(*this);
  for (int64_t i = 0; i < width_; ++i) {
    out.absMax_[i] = static_cast<float>(absMax_[i] * std::fabs(factors[i]));
    out.sumAbs_[i] = sumAbs_[i] * std::fabs(factors[i]);
    for (int64_t j = i; j < width_; ++j)
      out.upper_[i * width_ + j] = upper_[i * width_ + j] * factors[i] * factors[j];
  }
  return out;
}
