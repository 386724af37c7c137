//===- Recipe.cpp - Named and JSON quantization recipes -------------------===//

#include "qtc/Pipeline/Recipe.h"

#include "KvCacheRecipe.h"

#include "qtc/Chain/Plan.h"

#include "mlir/IR/Location.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace qtc {

StringRef weightFormatOption(WeightFormat format) {
  switch (format) {
  case WeightFormat::F16: return "fp16";
  case WeightFormat::Int3: return "int3";
  case WeightFormat::Int4: return "int4";
  case WeightFormat::Int8: return "int8";
  case WeightFormat::Fp8E4M3: return "fp8";
  }
  llvm_unreachable("weight format");
}

int Recipe::minimumSm(std::string *why) const {
  auto needs = [&](int sm, const char *what) {
    if (why)
      *why = what;
    return sm;
  };
  if (activations.format == ActivationFormat::Fp8E4M3)
    return needs(89, "fp8 activations");
  if (kvCache.format == KvCacheFormat::Fp8E4M3 && !kvCache.calibrated())
    return needs(89, "fp8 KV cache");
  if (activations.format == ActivationFormat::Int8)
    return needs(80, "int8 activations");
  // e4m3 weights widen to f16 by bit operations (lib/Codegen/WeightDequant),
  // so any tensor-core GPU the Linear kernels target runs them.
  if (linear.format == WeightFormat::Fp8E4M3)
    return needs(80, "fp8 weights");
  return 0;
}

static std::optional<WeightFormat> weightFormatNamed(StringRef name) {
  for (WeightFormat f : {WeightFormat::F16, WeightFormat::Int3, WeightFormat::Int4,
                         WeightFormat::Int8, WeightFormat::Fp8E4M3})
    if (name == weightFormatOption(f))
      return f;
  if (name == "f16")
    return WeightFormat::F16;
  return std::nullopt;
}

static FailureOr<Recipe> namedRecipe(StringRef name) {
  // `-rot`: any named recipe with its norms folded and the residual stream
  // rotated first (seed 0).
  if (StringRef base = name; base.consume_back("-rot")) {
    FailureOr<Recipe> recipe = namedRecipe(base);
    if (failed(recipe) || recipe->rotation.hadamard)
      return failure();
    recipe->name = name.str();
    recipe->rotation.foldNorms = true;
    recipe->rotation.hadamard = true;
    return recipe;
  }
  Recipe recipe;
  recipe.name = name.str();
  for (auto [suffix, format] : {std::pair{"-kvfp8", KvCacheFormat::Fp8E4M3},
                                std::pair{"-kvint8", KvCacheFormat::Int8},
                                std::pair{"-kvint4", KvCacheFormat::Int4},
                                std::pair{"-kvint2", KvCacheFormat::Int2}}) {
    if (!name.consume_back(suffix))
      continue;
    bool fp8 = format == KvCacheFormat::Fp8E4M3;
    if (name != "fp16" && name != "w4a16" && !(fp8 && name == "w4a16-rtn"))
      return failure();
    recipe.kvCache = KvCacheRecipe::defaults(format);
    break;
  }
  if (name == "fp16")
    return recipe;
  // Zero points as in the AWQ reference (llm-awq, AutoAWQ: zero_point=True).
  if (name == "w4a16-awq") {
    recipe.linear.format = WeightFormat::Int4;
    recipe.linear.groupSize = 128;
    recipe.linear.symmetric = false;
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
  // int3 in groups of 128 with zero points: GPTQ's usual 3-bit setting.
  if (name == "w3a16") {
    recipe.linear.format = WeightFormat::Int3;
    recipe.linear.groupSize = 128;
    recipe.linear.symmetric = false;
    recipe.linear.smallerGroups = true;
    recipe.linear.method = rtn ? WeightMethod::Rtn : WeightMethod::Gptq;
    return recipe;
  }
  // W8A8: SmoothQuant, then int8 weights (one scale per row, GPTQ) and
  // per-token int8 activations.
  if (name == "w8a8") {
    recipe.linear.format = WeightFormat::Int8;
    recipe.linear.groupSize = 0;
    recipe.linear.method = WeightMethod::Gptq;
    recipe.activations = {ActivationFormat::Int8, /*smooth=*/true, 0.5};
    return recipe;
  }
  // fp8 e4m3 weights (one scale per row) and per-token fp8 activations.
  if (name == "fp8") {
    recipe.linear.format = WeightFormat::Fp8E4M3;
    recipe.linear.groupSize = 0;
    recipe.activations.format = ActivationFormat::Fp8E4M3;
    return recipe;
  }
  // int8 with one scale per output row.
  if (name == "w8a16") {
    recipe.linear.format = WeightFormat::Int8;
    recipe.linear.groupSize = 0;
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
                       {"format", "bits", "group_size", "symmetric",
                        "smaller_groups", "method", "gptq", "awq"})))
    return failure();
  std::optional<StringRef> format = obj.getString("format");
  if (!format)
    return emitError(loc) << "recipe: 'weights.format' is required";
  std::optional<WeightFormat> f = weightFormatNamed(*format);
  if (!f)
    return emitError(loc) << "recipe: unsupported weights.format '" << *format
                          << "' (supported: fp16, int3, int4, int8, fp8)";
  spec.format = *f;
  bool nibbles = spec.format == WeightFormat::Int3 || spec.format == WeightFormat::Int4;
  if (spec.format == WeightFormat::Int8)
    spec.groupSize = 0; // int8's default: one scale per output row
  if (const llvm::json::Value *b = obj.get("bits")) {
    std::optional<int64_t> bits = b->getAsInteger();
    int implied = spec.format == WeightFormat::Int3   ? 3
                  : spec.format == WeightFormat::Int4 ? 4
                                                      : 8;
    if (!bits || (*bits != 3 && *bits != 4 && *bits != 8))
      return emitError(loc) << "recipe: weights.bits must be 3, 4 or 8";
    if (spec.format == WeightFormat::F16 || *bits != implied)
      return emitError(loc) << "recipe: weights.bits " << *bits
                            << " contradicts weights.format '" << *format << "'";
  }
  if (const llvm::json::Value *g = obj.get("group_size")) {
    std::optional<int64_t> group = g->getAsInteger();
    if (spec.format == WeightFormat::Fp8E4M3 || spec.format == WeightFormat::F16)
      return emitError(loc) << "recipe: weights.group_size applies to integer "
                               "formats; "
                            << *format
                            << (spec.format == WeightFormat::F16
                                    ? " weights are not quantized"
                                    : " weights have one scale per output row");
    if (!group || *group < 0 || *group > 4096 || (nibbles && *group % 2 != 0))
      return emitError(loc) << "recipe: weights.group_size must be 0 (one scale "
                               "per output row) or an integer in [1, 4096]"
                            << (nibbles ? ", even for 3- and 4-bit codes" : "");
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
  if (spec.format == WeightFormat::Fp8E4M3 && spec.method != WeightMethod::Rtn)
    return emitError(loc) << "recipe: weights.method must be \"rtn\" for fp8 "
                             "(GPTQ and AWQ search integer grids)";
  if (spec.format == WeightFormat::Int8 && !spec.symmetric)
    return emitError(loc) << "recipe: weights.symmetric must be true for int8 "
                             "(the int8 kernels take no zero points)";
  return success();
}

static LogicalResult parseActivations(Location loc, const llvm::json::Object &obj,
                                      ActivationSpec &spec) {
  if (failed(checkKeys(loc, obj, "activations.", {"format", "smoothquant"})))
    return failure();
  std::optional<StringRef> format = obj.getString("format");
  if (!format || (*format != "fp16" && *format != "int8" && *format != "fp8"))
    return emitError(loc) << "recipe: activations.format must be \"fp16\", "
                             "\"int8\" or \"fp8\"";
  spec.format = *format == "int8"  ? ActivationFormat::Int8
                : *format == "fp8" ? ActivationFormat::Fp8E4M3
                                   : ActivationFormat::None;
  if (const llvm::json::Value *sq = obj.get("smoothquant")) {
    const llvm::json::Object *smooth = sq->getAsObject();
    if (!smooth)
      return emitError(loc) << "recipe: activations.smoothquant must be an object";
    if (failed(checkKeys(loc, *smooth, "activations.smoothquant.", {"alpha"})))
      return failure();
    spec.smooth = true;
    if (const llvm::json::Value *a = smooth->get("alpha")) {
      std::optional<double> alpha = a->getAsNumber();
      if (!alpha || *alpha < 0 || *alpha > 1)
        return emitError(loc)
               << "recipe: activations.smoothquant.alpha must be a number in [0, 1]";
      spec.alpha = *alpha;
    }
    if (spec.format == ActivationFormat::None)
      return emitError(loc) << "recipe: activations.smoothquant needs quantized "
                               "activations (activations.format int8 or fp8)";
  }
  return success();
}

// Refuses weights and activations that cannot multiply as codes.
static LogicalResult checkActivationsMatchWeights(Location loc, const Recipe &r) {
  if (r.activations.format == ActivationFormat::Int8 &&
      (r.linear.format != WeightFormat::Int8 || r.linear.groupSize != 0))
    return emitError(loc) << "recipe: activations.format int8 needs "
                             "weights.format int8 with group_size 0 (one "
                             "scale per output row), got "
                          << weightFormatOption(r.linear.format)
                          << (r.linear.format == WeightFormat::Int8
                                  ? " in groups of " + std::to_string(r.linear.groupSize)
                                  : std::string());
  if (r.activations.format == ActivationFormat::Fp8E4M3 &&
      r.linear.format != WeightFormat::Fp8E4M3)
    return emitError(loc) << "recipe: activations.format fp8 needs "
                             "weights.format fp8, got "
                          << weightFormatOption(r.linear.format);
  if (r.activations.format != ActivationFormat::None && r.quantizeLmHead)
    return emitError(loc) << "recipe: lm_head \"weights\" with quantized "
                             "activations is not supported (the lm_head keeps fp16)";
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

static LogicalResult parseRotation(Location loc, const llvm::json::Object &root,
                                   RotationSpec &spec) {
  if (const llvm::json::Value *f = root.get("fold_norms")) {
    std::optional<bool> fold = f->getAsBoolean();
    if (!fold)
      return emitError(loc) << "recipe: fold_norms must be a boolean";
    spec.foldNorms = *fold;
  }
  const llvm::json::Value *r = root.get("rotate");
  if (!r)
    return success();
  std::optional<StringRef> kind = r->getAsString();
  if (const llvm::json::Object *obj = r->getAsObject()) {
    if (failed(checkKeys(loc, *obj, "rotate.", {"kind", "seed"})))
      return failure();
    kind = obj->getString("kind");
    if (!kind)
      return emitError(loc) << "recipe: rotate.kind is required (\"hadamard\")";
    if (const llvm::json::Value *s = obj->get("seed")) {
      std::optional<int64_t> seed = s->getAsInteger();
      if (!seed || *seed < 0)
        return emitError(loc) << "recipe: rotate.seed must be a non-negative integer";
      spec.seed = static_cast<uint64_t>(*seed);
    }
  }
  if (!kind || (*kind != "none" && *kind != "hadamard"))
    return emitError(loc) << "recipe: rotate must be \"none\", \"hadamard\" or "
                             "an object {\"kind\": \"hadamard\", \"seed\": N} "
                             "(online rotations and SpinQuant are not supported)";
  if (*kind == "none") {
    if (r->getAsObject() && r->getAsObject()->get("seed"))
      return emitError(loc) << "recipe: rotate.seed needs rotate.kind \"hadamard\"";
    return success();
  }
  // An RMSNorm commutes with the rotation only once its scale is folded.
  if (root.get("fold_norms") && !spec.foldNorms)
    return emitError(loc) << "recipe: fold_norms false contradicts rotate "
                             "\"hadamard\" (the residual rotation needs the "
                             "norms' scales folded into the linears)";
  spec.foldNorms = true;
  spec.hadamard = true;
  return success();
}

FailureOr<Recipe> resolveRecipe(Location loc, StringRef nameOrPath) {
  if (FailureOr<Recipe> named = namedRecipe(nameOrPath); succeeded(named))
    return named;
  if (!nameOrPath.ends_with(".json"))
    return emitError(loc) << "unknown recipe '" << nameOrPath
                          << "' (named recipes: fp16, w4a16, w4a16-asym, "
                             "w4a16-awq, w4a16-rtn, w4a16-asym-rtn, w3a16, "
                             "w3a16-rtn, w8a16, w8a16-rtn, w8a8, fp8, fp16-kvfp8, "
                             "w4a16-kvfp8, w4a16-rtn-kvfp8, fp16-kvint8, "
                             "fp16-kvint4, fp16-kvint2, w4a16-kvint8, "
                             "w4a16-kvint4, w4a16-kvint2; any of them "
                             "suffixed -rot (folded norms, rotated residual "
                             "stream); or a path to a .json recipe)";

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
                       {"name", "weights", "activations", "lm_head", "kv_cache",
                        "calibration", "fold_norms", "rotate"})))
    return failure();
  if (std::optional<StringRef> name = root->getString("name"))
    recipe.name = name->str();
  if (const llvm::json::Object *weights = root->getObject("weights"))
    if (failed(parseWeights(loc, *weights, recipe.linear)))
      return failure();
  if (const llvm::json::Value *a = root->get("activations")) {
    const llvm::json::Object *activations = a->getAsObject();
    if (!activations)
      return emitError(loc) << "recipe: activations must be an object";
    if (failed(parseActivations(loc, *activations, recipe.activations)))
      return failure();
  }
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
  if (const llvm::json::Value *kv = root->get("kv_cache"))
    if (failed(parseKvCacheRecipe(loc, *kv, recipe.kvCache)))
      return failure();
  if (failed(parseRotation(loc, *root, recipe.rotation)))
    return failure();
  if (failed(checkActivationsMatchWeights(loc, recipe)))
    return failure();
  return recipe;
}

} // namespace qtc
