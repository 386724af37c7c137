//===- Recipe.cpp - Named and JSON quantization recipes -------------------===//

#include "qtc/Pipeline/Recipe.h"

#include "mlir/IR/Location.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace qtc {

std::string Recipe::describe(const WeightSpec &spec) {
  if (spec.format == WeightFormat::F16)
    return "fp16";
  return llvm::formatv("int4-g{0}-{1}", spec.groupSize,
                       spec.symmetric ? "sym" : "asym");
}

static FailureOr<Recipe> namedRecipe(StringRef name) {
  Recipe recipe;
  recipe.name = name.str();
  if (name.consume_back("-kvfp8")) {
    if (name != "fp16" && name != "w4a16")
      return failure();
    recipe.kvCache = KvCacheFormat::Fp8E4M3;
  }
  if (name == "fp16")
    return recipe;
  if (name == "w4a16" || name == "w4a16-asym") {
    recipe.linear.format = WeightFormat::Int4;
    recipe.linear.groupSize = 128;
    recipe.linear.symmetric = name == "w4a16";
    recipe.linear.smallerGroups = true;
    return recipe;
  }
  return failure();
}

static LogicalResult parseWeights(Location loc, const llvm::json::Object &obj,
                                  WeightSpec &spec) {
  for (const auto &kv : obj) {
    StringRef key = kv.first;
    if (key != "format" && key != "group_size" && key != "symmetric" &&
        key != "smaller_groups")
      return emitError(loc) << "recipe: unknown key 'weights." << key
                            << "' (expected format, group_size, symmetric, "
                               "smaller_groups)";
  }
  std::optional<StringRef> format = obj.getString("format");
  if (!format)
    return emitError(loc) << "recipe: 'weights.format' is required";
  if (*format == "fp16" || *format == "f16") {
    spec.format = WeightFormat::F16;
  } else if (*format == "int4") {
    spec.format = WeightFormat::Int4;
  } else {
    return emitError(loc) << "recipe: unsupported weights.format '" << *format
                          << "' (supported: fp16, int4)";
  }
  if (const llvm::json::Value *g = obj.get("group_size")) {
    std::optional<int64_t> group = g->getAsInteger();
    if (!group || *group <= 0 || *group % 2 != 0 || *group > 4096)
      return emitError(loc) << "recipe: weights.group_size must be an even "
                               "integer in [2, 4096]";
    spec.groupSize = static_cast<int>(*group);
  }
  if (const llvm::json::Value *s = obj.get("symmetric")) {
    std::optional<bool> sym = s->getAsBoolean();
    if (!sym)
      return emitError(loc) << "recipe: weights.symmetric must be a boolean";
    spec.symmetric = *sym;
  }
  if (const llvm::json::Value *s = obj.get("smaller_groups")) {
    std::optional<bool> smaller = s->getAsBoolean();
    if (!smaller)
      return emitError(loc) << "recipe: weights.smaller_groups must be a boolean";
    spec.smallerGroups = *smaller;
  }
  return success();
}

FailureOr<Recipe> resolveRecipe(Location loc, StringRef nameOrPath) {
  if (FailureOr<Recipe> named = namedRecipe(nameOrPath); succeeded(named))
    return named;
  if (!nameOrPath.ends_with(".json"))
    return emitError(loc) << "unknown recipe '" << nameOrPath
                          << "' (named recipes: fp16, w4a16, w4a16-asym, fp16-kvfp8, w4a16-kvfp8; or "
                             "a path to a .json recipe)";

  auto buffer = llvm::MemoryBuffer::getFile(nameOrPath);
  if (!buffer)
    return emitError(loc) << "cannot read recipe '" << nameOrPath
                          << "': " << buffer.getError().message();
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return emitError(loc) << "recipe '" << nameOrPath
                          << "' is not valid JSON: "
                          << llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return emitError(loc) << "recipe '" << nameOrPath
                          << "' must be a JSON object";

  Recipe recipe;
  recipe.name = llvm::sys::path::stem(nameOrPath).str();
  for (const auto &kv : *root) {
    StringRef key = kv.first;
    if (key != "name" && key != "weights" && key != "lm_head" && key != "kv_cache")
      return emitError(loc) << "recipe: unknown key '" << key
                            << "' (expected name, weights, lm_head, kv_cache)";
  }
  if (std::optional<StringRef> name = root->getString("name"))
    recipe.name = name->str();
  if (const llvm::json::Object *weights = root->getObject("weights"))
    if (failed(parseWeights(loc, *weights, recipe.linear)))
      return failure();
  if (const llvm::json::Value *lm = root->get("lm_head")) {
    std::optional<StringRef> mode = lm->getAsString();
    if (!mode || (*mode != "fp16" && *mode != "weights"))
      return emitError(loc)
             << "recipe: lm_head must be \"fp16\" or \"weights\"";
    recipe.quantizeLmHead = *mode == "weights";
  }
  if (const llvm::json::Value *kv = root->get("kv_cache")) {
    std::optional<StringRef> format = kv->getAsString();
    if (!format || (*format != "fp16" && *format != "fp8"))
      return emitError(loc) << "recipe: kv_cache must be \"fp16\" or \"fp8\"";
    recipe.kvCache = *format == "fp8" ? KvCacheFormat::Fp8E4M3 : KvCacheFormat::F16;
  }
  return recipe;
}

} // namespace qtc
