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

    def test_bad_sampling_is_refused(self):
        with self.assertRaises(ValueError):
            self.llm.generate("x", qtc.SamplingParams(max_tokens=0))
        with self.assertRaises(ValueError):
            self.llm.generate("x", qtc.SamplingParams(temperature=-1))


if __name__ == "__main__":
    unittest.main()
