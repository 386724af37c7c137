//===- KvCacheReport.h - qtc-run --info: the KV cache and its memory -------===//
#ifndef QTC_TOOLS_QTC_RUN_KVCACHEREPORT_H
#define QTC_TOOLS_QTC_RUN_KVCACHEREPORT_H

#include "qtc/rt/Artifact.h"

#include <nlohmann/json.hpp>

namespace qtc::run {

// The cache's scheme and memory: page bytes, bytes per token against an f16
// cache, blocks and tokens per GiB, the f16 tail per sequence.
nlohmann::json kvCacheJson(const rt::fb::KvCacheSpec &kv);
void printKvCache(const rt::fb::KvCacheSpec &kv);

} // namespace qtc::run

#endif // QTC_TOOLS_QTC_RUN_KVCACHEREPORT_H
