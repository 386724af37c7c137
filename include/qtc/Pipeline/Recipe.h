//===- Recipe.h - Quantization recipes ------------------------------------===//
//
// A recipe says how each part of a model is stored and computed. Recipes are
// named (`fp16`; `w4a16` and `w4a16-asym`, int4 by GPTQ; `w4a16-awq`, int4
// by AWQ scales and round-to-nearest; `w4a16-rtn` and `w4a16-asym-rtn`, int4
// by round-to-nearest; `w3a16`, int3 by GPTQ; `w8a16`, int8 per output row
// by GPTQ; `w8a8`, SmoothQuant + int8 weights and per-token int8
// activations; `fp8`, e4m3 weights and per-token activations; `-rtn`
// variants; `fp16-kvfp8`, `w4a16-kvfp8` with an fp8 KV cache; `fp16-kvint8`,
// `fp16-kvint4`, `fp16-kvint2` and their `w4a16-` forms with integer KV
// caches; any of them suffixed `-rot`, e.g. `w4a16-rtn-rot`: the norms
// folded and the residual stream rotated first) or JSON files
// (docs/recipes.md has every key):
//
//   {
//     "name": "my-w4",
//     "weights": {"format": "int4", "group_size": 128, "symmetric": false,
//                 "smaller_groups": true, "method": "gptq",
//                 "gptq": {"dampening": 0.01, "block_size": 128,
//                          "act_order": true},
//                 "awq": {"grid": 20, "clip": true}},
//     "calibration": {"tokens": 8192, "seq_len": 256, "seed": 0,
//                     "data": "calib.txt"},
//     "lm_head": "fp16",
//     "kv_cache": "fp8",
//     "rotate": {"kind": "hadamard", "seed": 0}
//   }
//
// `weights` applies to every linear layer except the lm_head, which keeps
// fp16 unless "lm_head" says "weights" (quantize it like the others). The
// named int4 recipes use group 128 with smaller_groups: a layer whose input
// features 128 does not divide gets the largest power-of-two group that does.
// `method` is "rtn" (default for JSON), "gptq" or "awq", which calibrate first:
// `calibration.data` is a text or .bin token-id file, and without it the
// model samples its own calibration text (data-free).
// `kv_cache` is "fp16" (default), "fp8" (OCP FP8 E4M3 with scale 1; sm_89+ on
// the GPU), "int8", "int4", "int2", or an object with "format" and the
// options of KvCacheRecipe (docs/recipes.md): integer pages with f16 scales
// and zeros, KIVI's per-channel keys and f16 window, sinks, calibrated fp8
// scales. Integer and calibrated caches run on the host backend only.
// `rotate` is "none" (default), "hadamard" or {"kind": "hadamard", "seed":
// N}; `fold_norms` (a boolean) folds the norms without rotating, and false
// with a rotation is refused.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_PIPELINE_RECIPE_H
#define QTC_PIPELINE_RECIPE_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace qtc {

// A recipe's weight format: fp16, integer codes of 3, 4 or 8 bits in groups
// (or one group per output row), or fp8 e4m3 with one scale per output row.
enum class WeightFormat { F16, Int3, Int4, Int8, Fp8E4M3 };

// The format's name in recipes and in qtc-quantize-weights' `format` option
// ("fp16", "int3", "int4", "int8", "fp8").
llvm::StringRef weightFormatOption(WeightFormat format);

// The algorithm that computes quantized weights (a pass each).
// Awq: activation-aware scales folded into the producing ops, then RTN.
enum class WeightMethod { Rtn, Gptq, Awq };

struct GptqSpec {
  double dampening = 0.01;
  int blockSize = 128;
  bool actOrder = true;
};

struct AwqSpec {
  int grid = 20;     // alpha search points over [0, 1)
  bool clip = true;  // per-group clipping search after scaling
};

struct WeightSpec {
  WeightFormat format = WeightFormat::F16;
  int groupSize = 128;   // integer formats; 0: one scale per output row
  bool symmetric = true; // integer formats (int8: symmetric only)
  // Integer formats: a layer whose input features groupSize does not divide
  // uses the largest power-of-two group that does, instead of failing.
  bool smallerGroups = false;
  WeightMethod method = WeightMethod::Rtn;
  GptqSpec gptq;
  AwqSpec awq;
};

// What qtc-calibrate runs on, for methods that need activation statistics.
struct CalibrationSpec {
  std::string data; // text or .bin token ids; empty: data-free sampling
  int64_t tokens = 8192;
  int64_t seqLen = 256;
  uint64_t seed = 0;
};

enum class KvCacheFormat { F16, Fp8E4M3, Int8, Int4, Int2 };

// How the paged KV cache stores keys and values (qtc-quantize-kv-cache's
// options). The defaults per format: int8 per token, symmetric, blocks of
// 16; int4 and int2 as KIVI: keys per channel within blocks of 32, values
// per token, both asymmetric, the block being filled read in f16.
struct KvCacheRecipe {
  KvCacheFormat format = KvCacheFormat::F16;
  bool keysPerChannel = false;
  bool keySymmetric = false, valueSymmetric = false;
  int blockSize = 16, residualWindow = 0, sinkTokens = 0;
  // fp8: "one" (scale 1), "layer" or "head" (calibrated).
  std::string fp8Scales = "one";

  static KvCacheRecipe defaults(KvCacheFormat format);
  bool isInteger() const {
    return format == KvCacheFormat::Int8 || format == KvCacheFormat::Int4 ||
           format == KvCacheFormat::Int2;
  }
  bool calibrated() const { return format == KvCacheFormat::Fp8E4M3 && fp8Scales != "one"; }
};

// Dynamic per-token quantization of every quantized linear's input (W8A8):
// int8 needs int8 weights with one scale per row, fp8 fp8 weights.
enum class ActivationFormat { None, Int8, Fp8E4M3 };

struct ActivationSpec {
  ActivationFormat format = ActivationFormat::None;
  // SmoothQuant before quantizing: migration strength alpha in [0, 1].
  bool smooth = false;
  double alpha = 0.5;
};

// Rotations merged offline into the weights before anything is quantized:
// qtc-fold-norms (RMSNorm scales into the linears reading them) and
// qtc-rotate (QuaRot's randomized Hadamard rotation of the residual stream,
// which needs the norms folded, so it implies foldNorms).
struct RotationSpec {
  bool foldNorms = false;
  bool hadamard = false;
  uint64_t seed = 0;
};

struct Recipe {
  std::string name = "fp16";
  RotationSpec rotation;
  WeightSpec linear;
  bool quantizeLmHead = false;
  KvCacheRecipe kvCache;
  ActivationSpec activations;
  CalibrationSpec calibration;

  // Whether compiling this recipe runs qtc-calibrate.
  bool needsCalibration() const {
    return (linear.format != WeightFormat::F16 &&
            linear.method != WeightMethod::Rtn) ||
           activations.smooth || kvCache.calibrated();
  }

  // The oldest sm_XX version whose kernels this recipe needs (fp8
  // activations or KV cache: sm_89; int8 activations, fp8 weights: sm_80),
  // 0 for any; `why`
  // gets the part of the recipe that needs it.
  int minimumSm(std::string *why = nullptr) const;
};

// Resolves a recipe name or a path to a recipe JSON file. Errors (unknown
// name, unreadable file, bad JSON, unknown keys, impossible values) are
// reported at `loc`.
mlir::FailureOr<Recipe> resolveRecipe(mlir::Location loc,
                                      llvm::StringRef nameOrPath);

} // namespace qtc

#endif // QTC_PIPELINE_RECIPE_H
