//===- KvCacheRecipe.h - The kv_cache field of a JSON recipe --------------===//
#ifndef QTC_LIB_PIPELINE_KVCACHERECIPE_H
#define QTC_LIB_PIPELINE_KVCACHERECIPE_H

#include "qtc/Pipeline/Recipe.h"

#include "llvm/Support/JSON.h"

namespace qtc {

// Reads `kv_cache`: a format name ("fp16", "fp8", "int8", "int4", "int2"),
// which takes that format's defaults, or an object with "format" and
// options. Unknown keys and contradictory options are errors naming the
// field.
mlir::LogicalResult parseKvCacheRecipe(mlir::Location loc, const llvm::json::Value &value,
                                       KvCacheRecipe &kv);

} // namespace qtc

#endif // QTC_LIB_PIPELINE_KVCACHERECIPE_H
