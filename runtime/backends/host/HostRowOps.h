//===- HostRowOps.h - Row-wise steps of the host backend ------------------===//
//
// Embedding, RmsNorm, SwiGlu, Add and GatherRows over row-major f32 slots,
// exactly as runtime/schema/artifact.fbs defines them.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTROWOPS_H
#define QTC_RT_BACKENDS_HOST_HOSTROWOPS_H

#include <cstdint>

namespace qtc::rt::host {

// out[t, :] = table[ids[t], :]
void embedding(const float *table, int width, const int32_t *ids, int rows, float *out);
// out = x * rsqrt(mean(x^2) + eps) * w, per row; mean taken in double.
void rmsNorm(const float *x, const float *w, int rows, int width, float eps, float *out);
// out[:, :F] = silu(x[:, :F]) * x[:, F:], x of width 2F.
void swiGlu(const float *x, int rows, int F, float *out);
// out = a + b over `count` elements.
void add(const float *a, const float *b, long count, float *out);
// out[r, :] = x[rowIds[r], :]
void gatherRows(const float *x, int width, const int32_t *rowIds, int numRows, float *out);

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_HOSTROWOPS_H
