//===- Tokenizer.h - SentencePiece tokenizer of an artifact ---------------===//
//
// Wraps the SentencePiece model bytes carried by the artifact
// (Artifact.tokenizer_model). encode() returns [bos] + pieces, as the models
// were trained; decode() drops control tokens (bos, eos).
//
// SentencePiece runs in a plugin (libqtc_sentencepiece.so) loaded on first
// use, so that it can live in a process that also holds another protobuf
// (src/SentencePiecePluginAbi.h says why). The plugin is looked for at
// $QTC_SENTENCEPIECE_PLUGIN, beside the executable, in the build tree, then
// on the library search path.
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

struct qtc_sentencepiece_api;

namespace qtc::rt {

class Tokenizer {
public:
  ~Tokenizer();
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;
  // `bosId` < 0: encode() adds no bos.
  static StatusOr<std::unique_ptr<Tokenizer>> fromSerializedModel(std::string_view model,
                                                                   int bosId);

  int vocabSize() const;
  int bosId() const { return bosId_; }
  StatusOr<std::vector<int32_t>> encode(const std::string &text) const;
  StatusOr<std::string> decode(const std::vector<int32_t> &ids) const;

private:
  Tokenizer(const qtc_sentencepiece_api *api, void *processor)
      : api_(api), processor_(processor) {}
  const qtc_sentencepiece_api *api_;
  void *processor_;
  int bosId_ = -1;
};

} // namespace qtc::rt

#endif // QTC_RT_TOKENIZER_H
