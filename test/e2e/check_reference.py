#!/usr/bin/env python3
"""Checks a compiled artifact against a model's reference.json.

Runs `qtc-run` on the artifact and asserts the end-to-end acceptance criteria:
  * scored on input_ids + greedy_ids, the argmax equals greedy_ids at every
    position whose greedy_top2_gap is at least --gap (a lower-precision run may
    pick the other token of a near tie);
  * free-running greedy generation equals greedy_ids up to first_near_tie;
  * the first generated position's top-5 logits agree within --logit-tol;
  * perplexity over the held-out tokens is within --ppl-tol (relative) of the
    reference, or of --ppl-ref when given.
Prints one line per check and exits non-zero on the first failure.
"""
import argparse
import json
import subprocess
import sys


def run_json(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {proc.returncode}\n{proc.stderr}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        sys.exit(f"FAIL: {' '.join(cmd)} printed invalid JSON ({e}):\n{proc.stdout}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qtc-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--eval-tokens")
    ap.add_argument("--backend", default="host")
    ap.add_argument("--gap", type=float, default=0.05)
    ap.add_argument("--logit-tol", type=float, default=0.02)
    ap.add_argument("--ppl-tol", type=float, default=0.005)
    ap.add_argument("--ppl-ref", type=float, help="compare ppl to this instead")
    ap.add_argument("--ppl-ref-file", help="file holding the ppl to compare to")
    ap.add_argument("--max-tokens", type=int, help="ppl over the first N tokens")
    ap.add_argument("--top5-logit-tol", type=float,
                    help="a lossy KV cache: instead of equal top-5 ids, the first position's "
                         "top-5 logit values within this (ids may swap at near ties)")
    ap.add_argument("--skip-tokens", action="store_true",
                    help="only check perplexity")
    ap.add_argument("--ppl-out", help="write the measured ppl here")
    args = ap.parse_args()

    ref = json.load(open(args.reference))
    if args.ppl_ref_file:
        args.ppl_ref = float(open(args.ppl_ref_file).read())
    base = [args.qtc_run, args.artifact, "--backend", args.backend, "--json"]

    if not args.skip_tokens:
        for p in ref["prompts"]:
            ids, greedy = p["input_ids"], p["greedy_ids"]
            gaps = p["greedy_top2_gap"]
            # Scored prefill: row len(ids)-1+j predicts greedy[j].
            scored = run_json(base + ["--prompt-ids", ",".join(map(str, ids + greedy)),
                                      "--score", "--top-logits", "5"])
            argmax = scored["argmax"]
            bad = [j for j in range(len(greedy))
                   if gaps[j] >= args.gap and argmax[len(ids) - 1 + j] != greedy[j]]
            if bad:
                sys.exit(f"FAIL scored argmax for {p['text']!r} at generated "
                         f"positions {bad}")
            print(f"ok   scored argmax   {p['text']!r}: "
                  f"{sum(g >= args.gap for g in gaps)} positions")

            top = scored["top_logits"][len(ids) - 1]
            want = p["first_top5"]
            tol = args.logit_tol if args.top5_logit_tol is None else args.top5_logit_tol
            if args.top5_logit_tol is None and top["ids"] != want["ids"]:
                sys.exit(f"FAIL top-5 ids {top['ids']} != {want['ids']}")
            if top["ids"][0] != want["ids"][0]:
                sys.exit(f"FAIL top-1 id {top['ids'][0]} != {want['ids'][0]}")
            err = max(abs(a - b) for a, b in zip(top["logits"], want["logits"]))
            if err > tol:
                sys.exit(f"FAIL top-5 logits differ by {err:.4f} > {tol}")
            print(f"ok   first top-5     max |logit diff| {err:.4f}")

            gen = run_json(base + ["--prompt-ids", ",".join(map(str, ids)),
                                   "-n", str(len(greedy)), "--greedy",
                                   "--ignore-eos"])
            n = p["first_near_tie"]
            tokens = gen["tokens"]
            if isinstance(tokens[0], list):
                tokens = tokens[0]
            if tokens[:n] != greedy[:n]:
                sys.exit(f"FAIL greedy {tokens[:n]} != {greedy[:n]} "
                         f"(first {n} tokens)")
            print(f"ok   greedy          first {n} tokens match")

    if args.eval_tokens:
        cmd = base + ["--ppl", args.eval_tokens, "--window",
                      str(ref["eval"]["window"])]
        if args.max_tokens:
            cmd += ["--max-tokens", str(args.max_tokens)]
        ppl = run_json(cmd)["ppl"]
        if args.ppl_ref is not None:
            want = args.ppl_ref
        elif args.max_tokens == 2048:
            want = ref["eval_first_2048"]["ppl"]
        else:
            want = ref["eval"]["ppl"]
        rel = abs(ppl - want) / want
        if args.ppl_out:
            with open(args.ppl_out, "w") as f:
                f.write(f"{ppl}\n")
        if rel > args.ppl_tol:
            sys.exit(f"FAIL ppl {ppl:.4f} vs {want:.4f}: {rel:.2%} > {args.ppl_tol:.2%}")
        print(f"ok   perplexity      {ppl:.4f} vs {want:.4f} ({rel:.3%})")


if __name__ == "__main__":
    main()
