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
// The weights come from one of three places (schema: Artifact.weights_file,
// Artifact.dummy_weights): the artifact's own weights section; a separate
// weights file beside it, mapped too and refused when its size or XXH3-64
// checksum differs from what the artifact records; or, with
// LoadFormat::kDummy, nowhere: tensorBytes() generates each tensor
// (src/DummyWeights.h).
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

class DummyWeights;
class MappedFile;

// Where the weights come from (vLLM's --load-format).
enum class LoadFormat {
  // The artifact's: its weights section or its weights file. An artifact
  // compiled without weights (qtc compile --dummy-weights) is refused.
  kAuto,
  // Generated per tensor from the plan (random values at a trained model's
  // scale), whatever the artifact holds; the weights file is not opened.
  // For benchmarks of models whose weights cannot be carried.
  kDummy,
};
const char *loadFormatName(LoadFormat format); // "auto", "dummy"
StatusOr<LoadFormat> parseLoadFormat(std::string_view name);

struct LoadOptions {
  LoadFormat format = LoadFormat::kAuto;
  uint64_t dummySeed = 0; // kDummy: the generated values are a function of it
};

// Bytes per cached key or value element of an F16, F32 or F8E4M3 cache; 0
// for integer caches, whose blocks are pages (qtc/rt/KvMemory.h).
inline size_t kvElementBytes(fb::KvDType dtype) {
  switch (dtype) {
  case fb::KvDType::F8E4M3:
    return 1;
  case fb::KvDType::F16:
    return 2;
  case fb::KvDType::F32:
    return 4;
  default:
    return 0;
  }
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

  // Maps and verifies the file at `path`, and the weights file it names
  // (relative to `path`'s directory) unless options.format is kDummy.
  // Errors name the file and what is wrong with it (byte offset, tensor
  // name, step index; the weights file, expected and found size or checksum).
  static StatusOr<std::unique_ptr<Artifact>> open(const std::string &path,
                                                  const LoadOptions &options = {});
  // Verifies an artifact held in memory (tests, fuzzers, the JIT API); takes
  // the bytes. One with a weights file is refused unless options.format is
  // kDummy: the file is named relative to an artifact file's directory.
  static StatusOr<std::unique_ptr<Artifact>>
  fromBytes(std::vector<uint8_t> bytes, std::string name = "<memory>",
            const LoadOptions &options = {});

  // The file path, or the name given to fromBytes.
  const std::string &name() const { return name_; }
  uint64_t fileSize() const { return size_; }

  const fb::Artifact &root() const { return *root_; }
  const fb::ModelConfig &config() const { return *root_->config(); }
  const fb::Plan &plan() const { return *root_->plan(); }
  const fb::KvCacheSpec &kvCache() const { return *root_->kv_cache(); }

  int numTensors() const { return static_cast<int>(root_->tensors()->size()); }
  const fb::TensorInfo &tensor(int index) const { return *root_->tensors()->Get(index); }
  // The tensor's bytes (tensor(index).size() of them), 256-byte aligned, in
  // the mapped weights section or weights file; null with dummy weights.
  const uint8_t *tensorData(int index) const {
    return weights_ ? weights_ + tensor(index).offset() : nullptr;
  }
  // What backends read: tensorData(index), or with dummy weights the
  // tensor generated into `scratch` (resized to its size; not aligned).
  // Generating one tensor at a time bounds the host memory dummy weights
  // take to the largest tensor.
  const uint8_t *tensorBytes(int index, std::vector<uint8_t> &scratch) const;
  std::vector<int64_t> tensorShape(int index) const;

  // The mapped weights, null with dummy weights.
  const uint8_t *weights() const { return weights_; }
  uint64_t weightsSize() const { return root_->weights_size(); }
  // Whether tensorBytes() generates the weights (LoadFormat::kDummy).
  bool dummyWeights() const { return dummy_ != nullptr; }
  // The weights file the weights were mapped from (the artifact's
  // directory joined with weights_file.path); empty when they come from the
  // artifact itself or are dummy.
  const std::string &weightsFilePath() const { return weightsFilePath_; }
  // The SentencePiece model, empty when the artifact has none.
  std::string_view tokenizerModel() const;

private:
  Artifact();
  // `directory`: where a weights file is looked for; null for an artifact
  // that has no file (fromBytes).
  static StatusOr<std::unique_ptr<Artifact>> verify(std::unique_ptr<Artifact> artifact,
                                                    const std::string *directory,
                                                    const LoadOptions &options);
  Status mapWeightsFile(const std::string &directory);

  std::string name_;
  std::unique_ptr<MappedFile> mapped_;
  std::unique_ptr<MappedFile> weightsFile_;
  std::unique_ptr<DummyWeights> dummy_;
  std::string weightsFilePath_;
  std::vector<uint8_t> owned_;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  const fb::Artifact *root_ = nullptr;
  const uint8_t *weights_ = nullptr;
};

} // namespace qtc::rt

#endif // QTC_RT_ARTIFACT_H
