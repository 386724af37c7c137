//===- Artifact.cpp - Map a .qtc file and verify its structure ------------===//

#include "qtc/rt/Artifact.h"

#include "ArtifactValidation.h"
#include "DummyWeights.h"
#include "MappedFile.h"

#include "qtc/rt/WeightsChecksum.h"

#include <cstdio>
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

const char *loadFormatName(LoadFormat format) {
  return format == LoadFormat::kDummy ? "dummy" : "auto";
}

StatusOr<LoadFormat> parseLoadFormat(std::string_view name) {
  if (name == "auto")
    return LoadFormat::kAuto;
  if (name == "dummy")
    return LoadFormat::kDummy;
  return invalidArgument("unknown load format '" + std::string(name) +
                         "' (expected auto or dummy)");
}

Artifact::Artifact() = default;
Artifact::~Artifact() = default;

std::vector<int64_t> Artifact::tensorShape(int index) const {
  const auto *shape = tensor(index).shape();
  return std::vector<int64_t>(shape->begin(), shape->end());
}

const uint8_t *Artifact::tensorBytes(int index, std::vector<uint8_t> &scratch) const {
  if (!dummy_)
    return tensorData(index);
  scratch.resize(tensor(index).size());
  dummy_->fill(index, scratch.data());
  return scratch.data();
}

std::string_view Artifact::tokenizerModel() const {
  const auto *bytes = root_->tokenizer_model();
  if (!bytes)
    return {};
  return std::string_view(reinterpret_cast<const char *>(bytes->data()), bytes->size());
}

StatusOr<std::unique_ptr<Artifact>> Artifact::open(const std::string &path,
                                                   const LoadOptions &options) {
  StatusOr<MappedFile> mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.status();
  std::unique_ptr<Artifact> artifact(new Artifact());
  artifact->name_ = path;
  artifact->mapped_ = std::make_unique<MappedFile>(std::move(*mapped));
  artifact->data_ = artifact->mapped_->data();
  artifact->size_ = artifact->mapped_->size();
  size_t slash = path.rfind('/');
  std::string directory = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  return verify(std::move(artifact), &directory, options);
}

StatusOr<std::unique_ptr<Artifact>> Artifact::fromBytes(std::vector<uint8_t> bytes,
                                                        std::string name,
                                                        const LoadOptions &options) {
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
  return verify(std::move(artifact), nullptr, options);
}

static uint64_t readLittleEndian64(const uint8_t *p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

static std::string hex64(uint64_t value) {
  char text[19];
  std::snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

Status Artifact::mapWeightsFile(const std::string &directory) {
  const fb::WeightsFile &file = *root_->weights_file();
  weightsFilePath_ = directory + file.path()->str();
  const std::string &path = weightsFilePath_;
  StatusOr<MappedFile> mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.status().withContext("weights file");
  if (mapped->size() != file.size())
    return dataLoss("weights file '" + path + "' is " + std::to_string(mapped->size()) +
                    " bytes, but the artifact expects " + std::to_string(file.size()) +
                    (mapped->size() < file.size() ? " (truncated)"
                                                  : " (not the file this artifact was written with)"));
  // Hashing reads the whole file once; the backend's upload then finds it
  // in the page cache.
  uint64_t checksum = weightsChecksum(mapped->data(), mapped->size());
  if (checksum != file.checksum())
    return dataLoss("weights file '" + path + "' has XXH3-64 checksum " + hex64(checksum) +
                    ", but the artifact expects " + hex64(file.checksum()) +
                    " (corrupted, or rewritten by a compile of other weights)");
  weightsFile_ = std::make_unique<MappedFile>(std::move(*mapped));
  weights_ = weightsFile_->data();
  return Status::ok();
}

StatusOr<std::unique_ptr<Artifact>> Artifact::verify(std::unique_ptr<Artifact> artifact,
                                                     const std::string *directory,
                                                     const LoadOptions &options) {
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

  uint64_t tableEnd = kArtifactHeaderSize + tableSize;
  uint64_t weightsStart = alignUp(tableEnd, kWeightsAlignment);
  uint64_t weightsSize = root->weights_size();
  const bool sectionElsewhere = root->weights_file() || root->dummy_weights();
  if (sectionElsewhere) {
    // Without a weights section the file ends with the table.
    if (size != tableEnd)
      return fail(dataLoss(std::to_string(size - tableEnd) +
                           " unexpected bytes after the FlatBuffer, which ends at offset " +
                           std::to_string(tableEnd) + ": an artifact whose weights are " +
                           (root->dummy_weights() ? "dummy" : "in a weights file") +
                           " has no weights section"));
  } else {
    if (weightsStart > size || weightsSize > size - weightsStart)
      return fail(dataLoss("weights section at offset " + std::to_string(weightsStart) +
                           " of " + std::to_string(weightsSize) +
                           " bytes runs past the end of the " + std::to_string(size) +
                           "-byte file (truncated)"));
    if (weightsStart + weightsSize != size)
      return fail(dataLoss(std::to_string(size - weightsStart - weightsSize) +
                           " unexpected bytes after the weights section, which ends at offset " +
                           std::to_string(weightsStart + weightsSize)));
  }

  Status valid = validateArtifact(*root);
  if (!valid.isOk())
    return fail(valid);
  artifact->root_ = root;

  if (options.format == LoadFormat::kDummy) {
    artifact->dummy_ = std::make_unique<DummyWeights>(*root, options.dummySeed);
    return artifact;
  }
  if (root->dummy_weights())
    return fail(failedPrecondition(
        "holds no weights (compiled with --dummy-weights): run it with generated weights, "
        "qtc-run --load-format dummy (LoadFormat::kDummy)"));
  if (root->weights_file()) {
    if (!directory)
      return fail(failedPrecondition(
          "its weights are in the file '" + root->weights_file()->path()->str() +
          "' beside the artifact; open the artifact from its file"));
    QTC_RT_RETURN_IF_ERROR(artifact->mapWeightsFile(*directory).withContext(name));
    return artifact;
  }
  artifact->weights_ = data + weightsStart;
  return artifact;
}

} // namespace qtc::rt
