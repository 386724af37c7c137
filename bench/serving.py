#!/usr/bin/env python3
"""Serving benchmark: one generate call (static batching) against continuous
batching (qtc-run --continuous) on the same prompts, same artifact, same run.

Prompts: bench/prompts/kjv-verse-starts.txt, the first six words of the first
256 verses of the shared model's held-out text (eval.txt); the model ends a
verse with eos, so outputs have natural, different lengths (at most -n).

Runs (each one qtc-run process, --backend as given):
  static       all prompts in one Engine::generate call: prefilled together,
               decoded together until the last one finishes
  continuous   the same prompts as requests, all arriving at once, at most
               --max-running at a time (the others wait for a slot), and
               again with no limit below the number of prompts
  rate R       requests arriving as a seeded Poisson process of R per second,
               for R at 0.5 and 0.9 of the request throughput the
               all-at-once continuous run measured
  small pool   all at once into --small-pool KV blocks (default 64), under
               each capacity policy: reserve every request's worst case
               (default), or admit on the prompt and preempt (--preempt)
Reported: generated tokens/s, requests/s, time to first token (from arrival),
time per output token, latency; and how many requests' greedy tokens equal
the static run's (continuous steps mix prefill chunks with decode tokens, so
on the GPU a request's decode tokens may run through the prefill GEMM
instead of the decode GEMV: equal up to near-ties, not bit for bit).

  serving.py --qtc-run BIN --artifact A.qtc --out-dir D [--backend cuda]
             [--provenance TEXT]
  serving.py --render D/serving.json
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPTS = os.path.join(HERE, "prompts", "kjv-verse-starts.txt")


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), proc.returncode, proc.stderr))
    return json.loads(proc.stdout)


def render(result):
    lines = ["# Serving: static vs continuous batching (%s)" % result["artifact"], ""]
    if result.get("provenance"):
        lines += [result["provenance"], ""]
    lines += ["Backend %s, %d prompts (bench/prompts/kjv-verse-starts.txt), up to %d new tokens "
              "each (greedy, stop at eos), %d KV blocks, continuous runs with at most %d "
              "running requests. One qtc-run process per row; times are wall clock of the "
              "whole serving loop." % (result["backend"], result["prompts"], result["max_new_tokens"],
                                       result["kv_blocks"], result["max_running"]), "",
              "| run | generated tokens | s | tokens/s | requests/s | TTFT median ms | TTFT p90 ms "
              "| TPOT median ms | latency median ms |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["rows"]:
        def ms(key):
            return "%.2f" % (1e3 * row[key]) if key in row else "-"
        lines.append("| %s | %d | %.3f | %.0f | %.1f | %s | %s | %s | %s |" % (
            row["run"], row["generated_tokens"], row["seconds"], row["tokens_per_s"],
            row["requests_per_s"], ms("ttft_median_s"), ms("ttft_p90_s"), ms("tpot_median_s"),
            ms("latency_median_s")))
    lines += ["", "Greedy tokens equal to the static run's: %d of %d requests (continuous, all at "
              "once, <= %d running)." % (result["equal_requests"], result["prompts"],
                                          result["max_running"]), ""]
    if result.get("small_pool"):
        lines += ["A pool of %d KV blocks, all requests at once, <= %d running:" % (
                      result["small_pool_blocks"], result["max_running"]), "",
                  "| policy | requests per step (max) | preemptions | tokens/s | TTFT median ms "
                  "| latency median ms | greedy tokens equal to the static run's |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for row in result["small_pool"]:
            lines.append("| %s | %d | %d | %.0f | %.2f | %.2f | %d / %d |" % (
                row["policy"], row["largest_step"], row["preemptions"], row["tokens_per_s"],
                1e3 * row["ttft_median_s"], 1e3 * row["latency_median_s"], row["equal_requests"],
                result["prompts"]))
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qtc-run")
    parser.add_argument("--artifact")
    parser.add_argument("--out-dir")
    parser.add_argument("--backend", default="cuda")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--max-running", type=int, default=64)
    parser.add_argument("--kv-blocks", type=int, default=2048)
    parser.add_argument("--small-pool", type=int, default=64,
                        help="KV blocks of the capacity-policy rows (0: skip them)")
    parser.add_argument("--provenance")
    parser.add_argument("--render", metavar="JSON")
    args = parser.parse_args()
    if args.render:
        with open(args.render) as f:
            sys.stdout.write(render(json.load(f)))
        return
    if not (args.qtc_run and args.artifact and args.out_dir):
        parser.error("--qtc-run, --artifact and --out-dir are required to run")
    os.makedirs(args.out_dir, exist_ok=True)
    base = [args.qtc_run, args.artifact, "--prompts-file", PROMPTS, "-n", str(args.max_new_tokens),
            "--backend", args.backend, "--kv-blocks", str(args.kv_blocks), "--json"]
    continuous = base + ["--continuous", "--max-running", str(args.max_running)]

    static = run(base)
    prompts = static["prompts"]
    rows = [{"run": "static (one generate call)", "generated_tokens": static["generated_tokens"],
             "seconds": static["generated_tokens"] / static["tokens_per_s"],
             "tokens_per_s": static["tokens_per_s"],
             "requests_per_s": prompts * static["tokens_per_s"] / static["generated_tokens"]}]
    served = run(continuous)
    keys = ("generated_tokens", "seconds", "tokens_per_s", "requests_per_s", "ttft_median_s",
            "ttft_p90_s", "tpot_median_s", "latency_median_s")
    rows.append(dict({"run": "continuous, all at once, <= %d running" % args.max_running},
                     **{k: served[k] for k in keys}))
    equal = sum(s["tokens"] == r["tokens"] for s, r in zip(static["sequences"], served["requests"]))
    unbounded = run(continuous + ["--max-running", str(prompts)])
    rows.append(dict({"run": "continuous, all at once, <= %d running" % prompts},
                     **{k: unbounded[k] for k in keys}))
    for fraction in (0.5, 0.9):
        rate = fraction * served["requests_per_s"]
        at_rate = run(continuous + ["--request-rate", "%.3f" % rate, "--seed", "1"])
        rows.append(dict({"run": "continuous, Poisson %.0f requests/s (%.1fx)" % (rate, fraction)},
                         **{k: at_rate[k] for k in keys}))
    small_pool = []
    if args.small_pool:
        pool = [a if a != str(args.kv_blocks) else str(args.small_pool) for a in continuous]
        for policy, extra in (("reserve worst case", []), ("preempt (recompute)", ["--preempt"])):
            d = run(pool + extra)
            small_pool.append({
                "policy": policy, "largest_step": d["largest_step"],
                "preemptions": d["preemptions"], "tokens_per_s": d["tokens_per_s"],
                "ttft_median_s": d["ttft_median_s"], "latency_median_s": d["latency_median_s"],
                "equal_requests": sum(s["tokens"] == r["tokens"]
                                      for s, r in zip(static["sequences"], d["requests"]))})
    result = {"artifact": os.path.basename(args.artifact), "backend": static["backend"],
              "provenance": args.provenance, "prompts": prompts,
              "max_new_tokens": args.max_new_tokens, "max_running": args.max_running,
              "kv_blocks": args.kv_blocks, "equal_requests": equal, "rows": rows,
              "small_pool_blocks": args.small_pool, "small_pool": small_pool}
    name = os.path.splitext(os.path.basename(args.artifact))[0]
    with open(os.path.join(args.out_dir, "serving_%s.json" % name), "w") as f:
        json.dump(result, f, indent=1)
    text = render(result)
    with open(os.path.join(args.out_dir, "serving_%s.md" % name), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
