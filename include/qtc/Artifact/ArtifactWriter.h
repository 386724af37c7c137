//===- ArtifactWriter.h - Serialize an artifact to a .qtc file ------------===//
//
// The layout is described at the top of runtime/schema/artifact.fbs. The
// weights section goes inside the artifact, into a weights file of its own
// (Artifact.weights_file: its path relative to the artifact's directory, its
// size and XXH3-64 checksum), or nowhere (Artifact.dummy_weights).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_ARTIFACT_ARTIFACTWRITER_H
#define QTC_ARTIFACT_ARTIFACTWRITER_H

#include "qtc/Artifact/ArtifactContents.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace qtc::artifact {

struct WriteOptions {
  // The weights section goes to this file (a path as given, resolved
  // against the working directory) instead of the artifact. A file already
  // there with the same size and checksum is left untouched, so a recompile
  // that changes the plan or kernels but not the weights rewrites only the
  // small .qtc file.
  std::string weightsFilePath;
  // No weight bytes at all: the tensor table only, for runs with generated
  // weights (qtc-run --load-format dummy). Excludes weightsFilePath.
  bool dummyWeights = false;
  // One line on what happened to the weights file; null for quiet.
  llvm::raw_ostream *progress = nullptr;
};

// Writes `contents` to `path` (and the weights file `options` names). A
// partly written file is removed on failure; a weights file is replaced
// whole (written beside it, then renamed), so an engine that has the old one
// mapped keeps reading the old bytes.
mlir::LogicalResult writeArtifact(const ArtifactContents &contents,
                                  llvm::StringRef path, mlir::Location loc,
                                  const WriteOptions &options = {});

// A single-file artifact (weights section inside) to a stream: the JIT API
// and calibration keep it in memory. Fails when a produced tensor cannot be
// computed (a non-finite weight) or the stream cannot be written.
llvm::Error serializeArtifact(const ArtifactContents &contents, llvm::raw_ostream &os);

} // namespace qtc::artifact

#endif // QTC_ARTIFACT_ARTIFACTWRITER_H
