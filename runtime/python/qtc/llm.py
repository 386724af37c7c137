"""LLM: an artifact loaded in the runtime, with vLLM-like generate() and
request streaming over continuous batching (qtc_add_request / qtc_step)."""

import ctypes
import os
from dataclasses import dataclass, field
from typing import List, Optional

from . import _capi
from ._capi import check, int32_array, runtime

try:
    import numpy as _np
except ImportError:  # logits come back as lists
    _np = None


@dataclass
class SamplingParams:
    """What vLLM's SamplingParams calls the same. temperature 0: greedy (the
    most likely token, lowest id on ties)."""

    max_tokens: int = 16
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int = 0
    ignore_eos: bool = False

    def _to_c(self):
        if self.max_tokens <= 0:
            raise ValueError("max_tokens must be positive, got %r" % self.max_tokens)
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0, got %r" % self.temperature)
        sampling = _capi.Sampling()
        runtime().qtc_sampling_init(ctypes.byref(sampling))
        sampling.greedy = 1 if self.temperature == 0 else 0
        if self.temperature > 0:
            sampling.temperature = self.temperature
        sampling.top_k = self.top_k
        sampling.top_p = self.top_p
        sampling.min_p = self.min_p
        sampling.repetition_penalty = self.repetition_penalty
        sampling.presence_penalty = self.presence_penalty
        sampling.frequency_penalty = self.frequency_penalty
        sampling.seed = self.seed
        return sampling


@dataclass
class CompletionOutput:
    prompt: str
    token_ids: List[int] = field(default_factory=list)
    text: str = ""
    finish_reason: Optional[str] = None  # "length", "eos"


@dataclass
class StreamPiece:
    """One generated token of a streamed request and the text it adds."""

    index: int  # which prompt of the call
    token_id: int
    text: str
    finish_reason: Optional[str] = None


class LLM:
    """An engine over one .qtc artifact. Not thread-safe (as the C API)."""

    def __init__(self, artifact, backend="auto", host_threads=0):
        self._engine = None
        if backend not in _capi.BACKENDS:
            raise ValueError("backend must be one of %s" % sorted(_capi.BACKENDS))
        lib = runtime()
        options = _capi.EngineOptions()
        lib.qtc_engine_options_init(ctypes.byref(options))
        options.backend = _capi.BACKENDS[backend]
        options.host_threads = host_threads
        handle = ctypes.c_void_p()
        check(lib.qtc_engine_create(os.fspath(artifact).encode(), ctypes.byref(options),
                                    ctypes.byref(handle)))
        self._lib = lib
        self._engine = handle

    def close(self):
        if getattr(self, "_engine", None):
            self._lib.qtc_engine_destroy(self._engine)
            self._engine = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def backend(self):
        return self._lib.qtc_engine_backend_name(self._engine).decode()

    @property
    def vocab_size(self):
        return self._lib.qtc_engine_vocab_size(self._engine)

    def encode(self, text):
        """[bos] + pieces."""
        capacity = max(16, 2 * len(text) + 2)
        while True:
            ids = (ctypes.c_int32 * capacity)()
            count = ctypes.c_int()
            check(self._lib.qtc_encode(self._engine, text.encode(), ids, capacity,
                                       ctypes.byref(count)))
            if count.value <= capacity:
                return list(ids[: count.value])
            capacity = count.value

    def decode(self, token_ids):
        ids, n = int32_array(token_ids)
        length = ctypes.c_size_t()
        check(self._lib.qtc_decode(self._engine, ids, n, None, 0, ctypes.byref(length)))
        buffer = ctypes.create_string_buffer(length.value + 1)
        check(self._lib.qtc_decode(self._engine, ids, n, buffer, length.value + 1,
                                   ctypes.byref(length)))
        return buffer.raw[: length.value].decode("utf-8", "replace")

    def logits(self, prompt):
        """[len(ids), vocab] f32 logits after every position of the prompt
        (text or token ids): a numpy array when numpy is importable."""
        token_ids = self.encode(prompt) if isinstance(prompt, str) else list(prompt)
        ids, n = int32_array(token_ids)
        vocab = self.vocab_size
        out = (ctypes.c_float * (n * vocab))()
        check(self._lib.qtc_score_logits(self._engine, ids, n, out))
        if _np is not None:
            return _np.ctypeslib.as_array(out).reshape(n, vocab).copy()
        return [list(out[i * vocab:(i + 1) * vocab]) for i in range(n)]

    def _add(self, token_ids, sampling):
        ids, n = int32_array(token_ids)
        request = ctypes.c_int64()
        c_sampling = sampling._to_c()
        check(self._lib.qtc_add_request(self._engine, ids, n, sampling.max_tokens,
                                        ctypes.byref(c_sampling), 0 if sampling.ignore_eos else 1,
                                        ctypes.byref(request)))
        return request.value

    def generate_stream(self, prompts, sampling=None):
        """Runs every prompt as a request of one continuous batch and yields a
        StreamPiece per generated token, as the steps produce them."""
        sampling = sampling or SamplingParams()
        if isinstance(prompts, str):
            prompts = [prompts]
        ids = {}
        try:
            for index, prompt in enumerate(prompts):
                token_ids = self.encode(prompt) if isinstance(prompt, str) else list(prompt)
                ids[self._add(token_ids, sampling)] = index
            tokens = {index: [] for index in ids.values()}
            printed = {index: "" for index in ids.values()}
            capacity = self._lib.qtc_engine_max_running(self._engine)
            outputs = (_capi.RequestOutput * capacity)()
            count = ctypes.c_int()
            while ids and self._lib.qtc_engine_unfinished_requests(self._engine) > 0:
                check(self._lib.qtc_step(self._engine, outputs, capacity, ctypes.byref(count)))
                for out in outputs[: count.value]:
                    index = ids.get(out.id)
                    if index is None or out.token < 0:
                        continue
                    tokens[index].append(out.token)
                    # The whole continuation is detokenized so that pieces
                    # spanning tokens come out whole.
                    text = self.decode(tokens[index])
                    new = text[len(printed[index]):] if text.startswith(printed[index]) else ""
                    printed[index] = text if new else printed[index]
                    finish = _capi.FINISH_REASONS.get(out.finish)
                    if finish:
                        del ids[out.id]
                    yield StreamPiece(index, out.token, new, finish)
        finally:
            for request in ids:  # the caller stopped early: free their KV blocks
                self._lib.qtc_abort_request(self._engine, request)

    def stream(self, prompt, sampling=None):
        """generate_stream for one prompt."""
        return self.generate_stream([prompt], sampling)

    def generate(self, prompts, sampling=None):
        """vLLM's LLM.generate: one CompletionOutput per prompt, in order."""
        single = isinstance(prompts, str)
        prompts = [prompts] if single else list(prompts)
        results = [CompletionOutput(p if isinstance(p, str) else "") for p in prompts]
        for piece in self.generate_stream(prompts, sampling):
            out = results[piece.index]
            out.token_ids.append(piece.token_id)
            out.finish_reason = piece.finish_reason or out.finish_reason
        for out in results:
            out.text = self.decode(out.token_ids)
        return results
