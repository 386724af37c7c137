//===- HostGemm.h - The host backend's matrix multiply --------------------===//
//
// y[rows, N] = x[rows, K] * W^T (+ bias) (+ residual) in f32. W is repacked at
// prepare() to [K, N rounded up to the column tile] so the inner loop is a
// broadcast-multiply-add over contiguous columns, a 4 x 16 tile of y held in
// vector registers (HostVectorize.h). Every output accumulates over k in
// order, the same way whatever else is in the batch, so batched and
// single-sequence runs agree bit for bit. Hand-written rather than a BLAS:
// the runtime takes no BLAS dependency, and this reaches most of a core's
// f32 peak at the oracle's model sizes.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTGEMM_H
#define QTC_RT_BACKENDS_HOST_HOSTGEMM_H

#include <vector>

namespace qtc::rt::host {

class PackedLinear {
public:
  // `weight` is [outFeatures, inFeatures] row-major; `bias` empty or [out].
  PackedLinear(const std::vector<float> &weight, int outFeatures, int inFeatures,
               std::vector<float> bias);

  int inFeatures() const { return in_; }
  int outFeatures() const { return out_; }

  // y = x W^T + bias + residual; `residual` may be null or equal `y`, never
  // `x`. Splits the columns over up to `maxThreads` threads when large.
  void run(const float *x, int rows, const float *residual, float *y, int maxThreads) const;

private:
  int in_ = 0, out_ = 0, paddedOut_ = 0;
  std::vector<float> packed_; // [in_, paddedOut_]
  std::vector<float> bias_;
};

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_HOSTGEMM_H
