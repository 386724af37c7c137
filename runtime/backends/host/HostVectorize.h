//===- HostVectorize.h - Portable SIMD for the host backend's hot loops ---===//
//
// The hot loops are built twice on x86-64, for AVX2+FMA machines and for any
// other, and the loader picks one (target_clones): the tools must run on other
// machines than the one that built them. Vectors are GCC/Clang vector
// extensions rather than intrinsics so one source serves every clone; they
// are written out because auto-vectorizers pick the wrong loop of these nests.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTVECTORIZE_H
#define QTC_RT_BACKENDS_HOST_HOSTVECTORIZE_H

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QTC_HOST_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define QTC_HOST_TARGET_CLONES
#endif

#define QTC_HOST_INLINE inline __attribute__((always_inline))

namespace qtc::rt::host {

// Eight floats: one AVX register, or two SSE ones.
typedef float Float8 __attribute__((vector_size(32)));

// By reference: a vector returned by value would tie the helper to one ABI
// across the target clones.
QTC_HOST_INLINE void load8(Float8 &v, const float *p) { std::memcpy(&v, p, sizeof(v)); }
QTC_HOST_INLINE void store8(float *p, const Float8 &v) { std::memcpy(p, &v, sizeof(v)); }

QTC_HOST_INLINE float sum8(const Float8 &v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_HOSTVECTORIZE_H
