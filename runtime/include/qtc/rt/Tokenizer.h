//===- Tokenizer.h - SentencePiece tokenizer of an artifact ---------------===//
//
// Wraps the SentencePiece model bytes carried by the artifact
// (Artifact.tokenizer_model). encode() returns [bos] + pieces, as the models
// were trained; decode() drops control tokens (bos, eos).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_TOKENIZER_H
#define QTC_RT_TOKENIZER_H

#include "qtc/rt/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
} // namespace sentencepiece

namespace qtc::rt {

class Tokenizer {
public:
  ~Tokenizer();
  // `bosId` < 0: encode() adds no bos.
  static StatusOr<std::unique_ptr<Tokenizer>> fromSerializedModel(std::string_view model,
                                                                   int bosId);

  int vocabSize() const;
  int bosId() const { return bosId_; }
  StatusOr<std::vector<int32_t>> encode(const std::string &text) const;
  StatusOr<std::string> decode(const std::vector<int32_t> &ids) const;

private:
  Tokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  int bosId_ = -1;
};

} // namespace qtc::rt

#endif // QTC_RT_TOKENIZER_H
