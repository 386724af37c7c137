//===- Recipe.cpp - Named and JSON quantization recipes -------------------===//

#include "qtc/Pipeline/Recipe.h"

#include "qtc/Chain/Plan.h"

#include "mlir/IR/Location.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace qtc {

std::string Recipe::describe(const WeightSpec &spec) {
  if (spec.format == WeightFormat::F16)
    return "fp16";
  return int4GroupFormatName(spec.groupSize, spec.symmetric);
}

static FailureOr<Recipe> namedRecipe(StringRef name) {
  Recipe recipe;
  recipe.name = name.str();
  if (name.consume_back("-kvfp8")) {
    if (name != "fp16" && name != "w4a16" && name != "w4a16-rtn")
      return failure();
    recipe.kvCache = KvCacheFormat::Fp8E4M3;
  }
  if (name == "fp16")
    return recipe;
  if (name == "w4a16-awq") {
    recipe.linear.format = WeightFormat::Int4;
    recipe.linear.groupSize = 128;
    recipe.linear.smallerGroups = true;
    recipe.linear.method = WeightMethod::Awq;
    return recipe;
  }
  bool rtn = name.consume_back("-rtn");
  if (name == "w4a16" || name == "w4a16-asym") {
    recipe.linear.format = WeightFormat::Int4;
    recipe.linear.groupSize = 128;
    recipe.linear.symmetric = name == "w4a16";
    recipe.linear.smallerGroups = true;
    recipe.linear.method = rtn ? WeightMethod::Rtn : WeightMethod::Gptq;
    return recipe;
  }
  return failure();
}

// Refuses a key of `obj` not in `allowed`, naming it as `prefix` + key.
static LogicalResult checkKeys(Location loc, const llvm::json::Object &obj,
                               StringRef prefix, ArrayRef<StringRef> allowed) {
  for (const auto &kv : obj) {
    StringRef key = kv.first;
    if (!llvm::is_contained(allowed, key))
      return emitError(loc) << "recipe: unknown key '" << prefix << key
                            << "' (expected " << llvm::join(allowed, ", ") << ")";
  }
  return success();
}

static LogicalResult parseWeights(Location loc, const llvm::json::Object &obj,
                                  WeightSpec &spec) {
  if (failed(checkKeys(loc, obj, "weights.",
                       {"format", "group_size", "symmetric", "smaller_groups",
                        "method", "gptq", "awq"})))
    return failure();
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
  if (const llvm::json::Value *m = obj.get("method")) {
    std::optional<StringRef> method = m->getAsString();
    if (!method || (*method != "rtn" && *method != "gptq" && *method != "awq"))
      return emitError(loc)
             << "recipe: weights.method must be \"rtn\", \"gptq\" or \"awq\"";
    spec.method = *method == "gptq"  ? WeightMethod::Gptq
                  : *method == "awq" ? WeightMethod::Awq
                                     : WeightMethod::Rtn;
  }
  if (const llvm::json::Value *g = obj.get("gptq")) {
    const llvm::json::Object *gptq = g->getAsObject();
    if (!gptq)
      return emitError(loc) << "recipe: weights.gptq must be an object";
    if (failed(checkKeys(loc, *gptq, "weights.gptq.",
                         {"dampening", "block_size", "act_order"})))
      return failure();
    if (const llvm::json::Value *d = gptq->get("dampening")) {
      std::optional<double> damp = d->getAsNumber();
      if (!damp || *damp < 0 || *damp > 1)
        return emitError(loc) << "recipe: weights.gptq.dampening must be a number in [0, 1]";
      spec.gptq.dampening = *damp;
    }
    if (const llvm::json::Value *b = gptq->get("block_size")) {
      std::optional<int64_t> block = b->getAsInteger();
      if (!block || *block <= 0 || *block > 65536)
        return emitError(loc) << "recipe: weights.gptq.block_size must be an integer in [1, 65536]";
      spec.gptq.blockSize = static_cast<int>(*block);
    }
    if (const llvm::json::Value *a = gptq->get("act_order")) {
      std::optional<bool> act = a->getAsBoolean();
      if (!act)
        return emitError(loc) << "recipe: weights.gptq.act_order must be a boolean";
      spec.gptq.actOrder = *act;
    }
  }
  if (const llvm::json::Value *a = obj.get("awq")) {
    const llvm::json::Object *awq = a->getAsObject();
    if (!awq)
      return emitError(loc) << "recipe: weights.awq must be an object";
    if (failed(checkKeys(loc, *awq, "weights.awq.", {"grid", "clip"})))
      return failure();
    if (const llvm::json::Value *g = awq->get("grid")) {
      std::optional<int64_t> grid = g->getAsInteger();
      if (!grid || *grid < 1 || *grid > 1000)
        return emitError(loc) << "recipe: weights.awq.grid must be an integer in [1, 1000]";
      spec.awq.grid = static_cast<int>(*grid);
    }
    if (const llvm::json::Value *c = awq->get("clip")) {
      std::optional<bool> clip = c->getAsBoolean();
      if (!clip)
        return emitError(loc) << "recipe: weights.awq.clip must be a boolean";
      spec.awq.clip = *clip;
    }
  }
  if (spec.format == WeightFormat::F16 && spec.method != WeightMethod::Rtn)
    return emitError(loc) << "recipe: weights.method applies to quantized "
                             "formats; fp16 weights are not quantized";
  return success();
}

static LogicalResult parseCalibration(Location loc, const llvm::json::Object &obj,
                                      CalibrationSpec &spec) {
  if (failed(checkKeys(loc, obj, "calibration.",
                       {"data", "tokens", "seq_len", "seed"})))
    return failure();
  if (const llvm::json::Value *d = obj.get("data")) {
    std::optional<StringRef> data = d->getAsString();
    if (!data)
      return emitError(loc) << "recipe: calibration.data must be a file path";
    spec.data = data->str();
  }
  if (const llvm::json::Value *t = obj.get("tokens")) {
    std::optional<int64_t> tokens = t->getAsInteger();
    if (!tokens || *tokens <= 0)
      return emitError(loc) << "recipe: calibration.tokens must be a positive integer";
    spec.tokens = *tokens;
  }
  if (const llvm::json::Value *l = obj.get("seq_len")) {
    std::optional<int64_t> len = l->getAsInteger();
    if (!len || *len < 2)
      return emitError(loc) << "recipe: calibration.seq_len must be an integer >= 2";
    spec.seqLen = *len;
  }
  if (const llvm::json::Value *s = obj.get("seed")) {
    std::optional<int64_t> seed = s->getAsInteger();
    if (!seed || *seed < 0)
      return emitError(loc) << "recipe: calibration.seed must be a non-negative integer";
    spec.seed = static_cast<uint64_t>(*seed);
  }
  return success();
}

FailureOr<Recipe> resolveRecipe(Location loc, StringRef nameOrPath) {
  if (FailureOr<Recipe> named = namedRecipe(nameOrPath); succeeded(named))
    return named;
  if (!nameOrPath.ends_with(".json"))
    return emitError(loc) << "unknown recipe '" << nameOrPath
                          << "' (named recipes: fp16, w4a16, w4a16-asym, "
                             "w4a16-awq, w4a16-rtn, w4a16-asym-rtn, fp16-kvfp8, "
                             "w4a16-kvfp8, w4a16-rtn-kvfp8; or a path to a "
                             ".json recipe)";

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
  if (failed(checkKeys(loc, *root, "",
                       {"name", "weights", "lm_head", "kv_cache", "calibration"})))
    return failure();
  if (std::optional<StringRef> name = root->getString("name"))
    recipe.name = name->str();
  if (const llvm::json::Object *weights = root->getObject("weights"))
    if (failed(parseWeights(loc, *weights, recipe.linear)))
      return failure();
  if (const llvm::json::Value *c = root->get("calibration")) {
    const llvm::json::Object *calibration = c->getAsObject();
    if (!calibration)
      return emitError(loc) << "recipe: calibration must be an object";
    if (failed(parseCalibration(loc, *calibration, recipe.calibration)))
      return failure();
    // A relative data path is relative to the recipe file.
    if (!recipe.calibration.data.empty() &&
        llvm::sys::path::is_relative(recipe.calibration.data)) {
      SmallString<256> path = llvm::sys::path::parent_path(nameOrPath);
      llvm::sys::path::append(path, recipe.calibration.data);
      recipe.calibration.data = std::string(path);
    }
  }
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
