//===- CalibrationTokens.cpp - The token sequences calibration runs -------===//

#include "CalibrationTokens.h"

#include "qtc/rt/Tokenizer.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>

using namespace mlir;

namespace qtc {
namespace {

FailureOr<std::vector<int32_t>> readIds(StringRef path, StringRef bytes,
                                        int32_t vocabSize, Location loc) {
  if (bytes.size() % 4 != 0)
    return emitError(loc) << "calibration tokens '" << path << "' hold "
                          << bytes.size()
                          << " bytes, not a whole number of int32 ids";
  std::vector<int32_t> ids(bytes.size() / 4);
  if (!ids.empty())
    std::memcpy(ids.data(), bytes.data(), bytes.size());
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocabSize)
      return emitError(loc) << "calibration tokens '" << path << "': id "
                            << ids[i] << " at byte " << 4 * i
                            << " is outside the vocabulary of " << vocabSize;
  return ids;
}

FailureOr<std::vector<int32_t>> tokenizeText(StringRef path, StringRef text,
                                             StringRef tokenizerPath,
                                             Location loc) {
  if (tokenizerPath.empty())
    return emitError(loc) << "calibration text '" << path
                          << "' needs the model's tokenizer.model (none "
                             "found; give ids as a .bin file instead)";
  auto model = llvm::MemoryBuffer::getFile(tokenizerPath);
  if (!model)
    return emitError(loc) << "cannot read tokenizer '" << tokenizerPath
                          << "': " << model.getError().message();
  auto tokenizer = rt::Tokenizer::fromSerializedModel(
      std::string_view((*model)->getBufferStart(), (*model)->getBufferSize()),
      /*bosId=*/-1);
  if (!tokenizer)
    return emitError(loc) << "tokenizing calibration text '" << path
                          << "': " << tokenizer.status().message();
  auto ids = (*tokenizer)->encode(text.str());
  if (!ids)
    return emitError(loc) << "tokenizing calibration text '" << path
                          << "': " << ids.status().message();
  return std::move(*ids);
}

} // namespace

FailureOr<TokenSequences>
readCalibrationTokens(StringRef path, StringRef tokenizerPath,
                      const CalibrationTokenOptions &options, Location loc) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return emitError(loc) << "cannot read calibration data '" << path
                          << "': " << buffer.getError().message();
  StringRef bytes = (*buffer)->getBuffer();
  FailureOr<std::vector<int32_t>> ids =
      path.ends_with(".bin")
          ? readIds(path, bytes, options.vocabSize, loc)
          : tokenizeText(path, bytes, tokenizerPath, loc);
  if (failed(ids))
    return failure();

  // A file that already starts each document with bos keeps one bos per
  // sequence, not two.
  std::vector<int32_t> body;
  body.reserve(ids->size());
  for (int32_t id : *ids)
    if (id != options.bosId)
      body.push_back(id);
  const bool bos = options.bosId >= 0;
  const int64_t perSeq = options.seqLen - (bos ? 1 : 0);
  if (perSeq < 1)
    return emitError(loc) << "calibration sequences of " << options.seqLen
                          << " tokens leave no room for text";
  TokenSequences sequences;
  int64_t total = 0;
  for (size_t at = 0; at < body.size() && total < options.maxTokens;) {
    int64_t take = std::min<int64_t>(
        {perSeq, static_cast<int64_t>(body.size() - at),
         options.maxTokens - total - (bos ? 1 : 0)});
    if (take <= 0)
      break;
    std::vector<int32_t> seq;
    if (bos)
      seq.push_back(options.bosId);
    seq.insert(seq.end(), body.begin() + at, body.begin() + at + take);
    total += static_cast<int64_t>(seq.size());
    at += take;
    sequences.push_back(std::move(seq));
  }
  if (sequences.empty())
    return emitError(loc) << "calibration data '" << path
                          << "' holds no tokens";
  return sequences;
}

} // namespace qtc
