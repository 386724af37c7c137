# -*- Python -*-
# lit configuration for qtc: dialect, pass, import, codegen and end-to-end tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "QTC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qtc_obj_root, "test")
config.excludes = ["Inputs", "unit", "gpu", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]

# qtc compile's kernel cache stays out of the user's cache folder: tests
# that exercise it name their own.
config.environment["QTC_KERNEL_CACHE"] = "0"

# Variables are scoped to their CHECK-LABEL block.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

# Sanitizer settings of the asan preset reach the tools under test.
# allow_user_poisoning=0: the LLVM/MLIR dylibs are not instrumented, but the
# allocator code LLVM's headers inline into our instrumented binaries poisons
# arena memory those dylibs then write, which ASan would report falsely.
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shared_models", config.shared_models_dir))
config.substitutions.append(("%qtc_src_root", config.qtc_src_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.qtc_tools_dir, config.qtc_runtime_tools_dir,
             config.llvm_tools_dir]
tools = ["qtc-opt", "qtc", "qtc-run", "qtc-kernelgen", "qtc-translate", "sampling-check"]
llvm_config.add_tool_substitutions(
    [t for t in tools if any(os.path.exists(os.path.join(d, t)) for d in tool_dirs)],
    tool_dirs)

# Features for tests that need the shared models or Python's onnx.
if os.path.isdir(os.path.join(config.shared_models_dir, "kjv-llama-6m")):
    config.available_features.add("shared-models")

# test/gpu/sampling-check is built with the CUDA backend (cuda.h found); its
# rules are checked on the host backend alone here.
if any(os.path.exists(os.path.join(d, "sampling-check")) for d in tool_dirs):
    config.available_features.add("sampling-check")
