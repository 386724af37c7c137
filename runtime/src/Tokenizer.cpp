//===- Tokenizer.cpp - SentencePiece tokenizer of an artifact -------------===//

#include "qtc/rt/Tokenizer.h"

#include <sentencepiece_processor.h>

namespace qtc::rt {

Tokenizer::Tokenizer() : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::fromSerializedModel(std::string_view model,
                                                                    int bosId) {
  if (model.empty())
    return failedPrecondition("the artifact carries no tokenizer model");
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  auto status = tokenizer->processor_->LoadFromSerializedProto(
      std::string_view(model.data(), model.size()));
  if (!status.ok())
    return invalidArgument("cannot load the SentencePiece model: " + status.ToString());
  if (bosId >= tokenizer->vocabSize())
    return invalidArgument("bos id " + std::to_string(bosId) + " is outside the tokenizer's " +
                           std::to_string(tokenizer->vocabSize()) + " pieces");
  tokenizer->bosId_ = bosId;
  return tokenizer;
}

int Tokenizer::vocabSize() const { return processor_->GetPieceSize(); }

StatusOr<std::vector<int32_t>> Tokenizer::encode(const std::string &text) const {
  std::vector<int> pieces;
  auto status = processor_->Encode(text, &pieces);
  if (!status.ok())
    return invalidArgument("cannot tokenize: " + status.ToString());
  std::vector<int32_t> ids;
  ids.reserve(pieces.size() + 1);
  if (bosId_ >= 0)
    ids.push_back(bosId_);
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  return ids;
}

StatusOr<std::string> Tokenizer::decode(const std::vector<int32_t> &ids) const {
  const int size = vocabSize();
  std::vector<int> pieces;
  pieces.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= size)
      return invalidArgument("token " + std::to_string(i) + " has id " +
                             std::to_string(ids[i]) + " outside the tokenizer's " +
                             std::to_string(size) + " pieces");
    pieces.push_back(ids[i]);
  }
  std::string text;
  auto status = processor_->Decode(pieces, &text);
  if (!status.ok())
    return invalidArgument("cannot detokenize: " + status.ToString());
  return text;
}

} // namespace qtc::rt
