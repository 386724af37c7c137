//===- SentencePiecePluginAbi.h - C ABI of the SentencePiece plugin -------===//
//
// The tokenizer runs SentencePiece through a small plugin,
// libqtc_sentencepiece.so (runtime/tokenizer/), loaded with dlopen rather
// than linked. Debian's libsentencepiece carries its own copy of protobuf
// (3.14) and exports its symbols; in a process that also holds the system
// libprotobuf (the compiler's ONNX importer links 3.21: the JIT API),
// sentencepiece's calls would bind to the other version and abort. Loading
// libsentencepiece first with RTLD_DEEPBIND makes it bind to its own copy; the
// plugin's C ABI keeps C++ types of either version from crossing the boundary.
//
// Functions that can fail fill `error` (NUL-terminated, truncated to
// `errorSize`). encode/decode return the number of elements (ids, bytes) of
// the result, which is written only when it fits in `capacity`: call again
// with a larger buffer when the result exceeds it; -1 on failure.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SRC_SENTENCEPIECEPLUGINABI_H
#define QTC_RT_SRC_SENTENCEPIECEPLUGINABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QTC_SENTENCEPIECE_PLUGIN_ABI 1

typedef struct qtc_sentencepiece_api {
  int abi_version; // QTC_SENTENCEPIECE_PLUGIN_ABI
  void *(*load)(const char *model, size_t modelSize, char *error, size_t errorSize);
  void (*destroy)(void *processor);
  int (*piece_size)(const void *processor);
  long (*encode)(const void *processor, const char *text, size_t textSize, int32_t *ids,
                 size_t capacity, char *error, size_t errorSize);
  long (*decode)(const void *processor, const int32_t *ids, size_t count, char *text,
                 size_t capacity, char *error, size_t errorSize);
} qtc_sentencepiece_api;

// The plugin's one exported symbol.
const qtc_sentencepiece_api *qtc_sentencepiece_plugin(void);

#ifdef __cplusplus
}
#endif

#endif // QTC_RT_SRC_SENTENCEPIECEPLUGINABI_H
