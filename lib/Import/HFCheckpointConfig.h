//===- HFCheckpointConfig.h - Hugging Face config.json reader ---*- C++ -*-===//

#ifndef QTC_LIB_IMPORT_HFCHECKPOINTCONFIG_H
#define QTC_LIB_IMPORT_HFCHECKPOINTCONFIG_H

#include "TransformerConfig.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"

namespace qtc {

/// Reads the config.json at `path` (contents `text`) of a Llama-family model:
/// LlamaForCausalLM (Llama 2/3, incl. llama3 RoPE scaling),
/// MistralForCausalLM or Qwen2ForCausalLM. Accepts both the transformers 4
/// keys (`rope_theta`, `rope_scaling`) and the transformers 5
/// `rope_parameters`. Fields a config may omit take transformers' defaults;
/// the others are required. Diagnostics point at the field's line in the
/// file.
mlir::FailureOr<TransformerConfig> parseHFConfig(mlir::MLIRContext &context,
                                                 llvm::StringRef path,
                                                 llvm::StringRef text);

/// Reads and parses the config.json at `path`.
mlir::FailureOr<TransformerConfig> readHFConfig(mlir::MLIRContext &context,
                                                llvm::StringRef path);

} // namespace qtc

#endif // QTC_LIB_IMPORT_HFCHECKPOINTCONFIG_H
