/*===- qtc_compiler.h - C API of the qtc compiler --------------------------===
 *
 * Compiles a model (an .onnx file or a Hugging Face checkpoint folder) to a
 * .qtc artifact in the calling process, for hosts that cannot use the C++
 * JIT API (qtc/Pipeline/Jit.h): C programs and other languages. Part of
 * libqtcjit; the artifact is then loaded with the runtime's C API
 * (qtc_runtime.h).
 *
 *   qtc_compile_options options;
 *   qtc_compile_options_init(&options);
 *   options.recipe = "w4a16";
 *   if (qtc_compile("ckpt/", "model.qtc", &options) != QTC_OK)
 *     fprintf(stderr, "%s\n", qtc_compile_last_error());
 *
 *===----------------------------------------------------------------------===*/
#ifndef QTC_COMPILER_H
#define QTC_COMPILER_H

#include "qtc/rt/qtc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qtc_compile_options {
  const char *recipe;          /* a recipe name or .json file; NULL: "fp16" */
  const char *const *targets;  /* PTX targets ("sm_90"); num_targets 0: host only */
  int num_targets;
  const char *tokenizer_path;  /* NULL: tokenizer.model beside the model */
  const char *weights_path;    /* NULL: weights inside the artifact */
  const char *kernel_cache_dir;/* NULL: no kernel cache */
} qtc_compile_options;

/* Defaults: recipe fp16, no GPU targets, no kernel cache. */
QTC_API void qtc_compile_options_init(qtc_compile_options *options);

/* Compiles model_path into output_path; options may be NULL (defaults).
 * QTC_INVALID_ARGUMENT carries every compiler diagnostic in
 * qtc_compile_last_error(). */
QTC_API qtc_status qtc_compile(const char *model_path, const char *output_path,
                               const qtc_compile_options *options);

/* The message of this thread's last failed qtc_compile ("" if none). */
QTC_API const char *qtc_compile_last_error(void);

/* The compiler's version, "major.minor.patch". */
QTC_API const char *qtc_compiler_version(void);

#ifdef __cplusplus
}
#endif

#endif /* QTC_COMPILER_H */
