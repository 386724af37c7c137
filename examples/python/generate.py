#!/usr/bin/env python3
"""Compiles a checkpoint folder with qtc.compile, then generates for several
prompts together (qtc.LLM.generate) and streams one more token by token.

    PYTHONPATH=<prefix>/lib/python3/dist-packages \
        python3 generate.py MODEL_DIR [--recipe R] [-n N] PROMPT...

Prints "request I: id,id,..." and the text per prompt, as examples/serve-c
does, to compare with `qtc-run MODEL.qtc --prompt PROMPT -n N`."""

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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        artifact = qtc.compile(args.model, os.path.join(tmp, "model.qtc"),
                               recipe=args.recipe, target=args.target)
        with qtc.LLM(artifact, backend=args.backend) as llm:
            print("qtc runtime %s on %s" % (qtc.runtime_version(), llm.backend), file=sys.stderr)
            sampling = qtc.SamplingParams(max_tokens=args.n)
            for i, out in enumerate(llm.generate(args.prompts, sampling)):
                print("request %d: %s" % (i, ",".join(map(str, out.token_ids))))
                print("  " + out.text)
            print("streamed:", end=" ")
            for piece in llm.stream(args.prompts[0], sampling):
                print(piece.text, end="", flush=True)
            print()
            logits = llm.logits(args.prompts[0])
            print("logits of the prompt: %s %s" % (type(logits).__name__,
                                                   getattr(logits, "shape", len(logits))))


if __name__ == "__main__":
    main()
