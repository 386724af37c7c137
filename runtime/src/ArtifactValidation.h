//===- ArtifactValidation.h - Semantic checks of an artifact --------------===//
//
// Runs after the FlatBuffers verifier: every rule the schema states in its
// comments (runtime/schema/artifact.fbs) is checked here.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SRC_ARTIFACTVALIDATION_H
#define QTC_RT_SRC_ARTIFACTVALIDATION_H

#include "qtc/rt/Status.h"
#include "qtc/rt/artifact_generated.h"

namespace qtc::rt {

// `artifact` has passed the FlatBuffers verifier; its weights section,
// wherever it lives (in the artifact, in its weights file, or nowhere with
// dummy weights), holds artifact.weights_size() bytes.
Status validateArtifact(const fb::Artifact &artifact);

} // namespace qtc::rt

#endif // QTC_RT_SRC_ARTIFACTVALIDATION_H
