"""LLM: an artifact loaded in the runtime, with vLLM-like generate() and
request streaming over continuous batching (qtc_add_request / qtc_step)."""

import ctypes
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from . import _capi
from ._capi import check, int32_array, runtime

try:
    import numpy as _np
except ImportError:  # logits come back as lists
    _np = None


@dataclass
class SamplingParams:
    """What vLLM's SamplingParams calls the same. temperature 0: greedy (the
    most likely token, lowest id on ties).

    stop: strings (or one string) that end the output where it contains one,
    across token boundaries; the text stops before it (and it never appears
    in a streamed piece). stop_token_ids: ids that end it (kept in token_ids,
    their text left out). logprobs: None, or how many of the most likely
    tokens' log-probabilities to give with each token's own (its log softmax
    under the model)."""

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
    stop: Union[None, str, Sequence[str]] = None
    stop_token_ids: Sequence[int] = ()
    logprobs: Optional[int] = None

    def stop_strings(self):
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def _check(self):
        if self.max_tokens <= 0:
            raise ValueError("max_tokens must be positive, got %r" % self.max_tokens)
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0, got %r" % self.temperature)
        for stop in self.stop_strings():
            if not isinstance(stop, str) or not stop:
                raise ValueError("stop strings must be non-empty strings, got %r" % (stop,))
        if self.logprobs is not None and self.logprobs < 0:
            raise ValueError("logprobs must be None or >= 0, got %r" % self.logprobs)

    def _to_c(self):
        self._check()
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
    finish_reason: Optional[str] = None  # "length", "eos", "stop", "aborted"
    # With SamplingParams.logprobs: per token, {id: logprob} of the token and
    # of the most likely ones (as vLLM's), and the sum of the tokens' own.
    logprobs: Optional[List[Dict[int, float]]] = None
    cumulative_logprob: Optional[float] = None


@dataclass
class StreamPiece:
    """One generated token of a streamed request and the text it adds (text
    that may begin a stop string is held back to a later piece)."""

    index: int  # which prompt of the call
    token_id: int
    text: str
    finish_reason: Optional[str] = None
    # With SamplingParams.logprobs: the token's log-probability, and
    # [(id, logprob)] of the most likely tokens, most likely first.
    logprob: Optional[float] = None
    top_logprobs: Optional[List[Tuple[int, float]]] = None


def _piece(out, index, with_logprobs):
    """A StreamPiece of a qtc_token_output."""
    return StreamPiece(index, out.token, out.text_bytes().decode("utf-8", "replace"),
                       _capi.FINISH_REASONS.get(out.finish),
                       out.logprob if with_logprobs else None,
                       out.top() if with_logprobs else None)


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

    def _request_options(self, sampling, callback):
        """A qtc_request_options for `sampling` (the caller destroys it)."""
        lib = self._lib
        c_sampling = sampling._to_c()
        options = ctypes.c_void_p()
        check(lib.qtc_request_options_create(ctypes.byref(options)))
        try:
            check(lib.qtc_request_options_set_max_new_tokens(options, sampling.max_tokens))
            check(lib.qtc_request_options_set_sampling(options, ctypes.byref(c_sampling)))
            check(lib.qtc_request_options_set_stop_at_eos(options, 0 if sampling.ignore_eos else 1))
            ids, n = int32_array(int(i) for i in sampling.stop_token_ids)
            check(lib.qtc_request_options_set_stop_token_ids(options, ids, n))
            stops = [s.encode() for s in sampling.stop_strings()]
            check(lib.qtc_request_options_set_stop_strings(
                options, (ctypes.c_char_p * max(1, len(stops)))(*stops), len(stops)))
            check(lib.qtc_request_options_set_detokenize(options, 1))
            check(lib.qtc_request_options_set_logprobs(
                options, -1 if sampling.logprobs is None else sampling.logprobs))
            if callback is not None:
                check(lib.qtc_request_options_set_callback(options, callback, None))
        except BaseException:
            lib.qtc_request_options_destroy(options)
            raise
        return options

    def _add(self, token_ids, options):
        ids, n = int32_array(token_ids)
        request = ctypes.c_int64()
        check(self._lib.qtc_add_request_with_options(self._engine, ids, n, options,
                                                     ctypes.byref(request)))
        return request.value

    def generate_stream(self, prompts, sampling=None, on_token=None):
        """Runs every prompt as a request of one continuous batch and yields a
        StreamPiece per generated token, as the steps produce them.

        on_token(piece) is called inside the step that generates each token;
        returning False cancels that piece's request (it ends with
        finish_reason "aborted" and its KV blocks are freed in that step; the
        others go on). An exception it raises is raised from the iterator
        after the step, and the call's requests are aborted. Closing the
        iterator early aborts the requests still running."""
        sampling = sampling or SamplingParams()
        if isinstance(prompts, str):
            prompts = [prompts]
        with_logprobs = sampling.logprobs is not None
        ids = {}
        raised = []

        def call(out_pointer, _user_data):
            out = out_pointer.contents
            try:
                return 0 if on_token(_piece(out, ids[out.id], with_logprobs)) is False else 1
            except BaseException as error:  # no exception may cross the C boundary
                raised.append(error)
                return 0

        # Kept alive while the requests run: the library holds its address.
        callback = _capi.TOKEN_CALLBACK(call) if on_token is not None else None
        options = self._request_options(sampling, callback)
        try:
            try:
                for index, prompt in enumerate(prompts):
                    token_ids = self.encode(prompt) if isinstance(prompt, str) else list(prompt)
                    ids[self._add(token_ids, options)] = index
            finally:
                self._lib.qtc_request_options_destroy(options)
            capacity = self._lib.qtc_engine_max_running(self._engine)
            outputs = (_capi.RequestOutput * capacity)()
            count = ctypes.c_int()
            while ids and self._lib.qtc_engine_unfinished_requests(self._engine) > 0:
                check(self._lib.qtc_step(self._engine, outputs, capacity, ctypes.byref(count)))
                pieces = []
                for i in range(count.value):
                    out = self._lib.qtc_step_output(self._engine, i).contents
                    index = ids.get(out.id)
                    if index is None or out.token < 0:
                        continue
                    piece = _piece(out, index, with_logprobs)
                    if piece.finish_reason:
                        del ids[out.id]
                    pieces.append(piece)
                if raised:
                    raise raised[0]
                for piece in pieces:
                    yield piece
        finally:
            for request in ids:  # the caller stopped early: free their KV blocks
                self._lib.qtc_abort_request(self._engine, request)

    def stream(self, prompt, sampling=None, on_token=None):
        """generate_stream for one prompt."""
        return self.generate_stream([prompt], sampling, on_token)

    def generate(self, prompts, sampling=None, on_token=None):
        """vLLM's LLM.generate: one CompletionOutput per prompt, in order.
        on_token: as generate_stream's."""
        sampling = sampling or SamplingParams()
        single = isinstance(prompts, str)
        prompts = [prompts] if single else list(prompts)
        results = [CompletionOutput(p if isinstance(p, str) else "") for p in prompts]
        if sampling.logprobs is not None:
            for out in results:
                out.logprobs, out.cumulative_logprob = [], 0.0
        for piece in self.generate_stream(prompts, sampling, on_token):
            out = results[piece.index]
            out.token_ids.append(piece.token_id)
            out.text += piece.text
            out.finish_reason = piece.finish_reason or out.finish_reason
            if piece.logprob is not None:
                entry = dict(piece.top_logprobs)
                entry[piece.token_id] = piece.logprob
                out.logprobs.append(entry)
                out.cumulative_logprob += piece.logprob
        return results
