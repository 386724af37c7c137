//===- SentencePiecePlugin.cpp - SentencePiece behind a C ABI -------------===//
//
// Built as libqtc_sentencepiece.so and loaded by src/Tokenizer.cpp; see
// src/SentencePiecePluginAbi.h for why it is a plugin.
//
//===----------------------------------------------------------------------===//

#include "SentencePiecePluginAbi.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

using sentencepiece::SentencePieceProcessor;

void setError(char *error, size_t errorSize, const std::string &message) {
  if (!error || errorSize == 0)
    return;
  size_t n = std::min(message.size(), errorSize - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// Nothing may unwind through the C ABI: exceptions (protobuf reports fatal
// errors by throwing) become an error message and the failure value.
template <typename Result, typename Body>
Result guarded(Result failure, char *error, size_t errorSize, Body body) {
  try {
    return body();
  } catch (const std::exception &e) {
    setError(error, errorSize, e.what());
  } catch (...) {
    setError(error, errorSize, "unknown exception in SentencePiece");
  }
  return failure;
}

void *load(const char *model, size_t modelSize, char *error, size_t errorSize) {
  return guarded<void *>(nullptr, error, errorSize, [&]() -> void * {
    auto processor = std::make_unique<SentencePieceProcessor>();
    auto status = processor->LoadFromSerializedProto(std::string_view(model, modelSize));
    if (!status.ok()) {
      setError(error, errorSize, status.ToString());
      return nullptr;
    }
    return processor.release();
  });
}

void destroy(void *processor) { delete static_cast<SentencePieceProcessor *>(processor); }

int pieceSize(const void *processor) {
  return static_cast<const SentencePieceProcessor *>(processor)->GetPieceSize();
}

long encode(const void *processor, const char *text, size_t textSize, int32_t *ids,
            size_t capacity, char *error, size_t errorSize) {
  return guarded<long>(-1, error, errorSize, [&]() -> long {
    std::vector<int> pieces;
    auto status = static_cast<const SentencePieceProcessor *>(processor)->Encode(
        std::string_view(text, textSize), &pieces);
    if (!status.ok()) {
      setError(error, errorSize, status.ToString());
      return -1;
    }
    if (pieces.size() <= capacity)
      for (size_t i = 0; i < pieces.size(); ++i)
        ids[i] = pieces[i];
    return static_cast<long>(pieces.size());
  });
}

long decode(const void *processor, const int32_t *ids, size_t count, char *text,
            size_t capacity, char *error, size_t errorSize) {
  return guarded<long>(-1, error, errorSize, [&]() -> long {
    std::vector<int> pieces(ids, ids + count);
    std::string out;
    auto status = static_cast<const SentencePieceProcessor *>(processor)->Decode(pieces, &out);
    if (!status.ok()) {
      setError(error, errorSize, status.ToString());
      return -1;
    }
    if (out.size() <= capacity)
      std::memcpy(text, out.data(), out.size());
    return static_cast<long>(out.size());
  });
}

const qtc_sentencepiece_api kApi = {QTC_SENTENCEPIECE_PLUGIN_ABI, load, destroy, pieceSize,
                                    encode, decode};

} // namespace

extern "C" __attribute__((visibility("default"))) const qtc_sentencepiece_api *
qtc_sentencepiece_plugin(void) {
  return &kApi;
}
