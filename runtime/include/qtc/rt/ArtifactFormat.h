//===- ArtifactFormat.h - Constants of the .qtc file layout ---------------===//
//
// Shared by the compiler's writer (lib/Artifact) and the runtime's loader.
// The layout is described at the top of runtime/schema/artifact.fbs.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_ARTIFACTFORMAT_H
#define QTC_RT_ARTIFACTFORMAT_H

#include <cstddef>
#include <cstdint>

namespace qtc::rt {

// First 8 bytes of every artifact.
inline constexpr char kArtifactMagic[8] = {'Q', 'T', 'C', 'A', 'R', 'T', '0', '1'};
// magic + u64 FlatBuffer size.
inline constexpr size_t kArtifactHeaderSize = 16;
// The weights section and every tensor in it start on this alignment.
inline constexpr size_t kWeightsAlignment = 256;
// Artifact.schema_version; bump on any incompatible schema change.
inline constexpr uint32_t kSchemaVersion = 1;

inline constexpr size_t alignUp(size_t value, size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

} // namespace qtc::rt

#endif // QTC_RT_ARTIFACTFORMAT_H
