"""ctypes declarations of the runtime's C API (qtc/rt/qtc_runtime.h)."""

import ctypes
import os

from . import _paths


class QtcError(RuntimeError):
    """A qtc call failed; the message is the library's (qtc_last_error)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _candidates(soname):
    env = os.environ.get("QTC_LIBRARY_DIR")
    if env:
        return [os.path.join(env, soname)]
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.normpath(os.path.join(here, _paths.LIBDIR_FROM_PACKAGE, soname)), soname]


def load_library(soname):
    """The first candidate that loads; OSError naming every attempt otherwise."""
    errors = []
    for path in _candidates(soname):
        try:
            return ctypes.CDLL(path)
        except OSError as error:
            errors.append(str(error))
    raise OSError("cannot load %s (set QTC_LIBRARY_DIR):\n  %s" % (soname, "\n  ".join(errors)))


QTC_BACKEND_AUTO, QTC_BACKEND_HOST, QTC_BACKEND_CUDA = 0, 1, 2
BACKENDS = {"auto": QTC_BACKEND_AUTO, "host": QTC_BACKEND_HOST, "cuda": QTC_BACKEND_CUDA}
FINISH_REASONS = {0: None, 1: "length", 2: "eos", 3: "aborted", 4: "stop"}


class EngineOptions(ctypes.Structure):
    _fields_ = [
        ("backend", ctypes.c_int),
        ("num_kv_blocks", ctypes.c_int),
        ("kv_memory_bytes", ctypes.c_uint64),
        ("max_tokens_per_call", ctypes.c_int),
        ("device_ordinal", ctypes.c_int),
        ("host_threads", ctypes.c_int),
        ("load_format", ctypes.c_int),
        ("dummy_weight_seed", ctypes.c_uint64),
    ]


class Sampling(ctypes.Structure):
    _fields_ = [
        ("greedy", ctypes.c_int),
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_int),
        ("seed", ctypes.c_uint64),
        ("top_p", ctypes.c_float),
        ("min_p", ctypes.c_float),
        ("repetition_penalty", ctypes.c_float),
        ("presence_penalty", ctypes.c_float),
        ("frequency_penalty", ctypes.c_float),
    ]


class RequestOutput(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_int64),
        ("token", ctypes.c_int32),
        ("finish", ctypes.c_int),
        ("generated_tokens", ctypes.c_int64),
    ]


class TokenLogprob(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int32), ("logprob", ctypes.c_float)]


class TokenOutput(ctypes.Structure):
    """qtc_token_output: owned by the library, read through a pointer."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("id", ctypes.c_int64),
        ("token", ctypes.c_int32),
        ("finish", ctypes.c_int),
        ("generated_tokens", ctypes.c_int64),
        ("text", ctypes.c_void_p),  # text_length bytes of UTF-8
        ("text_length", ctypes.c_size_t),
        ("logprob", ctypes.c_float),
        ("num_top_logprobs", ctypes.c_int),
        ("top_logprobs", ctypes.POINTER(TokenLogprob)),
    ]

    def text_bytes(self):
        return ctypes.string_at(self.text, self.text_length) if self.text_length else b""

    def top(self):
        return [(self.top_logprobs[i].id, self.top_logprobs[i].logprob)
                for i in range(self.num_top_logprobs)]


# int (*)(const qtc_token_output *, void *user_data)
TOKEN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(TokenOutput), ctypes.c_void_p)

_I32P = ctypes.POINTER(ctypes.c_int32)


def _declare(lib):
    c = ctypes
    sigs = {
        "qtc_engine_options_init": (None, [c.POINTER(EngineOptions)]),
        "qtc_sampling_init": (None, [c.POINTER(Sampling)]),
        "qtc_last_error": (c.c_char_p, []),
        "qtc_runtime_version": (c.c_char_p, []),
        "qtc_engine_create": (c.c_int, [c.c_char_p, c.POINTER(EngineOptions), c.POINTER(c.c_void_p)]),
        "qtc_engine_destroy": (None, [c.c_void_p]),
        "qtc_engine_backend_name": (c.c_char_p, [c.c_void_p]),
        "qtc_engine_vocab_size": (c.c_int, [c.c_void_p]),
        "qtc_add_request": (c.c_int, [c.c_void_p, _I32P, c.c_int, c.c_int, c.POINTER(Sampling),
                                      c.c_int, c.POINTER(c.c_int64)]),
        "qtc_step": (c.c_int, [c.c_void_p, c.POINTER(RequestOutput), c.c_int, c.POINTER(c.c_int)]),
        "qtc_step_output": (c.POINTER(TokenOutput), [c.c_void_p, c.c_int]),
        "qtc_request_options_create": (c.c_int, [c.POINTER(c.c_void_p)]),
        "qtc_request_options_destroy": (None, [c.c_void_p]),
        "qtc_request_options_set_max_new_tokens": (c.c_int, [c.c_void_p, c.c_int]),
        "qtc_request_options_set_sampling": (c.c_int, [c.c_void_p, c.POINTER(Sampling)]),
        "qtc_request_options_set_stop_at_eos": (c.c_int, [c.c_void_p, c.c_int]),
        "qtc_request_options_set_stop_token_ids": (c.c_int, [c.c_void_p, _I32P, c.c_int]),
        "qtc_request_options_set_stop_strings": (c.c_int, [c.c_void_p, c.POINTER(c.c_char_p),
                                                           c.c_int]),
        "qtc_request_options_set_detokenize": (c.c_int, [c.c_void_p, c.c_int]),
        "qtc_request_options_set_logprobs": (c.c_int, [c.c_void_p, c.c_int]),
        "qtc_request_options_set_callback": (c.c_int, [c.c_void_p, TOKEN_CALLBACK, c.c_void_p]),
        "qtc_add_request_with_options": (c.c_int, [c.c_void_p, _I32P, c.c_int, c.c_void_p,
                                                   c.POINTER(c.c_int64)]),
        "qtc_engine_kv_blocks": (c.c_int, [c.c_void_p]),
        "qtc_engine_free_kv_blocks": (c.c_int, [c.c_void_p]),
        "qtc_abort_request": (c.c_int, [c.c_void_p, c.c_int64]),
        "qtc_engine_unfinished_requests": (c.c_int, [c.c_void_p]),
        "qtc_engine_max_running": (c.c_int, [c.c_void_p]),
        "qtc_encode": (c.c_int, [c.c_void_p, c.c_char_p, _I32P, c.c_int, c.POINTER(c.c_int)]),
        "qtc_decode": (c.c_int, [c.c_void_p, _I32P, c.c_int, c.c_char_p, c.c_size_t,
                                 c.POINTER(c.c_size_t)]),
        "qtc_score": (c.c_int, [c.c_void_p, _I32P, c.c_int, _I32P, c.POINTER(c.c_float)]),
        "qtc_score_logits": (c.c_int, [c.c_void_p, _I32P, c.c_int, c.POINTER(c.c_float)]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


_runtime = None


def runtime():
    """libqtcrt, loaded and declared on first use."""
    global _runtime
    if _runtime is None:
        lib = load_library(_paths.RUNTIME_SONAME)
        _declare(lib)
        _runtime = lib
    return _runtime


def check(status):
    if status != 0:
        raise QtcError(status, runtime().qtc_last_error().decode("utf-8", "replace"))


def runtime_version():
    """The loaded libqtcrt's version, "major.minor.patch"."""
    return runtime().qtc_runtime_version().decode()


def int32_array(values):
    values = list(values)
    return (ctypes.c_int32 * max(1, len(values)))(*values), len(values)
