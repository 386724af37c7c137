//===- Artifact.cpp - Map a .qtc file and verify its structure ------------===//

#include "qtc/rt/Artifact.h"

#include "ArtifactValidation.h"
#include "MappedFile.h"

#include <cstring>

namespace qtc::rt {

bool dtypeStorageBytes(fb::DType dtype, uint64_t numElements, uint64_t &bytes) {
  uint64_t elementBytes = 0;
  switch (dtype) {
  case fb::DType::I4:
    bytes = numElements / 2 + numElements % 2;
    return true;
  case fb::DType::I8:
  case fb::DType::U8:
    elementBytes = 1;
    break;
  case fb::DType::F16:
  case fb::DType::BF16:
    elementBytes = 2;
    break;
  case fb::DType::F32:
  case fb::DType::I32:
    elementBytes = 4;
    break;
  case fb::DType::I64:
    elementBytes = 8;
    break;
  default:
    return false;
  }
  if (numElements > UINT64_MAX / elementBytes)
    return false;
  bytes = numElements * elementBytes;
  return true;
}

const char *dtypeName(fb::DType dtype) {
  switch (dtype) {
  case fb::DType::F32: return "f32";
  case fb::DType::F16: return "f16";
  case fb::DType::BF16: return "bf16";
  case fb::DType::I32: return "i32";
  case fb::DType::I64: return "i64";
  case fb::DType::I8: return "i8";
  case fb::DType::U8: return "u8";
  case fb::DType::I4: return "i4";
  }
  return "unknown dtype";
}

const char *stepKindName(fb::StepKind kind) {
  // EnumNameStepKind returns "" for values outside the enum.
  const char *name = fb::EnumNameStepKind(kind);
  return *name ? name : "unknown step kind";
}

Artifact::~Artifact() = default;

std::vector<int64_t> Artifact::tensorShape(int index) const {
  const auto *shape = tensor(index).shape();
  return std::vector<int64_t>(shape->begin(), shape->end());
}

std::string_view Artifact::tokenizerModel() const {
  const auto *bytes = root_->tokenizer_model();
  if (!bytes)
    return {};
  return std::string_view(reinterpret_cast<const char *>(bytes->data()), bytes->size());
}

StatusOr<std::unique_ptr<Artifact>> Artifact::open(const std::string &path) {
  StatusOr<MappedFile> mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.status();
  std::unique_ptr<Artifact> artifact(new Artifact());
  artifact->name_ = path;
  artifact->mapped_ = std::make_unique<MappedFile>(std::move(*mapped));
  artifact->data_ = artifact->mapped_->data();
  artifact->size_ = artifact->mapped_->size();
  return verify(std::move(artifact));
}

StatusOr<std::unique_ptr<Artifact>> Artifact::fromBytes(std::vector<uint8_t> bytes,
                                                        std::string name) {
  std::unique_ptr<Artifact> artifact(new Artifact());
  artifact->name_ = std::move(name);
  // Copy to a 256-byte aligned start so tensors are aligned as in a mapping.
  artifact->owned_.resize(bytes.size() + kWeightsAlignment);
  uint8_t *base = artifact->owned_.data();
  size_t shift = alignUp(reinterpret_cast<uintptr_t>(base), kWeightsAlignment) -
                 reinterpret_cast<uintptr_t>(base);
  if (!bytes.empty())
    std::memcpy(base + shift, bytes.data(), bytes.size());
  artifact->data_ = base + shift;
  artifact->size_ = bytes.size();
  return verify(std::move(artifact));
}

static uint64_t readLittleEndian64(const uint8_t *p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

StatusOr<std::unique_ptr<Artifact>> Artifact::verify(std::unique_ptr<Artifact> artifact) {
  const uint8_t *data = artifact->data_;
  const uint64_t size = artifact->size_;
  const std::string &name = artifact->name_;
  auto fail = [&](Status status) { return status.withContext(name); };

  if (size < kArtifactHeaderSize)
    return fail(dataLoss("file is " + std::to_string(size) + " bytes, shorter than the " +
                         std::to_string(kArtifactHeaderSize) + "-byte header"));
  if (std::memcmp(data, kArtifactMagic, sizeof(kArtifactMagic)) != 0)
    return fail(invalidArgument("bad magic at offset 0: not a qtc artifact (expected \"" +
                                std::string(kArtifactMagic, sizeof(kArtifactMagic)) + "\")"));

  uint64_t tableSize = readLittleEndian64(data + 8);
  uint64_t available = size - kArtifactHeaderSize;
  if (tableSize < 8 || tableSize > available)
    return fail(dataLoss("header at offset 8 declares a " + std::to_string(tableSize) +
                         "-byte FlatBuffer, but " + std::to_string(available) +
                         " bytes follow the header (truncated or corrupted file)"));
  if (tableSize >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return fail(invalidArgument("FlatBuffer of " + std::to_string(tableSize) +
                                " bytes exceeds the FlatBuffers limit"));
  const uint8_t *table = data + kArtifactHeaderSize;
  if (!fb::ArtifactBufferHasIdentifier(table))
    return fail(invalidArgument("FlatBuffer at offset 16 lacks the identifier \"" +
                                std::string(fb::ArtifactIdentifier()) + "\""));
  flatbuffers::Verifier verifier(table, static_cast<size_t>(tableSize));
  if (!fb::VerifyArtifactBuffer(verifier))
    return fail(dataLoss("the FlatBuffer at offset 16 (" + std::to_string(tableSize) +
                         " bytes) failed verification: corrupted artifact table"));
  const fb::Artifact *root = fb::GetArtifact(table);

  uint64_t weightsStart = alignUp(kArtifactHeaderSize + tableSize, kWeightsAlignment);
  uint64_t weightsSize = root->weights_size();
  if (weightsStart > size || weightsSize > size - weightsStart)
    return fail(dataLoss("weights section at offset " + std::to_string(weightsStart) +
                         " of " + std::to_string(weightsSize) + " bytes runs past the end of the " +
                         std::to_string(size) + "-byte file (truncated)"));
  if (weightsStart + weightsSize != size)
    return fail(dataLoss(std::to_string(size - weightsStart - weightsSize) +
                         " unexpected bytes after the weights section, which ends at offset " +
                         std::to_string(weightsStart + weightsSize)));

  Status valid = validateArtifact(*root);
  if (!valid.isOk())
    return fail(valid);
  artifact->root_ = root;
  artifact->weights_ = data + weightsStart;
  return artifact;
}

} // namespace qtc::rt
