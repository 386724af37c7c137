//===- ArtifactWriter.h - Serialize an artifact to a .qtc file ------------===//
#ifndef QTC_ARTIFACT_ARTIFACTWRITER_H
#define QTC_ARTIFACT_ARTIFACTWRITER_H

#include "qtc/Artifact/ArtifactContents.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace qtc::artifact {

// Writes `contents` to `path` in the layout described at the top of
// runtime/schema/artifact.fbs. A partly written file is removed on failure.
mlir::LogicalResult writeArtifact(const ArtifactContents &contents,
                                  llvm::StringRef path, mlir::Location loc);

// The same bytes, to a stream (the JIT API keeps them in memory).
void serializeArtifact(const ArtifactContents &contents, llvm::raw_ostream &os);

} // namespace qtc::artifact

#endif // QTC_ARTIFACT_ARTIFACTWRITER_H
