//===- CompilerCApi.cpp - C API of the qtc compiler -----------------------===//

#include "qtc/Pipeline/qtc_compiler.h"

#include "qtc/Pipeline/Compile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <exception>
#include <string>

namespace {

thread_local std::string lastError;

std::string orEmpty(const char *s) { return s ? std::string(s) : std::string(); }

} // namespace

extern "C" {

void qtc_compile_options_init(qtc_compile_options *options) {
  if (!options)
    return;
  *options = qtc_compile_options{};
  options->recipe = "fp16";
}

qtc_status qtc_compile(const char *model_path, const char *output_path,
                       const qtc_compile_options *options) {
  lastError.clear();
  if (!model_path || !*model_path || !output_path || !*output_path) {
    lastError = "qtc_compile: model_path and output_path must be non-empty";
    return QTC_INVALID_ARGUMENT;
  }
  qtc_compile_options defaults;
  qtc_compile_options_init(&defaults);
  if (!options)
    options = &defaults;
  if (options->num_targets < 0 || (options->num_targets > 0 && !options->targets)) {
    lastError = "qtc_compile: num_targets must be >= 0, with that many targets";
    return QTC_INVALID_ARGUMENT;
  }
  try {
    qtc::CompileOptions compile;
    compile.modelPath = model_path;
    compile.outputPath = output_path;
    compile.recipe = options->recipe && *options->recipe ? options->recipe : "fp16";
    compile.targets.clear();
    for (int i = 0; i < options->num_targets; ++i) {
      if (!options->targets[i] || !*options->targets[i]) {
        lastError = "qtc_compile: target " + std::to_string(i) + " is empty";
        return QTC_INVALID_ARGUMENT;
      }
      compile.targets.push_back(options->targets[i]);
    }
    compile.tokenizerPath = orEmpty(options->tokenizer_path);
    compile.weightsFilePath = orEmpty(options->weights_path);
    compile.kernelCacheDir = orEmpty(options->kernel_cache_dir);

    mlir::MLIRContext context;
    qtc::loadPipelineDialects(context);
    // Diagnostics go into the error message instead of stderr.
    std::string diagnostics;
    llvm::raw_string_ostream diagStream(diagnostics);
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      diagStream << d.getLocation() << ": " << d << "\n";
      return mlir::success();
    });
    if (mlir::failed(qtc::compileModel(context, compile))) {
      lastError = "compiling " + compile.modelPath + " failed:\n" + diagnostics;
      return QTC_INVALID_ARGUMENT;
    }
    return QTC_OK;
  } catch (const std::exception &e) {
    lastError = std::string("qtc_compile: ") + e.what();
    return QTC_INTERNAL;
  }
}

const char *qtc_compile_last_error(void) { return lastError.c_str(); }

const char *qtc_compiler_version(void) { return QTC_VERSION; }

} // extern "C"
