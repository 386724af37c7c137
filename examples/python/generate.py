#!/usr/bin/env python3
"""Compiles a checkpoint folder with qtc.compile, then generates for several
prompts together (qtc.LLM.generate) and streams one more token by token.

    PYTHONPATH=<prefix>/lib/python3/dist-packages \
        python3 generate.py MODEL_DIR [--recipe R] [-n N] [--stop S]... [--logprobs K] PROMPT...

Prints "request I: id,id,...", the text and the finish reason per prompt, as
examples/serve-c does, to compare with `qtc-run MODEL.qtc --prompt PROMPT -n N`.
--stop ends a request's text before S (found across token boundaries);
--logprobs prints each token's log-probability and the K most likely tokens'.
The stream stops itself after the first line of text: its callback returns
False, which cancels the request."""

import argparse
import os
import sys
import tempfile

import qtc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("prompts", nargs="+")
    parser.add_argument("--recipe", default="fp16")
    parser.add_argument("--target", default="host")
    parser.add_argument("-n", type=int, default=16)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--stop", action="append", default=None)
    parser.add_argument("--logprobs", type=int, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        artifact = qtc.compile(args.model, os.path.join(tmp, "model.qtc"),
                               recipe=args.recipe, target=args.target)
        with qtc.LLM(artifact, backend=args.backend) as llm:
            print("qtc runtime %s on %s" % (qtc.runtime_version(), llm.backend), file=sys.stderr)
            sampling = qtc.SamplingParams(max_tokens=args.n, stop=args.stop,
                                          logprobs=args.logprobs)
            for i, out in enumerate(llm.generate(args.prompts, sampling)):
                print("request %d: %s" % (i, ",".join(map(str, out.token_ids))))
                print("  " + out.text)
                print("  finish: %s" % out.finish_reason)
                # entry: {id: logprob} of the most likely tokens (in that
                # order), and of the token itself.
                for t, entry in enumerate(out.logprobs or []):
                    top = list(entry.items())[:args.logprobs]
                    print("  logprob %d: %d %.4f |%s" % (
                        t, out.token_ids[t], entry[out.token_ids[t]],
                        "".join(" %d %.4f" % kv for kv in top)))
            print("streamed:", end=" ")
            # Returning False from on_token cancels the request in that step.
            stream = llm.stream(args.prompts[0], sampling,
                                on_token=lambda piece: "\n" not in piece.text)
            for piece in stream:
                print(piece.text, end="", flush=True)
            print()
            logits = llm.logits(args.prompts[0])
            print("logits of the prompt: %s %s" % (type(logits).__name__,
                                                   getattr(logits, "shape", len(logits))))


if __name__ == "__main__":
    main()
