//===- KvCacheReport.cpp - qtc-run --info: the KV cache and its memory ----===//

#include "KvCacheReport.h"

#include "qtc/rt/KvMemory.h"

#include <cstdio>
#include <string>

namespace qtc::run {

namespace fb = rt::fb;
using nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// What the scheme is, in words: "keys int4 per channel, asymmetric; values ...".
std::string schemeText(const fb::KvCacheSpec &kv) {
  if (!rt::kvIsInteger(kv.dtype()))
    return fb::EnumNameKvDType(kv.dtype());
  const std::string bits = std::to_string(rt::kvIntegerBits(kv.dtype()));
  std::string s = "int" + bits + ": keys per " +
                  (kv.key_granularity() == fb::KvGranularity::PerChannel ? "channel"
                                                                         : "token") +
                  (kv.key_symmetric() ? " symmetric" : " asymmetric") + ", values per token" +
                  (kv.value_symmetric() ? " symmetric" : " asymmetric") + ", f16 scales";
  if (kv.residual_window())
    s += ", f16 window of " + std::to_string(kv.residual_window());
  if (kv.sink_tokens())
    s += ", " + std::to_string(kv.sink_tokens()) + " f16 sink tokens";
  return s;
}

struct Memory {
  uint64_t pageBytes, blockBytes, tailBytes;
  double bytesPerToken, f16BytesPerToken;
  uint64_t blocksPerGiB;
};

Memory memoryOf(const fb::KvCacheSpec &kv) {
  Memory m;
  m.pageBytes = rt::kvHeadBlockBytes(kv);
  m.blockBytes = rt::kvBlockBytes(kv);
  m.tailBytes = rt::kvTailBytes(kv);
  m.bytesPerToken = double(m.blockBytes) / kv.block_size();
  m.f16BytesPerToken = 2.0 * 2 * kv.num_layers() * kv.num_kv_heads() * kv.head_dim();
  m.blocksPerGiB = m.blockBytes ? uint64_t(kGiB / m.blockBytes) : 0;
  return m;
}

} // namespace

json kvCacheJson(const fb::KvCacheSpec &kv) {
  Memory m = memoryOf(kv);
  json out = {{"dtype", fb::EnumNameKvDType(kv.dtype())},
              {"scheme", schemeText(kv)},
              {"block_size", kv.block_size()},
              {"head_block_bytes", m.pageBytes},
              {"block_bytes", m.blockBytes},
              {"bytes_per_token", m.bytesPerToken},
              {"f16_bytes_per_token", m.f16BytesPerToken},
              {"blocks_per_gib", m.blocksPerGiB},
              {"tokens_per_gib", m.blocksPerGiB * kv.block_size()},
              {"tail_bytes_per_sequence", m.tailBytes}};
  if (rt::kvIsInteger(kv.dtype())) {
    out["key_granularity"] = fb::EnumNameKvGranularity(kv.key_granularity());
    out["key_symmetric"] = kv.key_symmetric();
    out["value_symmetric"] = kv.value_symmetric();
    out["residual_window"] = kv.residual_window();
    out["sink_tokens"] = kv.sink_tokens();
  }
  for (auto [name, scales] : {std::pair{"key_scales", kv.key_scales()},
                              std::pair{"value_scales", kv.value_scales()}})
    if (scales && scales->size())
      out[name] = std::vector<float>(scales->begin(), scales->end());
  return out;
}

void printKvCache(const fb::KvCacheSpec &kv) {
  Memory m = memoryOf(kv);
  std::printf("kv cache: %s, blocks of %d tokens\n", schemeText(kv).c_str(), kv.block_size());
  if (kv.key_scales() && kv.key_scales()->size())
    std::printf("kv cache: calibrated fp8 scales, %u per kind\n", kv.key_scales()->size());
  std::printf("kv memory: %.1f bytes per token (f16: %.0f, %.2fx), %llu bytes per block "
              "(%llu per layer and kv head), %llu blocks = %llu tokens per GiB",
              m.bytesPerToken, m.f16BytesPerToken, m.bytesPerToken / m.f16BytesPerToken,
              static_cast<unsigned long long>(m.blockBytes),
              static_cast<unsigned long long>(m.pageBytes),
              static_cast<unsigned long long>(m.blocksPerGiB),
              static_cast<unsigned long long>(m.blocksPerGiB * kv.block_size()));
  if (m.tailBytes)
    std::printf("; f16 tail of a partly filled block: %llu bytes per sequence",
                static_cast<unsigned long long>(m.tailBytes));
  std::printf("\n");
}

} // namespace qtc::run
