"""qtc.compile: the compiler in this process, through libqtcjit's C entry
point (qtc/Pipeline/qtc_compiler.h)."""

import ctypes
import os

from . import _paths
from ._capi import QtcError, load_library


class _CompileOptions(ctypes.Structure):
    _fields_ = [
        ("recipe", ctypes.c_char_p),
        ("targets", ctypes.POINTER(ctypes.c_char_p)),
        ("num_targets", ctypes.c_int),
        ("tokenizer_path", ctypes.c_char_p),
        ("weights_path", ctypes.c_char_p),
        ("kernel_cache_dir", ctypes.c_char_p),
    ]


_jit = None


def _library():
    global _jit
    if _jit is None:
        lib = load_library(_paths.JIT_SONAME)
        lib.qtc_compile.restype = ctypes.c_int
        lib.qtc_compile.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                    ctypes.POINTER(_CompileOptions)]
        lib.qtc_compile_last_error.restype = ctypes.c_char_p
        lib.qtc_compile_last_error.argtypes = []
        _jit = lib
    return _jit


def compiler_available():
    """Whether libqtcjit is installed (a runtime-only install has none)."""
    try:
        _library()
        return True
    except OSError:
        return False


def _encode(value):
    return None if value is None else os.fspath(value).encode()


def compile(model, output, recipe="fp16", target="host", tokenizer=None, weights=None,
            kernel_cache=None):
    """Compiles `model` (an .onnx file or a Hugging Face checkpoint folder) to
    the artifact `output` and returns its path.

    recipe: a recipe name ("fp16", "w4a16", ...) or a .json file.
    target: "host" (no GPU kernels), a PTX target ("sm_90"), or a list of them.
    weights: write the weights to this file instead of into the artifact.
    kernel_cache: a folder to reuse lowered GPU kernels from.
    Raises QtcError with the compiler's diagnostics when the compile fails."""
    targets = [target] if isinstance(target, str) else list(target)
    targets = [t for t in targets if t != "host"]
    encoded = [t.encode() for t in targets]
    options = _CompileOptions(
        recipe=recipe.encode() if recipe else None,
        targets=(ctypes.c_char_p * max(1, len(encoded)))(*encoded),
        num_targets=len(encoded),
        tokenizer_path=_encode(tokenizer),
        weights_path=_encode(weights),
        kernel_cache_dir=_encode(kernel_cache),
    )
    lib = _library()
    status = lib.qtc_compile(_encode(model), _encode(output), ctypes.byref(options))
    if status != 0:
        raise QtcError(status, lib.qtc_compile_last_error().decode("utf-8", "replace"))
    return os.fspath(output)
