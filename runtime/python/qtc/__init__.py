"""qtc from Python: compile models and generate with the qtc runtime.

    import qtc
    qtc.compile("ckpt/", "model.qtc", recipe="w4a16", target="host")
    llm = qtc.LLM("model.qtc")
    for out in llm.generate(["In the beginning"], qtc.SamplingParams(max_tokens=16)):
        print(out.text)
    for piece in llm.stream("And God said", qtc.SamplingParams(max_tokens=16)):
        print(piece.text, end="", flush=True)

The package calls the C APIs (qtc_runtime.h in libqtcrt, qtc_compiler.h in
libqtcjit) through ctypes. ctypes is in the standard library, so the package
adds no dependency and no build step: one copy serves every Python 3 version,
and a runtime-only install (no compiler, no LLVM) still runs artifacts. A
compiled extension (pybind11) would tie the install to one Python ABI and add
a build dependency for a binding that only forwards calls.

numpy is optional: when it is importable, logits come back as numpy arrays;
otherwise as lists of floats.

Libraries are found beside this package's install (<prefix>/lib), at
$QTC_LIBRARY_DIR, or on the system's library path.
"""

from ._capi import QtcError, runtime_version
from .compiler import compile, compiler_available
from .llm import LLM, CompletionOutput, SamplingParams, StreamPiece

__all__ = [
    "LLM",
    "CompletionOutput",
    "QtcError",
    "SamplingParams",
    "StreamPiece",
    "compile",
    "compiler_available",
    "runtime_version",
]
