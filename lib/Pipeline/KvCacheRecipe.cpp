//===- KvCacheRecipe.cpp - The kv_cache field of a JSON recipe ------------===//

#include "KvCacheRecipe.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace qtc {

KvCacheRecipe KvCacheRecipe::defaults(KvCacheFormat format) {
  KvCacheRecipe kv;
  kv.format = format;
  if (format == KvCacheFormat::Int8) {
    kv.keySymmetric = kv.valueSymmetric = true;
  } else if (format == KvCacheFormat::Int4 || format == KvCacheFormat::Int2) {
    // KIVI: keys per channel in groups of 32 tokens, values per token, both
    // asymmetric; the group being filled stays in f16.
    kv.keysPerChannel = true;
    kv.blockSize = 32;
    kv.residualWindow = 32;
  }
  return kv;
}

static std::optional<KvCacheFormat> kvFormatNamed(StringRef name) {
  return llvm::StringSwitch<std::optional<KvCacheFormat>>(name)
      .Case("fp16", KvCacheFormat::F16)
      .Case("fp8", KvCacheFormat::Fp8E4M3)
      .Case("int8", KvCacheFormat::Int8)
      .Case("int4", KvCacheFormat::Int4)
      .Case("int2", KvCacheFormat::Int2)
      .Default(std::nullopt);
}

LogicalResult parseKvCacheRecipe(Location loc, const llvm::json::Value &value,
                                 KvCacheRecipe &kv) {
  auto badFormat = [&](StringRef got) {
    return emitError(loc) << "recipe: unsupported kv_cache format '" << got
                          << "' (supported: fp16, fp8, int8, int4, int2)";
  };
  if (std::optional<StringRef> name = value.getAsString()) {
    std::optional<KvCacheFormat> format = kvFormatNamed(*name);
    if (!format)
      return badFormat(*name);
    kv = KvCacheRecipe::defaults(*format);
    return success();
  }
  const llvm::json::Object *obj = value.getAsObject();
  if (!obj)
    return emitError(loc) << "recipe: kv_cache must be a format name or an object";
  const StringRef keys[] = {"format",          "key_granularity", "key_symmetric",
                            "value_symmetric", "block_size",      "residual_window",
                            "sink_tokens",     "scales"};
  for (const auto &entry : *obj) {
    StringRef key = entry.first;
    if (!llvm::is_contained(keys, key))
      return emitError(loc) << "recipe: unknown key 'kv_cache." << key << "' (expected "
                            << llvm::join(ArrayRef<StringRef>(keys), ", ") << ")";
  }
  std::optional<StringRef> name = obj->getString("format");
  if (!name)
    return emitError(loc) << "recipe: 'kv_cache.format' is required (a string)";
  std::optional<KvCacheFormat> format = kvFormatNamed(*name);
  if (!format)
    return badFormat(*name);
  kv = KvCacheRecipe::defaults(*format);

  // Options of one kind of format, named in the error when given to another.
  auto onlyFor = [&](StringRef key, bool applies, StringRef which) -> LogicalResult {
    if (obj->get(key) && !applies)
      return emitError(loc) << "recipe: kv_cache." << key << " applies to " << which
                            << " caches, not " << *name;
    return success();
  };
  if (failed(onlyFor("key_granularity", kv.isInteger(), "integer")) ||
      failed(onlyFor("key_symmetric", kv.isInteger(), "integer")) ||
      failed(onlyFor("value_symmetric", kv.isInteger(), "integer")) ||
      failed(onlyFor("residual_window", kv.isInteger(), "integer")) ||
      failed(onlyFor("sink_tokens", kv.isInteger(), "integer")) ||
      failed(onlyFor("scales", kv.format == KvCacheFormat::Fp8E4M3, "fp8")) ||
      failed(onlyFor("block_size", kv.isInteger(), "integer")))
    return failure();

  auto boolean = [&](StringRef key, bool &out) -> LogicalResult {
    if (const llvm::json::Value *v = obj->get(key)) {
      std::optional<bool> b = v->getAsBoolean();
      if (!b)
        return emitError(loc) << "recipe: kv_cache." << key << " must be a boolean";
      out = *b;
    }
    return success();
  };
  auto integer = [&](StringRef key, int lo, int hi, int &out) -> LogicalResult {
    if (const llvm::json::Value *v = obj->get(key)) {
      std::optional<int64_t> i = v->getAsInteger();
      if (!i || *i < lo || *i > hi)
        return emitError(loc) << "recipe: kv_cache." << key << " must be an integer in [" << lo
                              << ", " << hi << "]";
      out = static_cast<int>(*i);
    }
    return success();
  };
  if (failed(boolean("key_symmetric", kv.keySymmetric)) ||
      failed(boolean("value_symmetric", kv.valueSymmetric)) ||
      failed(integer("block_size", 1, 4096, kv.blockSize)))
    return failure();
  // The window and sinks default to the block size / 0 of the chosen block.
  if (kv.residualWindow != 0)
    kv.residualWindow = kv.blockSize;
  if (failed(integer("residual_window", 0, 4096, kv.residualWindow)) ||
      failed(integer("sink_tokens", 0, 4096, kv.sinkTokens)))
    return failure();
  if (const llvm::json::Value *g = obj->get("key_granularity")) {
    std::optional<StringRef> s = g->getAsString();
    if (!s || (*s != "per_token" && *s != "per_channel"))
      return emitError(loc)
             << "recipe: kv_cache.key_granularity must be \"per_token\" or \"per_channel\"";
    kv.keysPerChannel = *s == "per_channel";
  }
  if (const llvm::json::Value *sc = obj->get("scales")) {
    std::optional<StringRef> s = sc->getAsString();
    if (!s || (*s != "one" && *s != "layer" && *s != "head"))
      return emitError(loc) << "recipe: kv_cache.scales must be \"one\", \"layer\" or \"head\"";
    kv.fp8Scales = s->str();
  }
  if (kv.residualWindow != 0 && kv.residualWindow != kv.blockSize)
    return emitError(loc) << "recipe: kv_cache.residual_window " << kv.residualWindow
                          << " must be 0 or kv_cache.block_size (" << kv.blockSize
                          << "): the window is the block being filled";
  if (kv.sinkTokens > kv.blockSize)
    return emitError(loc) << "recipe: kv_cache.sink_tokens " << kv.sinkTokens
                          << " exceeds kv_cache.block_size (" << kv.blockSize << ")";
  return success();
}

} // namespace qtc
