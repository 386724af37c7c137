//===- Artifact.h - A loaded and verified .qtc artifact -------------------===//
//
// Artifact::open maps a .qtc file (layout: runtime/schema/artifact.fbs and
// ArtifactFormat.h), runs the FlatBuffers verifier over its table, then checks
// what the verifier cannot: schema version, tensor bounds, sizes and shapes,
// a sane model config, a plan whose steps read and write valid slots with
// weights of the shapes their kind needs, kernels for every listed target,
// and a KV-cache spec matching the config. Anything a backend reads from an
// Artifact has passed these checks, so backends index without re-checking.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_ARTIFACT_H
#define QTC_RT_ARTIFACT_H

#include "qtc/rt/ArtifactFormat.h"
#include "qtc/rt/Status.h"
#include "qtc/rt/artifact_generated.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qtc::rt {

class MappedFile;

// Bytes per cached key or value element.
inline size_t kvElementBytes(fb::KvDType dtype) {
  switch (dtype) {
  case fb::KvDType::F8E4M3:
    return 1;
  case fb::KvDType::F16:
    return 2;
  case fb::KvDType::F32:
    return 4;
  }
  return 4;
}

// Bytes that `numElements` elements of `dtype` occupy (i4: two per byte,
// rounded up). Returns false on an unknown dtype or overflow.
bool dtypeStorageBytes(fb::DType dtype, uint64_t numElements, uint64_t &bytes);
const char *dtypeName(fb::DType dtype);
const char *stepKindName(fb::StepKind kind);

class Artifact {
public:
  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  // Maps and verifies the file at `path`. Errors name the file and what is
  // wrong with it (byte offset, tensor name, step index).
  static StatusOr<std::unique_ptr<Artifact>> open(const std::string &path);
  // Verifies an artifact held in memory (tests, fuzzers); takes the bytes.
  static StatusOr<std::unique_ptr<Artifact>>
  fromBytes(std::vector<uint8_t> bytes, std::string name = "<memory>");

  // The file path, or the name given to fromBytes.
  const std::string &name() const { return name_; }
  uint64_t fileSize() const { return size_; }

  const fb::Artifact &root() const { return *root_; }
  const fb::ModelConfig &config() const { return *root_->config(); }
  const fb::Plan &plan() const { return *root_->plan(); }
  const fb::KvCacheSpec &kvCache() const { return *root_->kv_cache(); }

  int numTensors() const { return static_cast<int>(root_->tensors()->size()); }
  const fb::TensorInfo &tensor(int index) const { return *root_->tensors()->Get(index); }
  // The tensor's bytes (tensor(index).size() of them), 256-byte aligned.
  const uint8_t *tensorData(int index) const { return weights_ + tensor(index).offset(); }
  std::vector<int64_t> tensorShape(int index) const;

  const uint8_t *weights() const { return weights_; }
  uint64_t weightsSize() const { return root_->weights_size(); }
  // The SentencePiece model, empty when the artifact has none.
  std::string_view tokenizerModel() const;

private:
  Artifact() = default;
  static StatusOr<std::unique_ptr<Artifact>> verify(std::unique_ptr<Artifact> artifact);

  std::string name_;
  std::unique_ptr<MappedFile> mapped_;
  std::vector<uint8_t> owned_;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  const fb::Artifact *root_ = nullptr;
  const uint8_t *weights_ = nullptr;
};

} // namespace qtc::rt

#endif // QTC_RT_ARTIFACT_H
