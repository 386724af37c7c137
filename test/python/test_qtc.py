"""Tests of the qtc Python package against an installed qtc (run by
scripts/check-install with PYTHONPATH at the install's dist-packages).

QTC_TEST_MODEL: the bundled checkpoint folder; QTC_TEST_ARTIFACT: it compiled
(fp16, host); QTC_TEST_QTC_RUN: the installed qtc-run, the reference."""

import json
import os
import subprocess
import tempfile
import unittest

import numpy

import qtc

MODEL = os.environ["QTC_TEST_MODEL"]
ARTIFACT = os.environ["QTC_TEST_ARTIFACT"]
QTC_RUN = os.environ["QTC_TEST_QTC_RUN"]


def qtc_run_tokens(prompt, n, *extra):
    out = subprocess.run([QTC_RUN, ARTIFACT, "--prompt", prompt, "-n", str(n), "--backend",
                          "host", "--json", *extra], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["tokens"]


class CompileTest(unittest.TestCase):
    def test_compile_writes_an_artifact_that_loads(self):
        self.assertTrue(qtc.compiler_available())
        with tempfile.TemporaryDirectory() as tmp:
            path = qtc.compile(MODEL, os.path.join(tmp, "m.qtc"), recipe="fp16", target="host")
            with qtc.LLM(path, backend="host") as llm:
                self.assertEqual(llm.backend, "host")
                self.assertGreater(llm.vocab_size, 0)

    def test_compile_error_carries_the_diagnostic(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(qtc.QtcError) as caught:
                qtc.compile(os.path.join(tmp, "missing"), os.path.join(tmp, "m.qtc"))
            self.assertIn("missing", str(caught.exception))

    def test_unknown_recipe_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(qtc.QtcError) as caught:
                qtc.compile(MODEL, os.path.join(tmp, "m.qtc"), recipe="no-such-recipe")
            self.assertIn("no-such-recipe", str(caught.exception))


class LLMTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.llm = qtc.LLM(ARTIFACT, backend="host")

    @classmethod
    def tearDownClass(cls):
        cls.llm.close()

    def test_missing_artifact_raises(self):
        with self.assertRaises(qtc.QtcError):
            qtc.LLM("/nonexistent.qtc")

    def test_greedy_generate_equals_qtc_run(self):
        prompts = ["In the beginning", "And the earth was"]
        outs = self.llm.generate(prompts, qtc.SamplingParams(max_tokens=6))
        self.assertEqual(len(outs), 2)
        for prompt, out in zip(prompts, outs):
            self.assertEqual(out.token_ids, qtc_run_tokens(prompt, 6))
            self.assertEqual(out.finish_reason, "length")
            self.assertEqual(out.text, self.llm.decode(out.token_ids))

    def test_sampled_generate_equals_qtc_run(self):
        sampling = qtc.SamplingParams(max_tokens=6, temperature=0.8, top_k=20, seed=7)
        out = self.llm.generate("In the beginning", sampling)[0]
        self.assertEqual(out.token_ids, qtc_run_tokens("In the beginning", 6, "--temperature",
                                                       "0.8", "--top-k", "20", "--seed", "7"))

    def test_top_p_min_p_and_penalties_equal_qtc_run(self):
        sampling = qtc.SamplingParams(max_tokens=8, temperature=1.1, top_p=0.9, min_p=0.02,
                                      repetition_penalty=1.2, presence_penalty=0.3,
                                      frequency_penalty=0.2, seed=5)
        out = self.llm.generate("And God said", sampling)[0]
        self.assertEqual(out.token_ids, qtc_run_tokens(
            "And God said", 8, "--temperature", "1.1", "--top-p", "0.9", "--min-p", "0.02",
            "--repetition-penalty", "1.2", "--presence-penalty", "0.3",
            "--frequency-penalty", "0.2", "--seed", "5"))

    def test_stream_yields_the_generated_tokens_and_text(self):
        sampling = qtc.SamplingParams(max_tokens=8)
        pieces = list(self.llm.stream("And God said", sampling))
        whole = self.llm.generate("And God said", sampling)[0]
        self.assertEqual([p.token_id for p in pieces], whole.token_ids)
        self.assertEqual("".join(p.text for p in pieces), whole.text)
        self.assertEqual(pieces[-1].finish_reason, "length")

    def test_stopping_a_stream_early_aborts_its_request(self):
        stream = self.llm.stream("And God said", qtc.SamplingParams(max_tokens=16))
        next(stream)
        stream.close()
        self.assertEqual(self.llm._lib.qtc_engine_unfinished_requests(self.llm._engine), 0)

    def test_logits_are_a_numpy_array_whose_argmax_is_the_greedy_token(self):
        ids = self.llm.encode("In the beginning")
        logits = self.llm.logits(ids)
        self.assertIsInstance(logits, numpy.ndarray)
        self.assertEqual(logits.shape, (len(ids), self.llm.vocab_size))
        first = self.llm.generate([ids], qtc.SamplingParams(max_tokens=1))[0].token_ids[0]
        self.assertEqual(int(numpy.argmax(logits[-1])), first)

    def _free(self, prompt, n):
        """Greedy tokens and text of prompt, with nothing to stop them."""
        out = self.llm.generate(prompt, qtc.SamplingParams(max_tokens=n, ignore_eos=True))[0]
        return out.token_ids, out.text

    def test_stop_string_across_tokens_ends_the_text_before_it(self):
        prompt = "And God said"
        tokens, whole = self._free(prompt, 16)
        self.assertEqual(tokens, qtc_run_tokens(prompt, 16, "--ignore-eos"))
        # Two characters before and after a token boundary, first found there.
        stop = at = last = None
        for k in range(2, len(tokens) - 2):
            head = self.llm.decode(tokens[:k])
            candidate = whole[len(head) - 2:len(head) + 2]
            if (len(head) >= 2 and whole.startswith(head) and len(candidate) == 4
                    and whole.find(candidate) == len(head) - 2):
                stop, at = candidate, len(head) - 2
                break
        self.assertIsNotNone(stop, "no stop string spans tokens in %r" % whole)
        last = next(k for k in range(1, len(tokens) + 1)
                    if len(self.llm.decode(tokens[:k])) >= at + len(stop))
        sampling = qtc.SamplingParams(max_tokens=16, ignore_eos=True, stop=["\x01never", stop])
        out = self.llm.generate(prompt, sampling)[0]
        self.assertEqual(out.finish_reason, "stop")
        self.assertEqual(out.text, whole[:at])
        self.assertEqual(out.token_ids, tokens[:last])
        pieces = list(self.llm.stream(prompt, sampling))
        self.assertEqual("".join(p.text for p in pieces), whole[:at])
        self.assertTrue(all(stop not in p.text for p in pieces))

    def test_stop_token_is_kept_in_the_tokens_but_not_the_text(self):
        tokens, _ = self._free("In the beginning", 12)
        stop = tokens[4]
        first = tokens.index(stop)
        out = self.llm.generate("In the beginning", qtc.SamplingParams(
            max_tokens=12, ignore_eos=True, stop_token_ids=[stop]))[0]
        self.assertEqual(out.finish_reason, "stop")
        self.assertEqual(out.token_ids, tokens[:first + 1])
        self.assertEqual(out.text, self.llm.decode(tokens[:first]))

    def test_logprobs_are_the_models_log_softmax(self):
        prompt = self.llm.encode("The LORD is")
        sampling = qtc.SamplingParams(max_tokens=5, temperature=0.9, top_p=0.9, seed=3,
                                      logprobs=3)
        out = self.llm.generate([prompt], sampling)[0]
        self.assertEqual(len(out.logprobs), len(out.token_ids))
        logits = self.llm.logits(prompt + out.token_ids).astype(numpy.float64)
        total = 0.0
        for t, (token, entry) in enumerate(zip(out.token_ids, out.logprobs)):
            row = logits[len(prompt) - 1 + t]
            log_softmax = row - row.max() - numpy.log(numpy.exp(row - row.max()).sum())
            self.assertAlmostEqual(entry[token], log_softmax[token], delta=1e-3)
            top = [int(i) for i in numpy.argsort(-row, kind="stable")[:3]]
            self.assertTrue(set(top) <= set(entry), (top, entry))
            for i in top:
                self.assertAlmostEqual(entry[i], log_softmax[i], delta=1e-3)
            total += entry[token]
        self.assertAlmostEqual(out.cumulative_logprob, total, places=4)
        # Logprobs do not change the tokens.
        sampling.logprobs = None
        self.assertEqual(self.llm.generate([prompt], sampling)[0].token_ids, out.token_ids)

    def test_on_token_cancels_its_request_beside_another(self):
        lib, engine = self.llm._lib, self.llm._engine
        free_blocks = lib.qtc_engine_free_kv_blocks(engine)
        seen = []

        def on_token(piece):
            if piece.index == 0:
                seen.append(piece.token_id)
                return len(seen) < 3
            return None  # going on

        prompts = ["In the beginning", "And God said"]
        outs = self.llm.generate(prompts, qtc.SamplingParams(max_tokens=8), on_token=on_token)
        self.assertEqual(outs[0].token_ids, seen)
        self.assertEqual(len(seen), 3)
        self.assertEqual(outs[0].finish_reason, "aborted")
        self.assertEqual(outs[1].token_ids, qtc_run_tokens(prompts[1], 8))
        self.assertEqual(outs[1].finish_reason, "length")
        self.assertEqual(lib.qtc_engine_free_kv_blocks(engine), free_blocks)
        self.assertEqual(lib.qtc_engine_unfinished_requests(engine), 0)

    def test_an_exception_in_on_token_cancels_and_is_raised(self):
        def on_token(piece):
            raise KeyError("from the callback")

        with self.assertRaises(KeyError):
            self.llm.generate(["In the beginning", "And God said"],
                              qtc.SamplingParams(max_tokens=8), on_token=on_token)
        self.assertEqual(self.llm._lib.qtc_engine_unfinished_requests(self.llm._engine), 0)

    def test_a_seeded_request_samples_the_same_beside_others(self):
        sampling = qtc.SamplingParams(max_tokens=8, temperature=1.0, seed=11)
        alone = self.llm.generate("The LORD is", sampling)[0].token_ids
        together = self.llm.generate(["In the beginning", "The LORD is", "And God said"],
                                     sampling)[1].token_ids
        self.assertEqual(alone, together)
        self.assertEqual(alone, qtc_run_tokens("The LORD is", 8, "--temperature", "1.0",
                                               "--seed", "11"))

    def test_bad_stop_and_logprobs_are_refused(self):
        with self.assertRaises(ValueError):
            self.llm.generate("x", qtc.SamplingParams(stop=[""]))
        with self.assertRaises(ValueError):
            self.llm.generate("x", qtc.SamplingParams(logprobs=-1))
        with self.assertRaises(qtc.QtcError) as caught:
            self.llm.generate("x", qtc.SamplingParams(stop_token_ids=[10 ** 6]))
        self.assertIn("stopTokenIds", str(caught.exception))
        with self.assertRaises(qtc.QtcError):
            self.llm.generate("x", qtc.SamplingParams(logprobs=10 ** 6))

    def test_bad_sampling_is_refused(self):
        with self.assertRaises(ValueError):
            self.llm.generate("x", qtc.SamplingParams(max_tokens=0))
        with self.assertRaises(ValueError):
            self.llm.generate("x", qtc.SamplingParams(temperature=-1))


if __name__ == "__main__":
    unittest.main()
