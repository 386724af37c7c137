//===- WeightsChecksum.h - The checksum of a separate weights file --------===//
//
// Artifact.weights_file.checksum (runtime/schema/artifact.fbs) is XXH3-64
// with seed 0 of the weights file's bytes. The compiler's writer (lib/Artifact)
// computes it while laying the section out, the runtime when it maps the
// file; both include this header, so the two sides cannot disagree.
//
// xxHash is used header-only (XXH_INLINE_ALL): its functions are compiled
// into the including translation unit, so qtc-run and libqtcrt.so carry no
// libxxhash.so to the GPU machine, which has no package manager.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_WEIGHTSCHECKSUM_H
#define QTC_RT_WEIGHTSCHECKSUM_H

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstddef>
#include <cstdint>

namespace qtc::rt {

// Incremental XXH3-64: update() with consecutive pieces of the file gives
// the digest of their concatenation.
class WeightsChecksum {
public:
  WeightsChecksum() { XXH3_64bits_reset(&state_); }
  void update(const void *data, size_t size) { XXH3_64bits_update(&state_, data, size); }
  uint64_t digest() const { return XXH3_64bits_digest(&state_); }

private:
  XXH3_state_t state_;
};

inline uint64_t weightsChecksum(const void *data, size_t size) { return XXH3_64bits(data, size); }

} // namespace qtc::rt

#endif // QTC_RT_WEIGHTSCHECKSUM_H
