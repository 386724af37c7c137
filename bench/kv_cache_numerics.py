#!/usr/bin/env python3
"""Held-out perplexity of the shared model with each KV cache scheme, on the
host backend (the numerics oracle), against the f16 cache.

  python3 bench/kv_cache_numerics.py [--build build] [--models ../shared/models]
                                     [--max-tokens N]

Each scheme is a named recipe or a JSON recipe written here. Writes
bench/results/kv-cache-kjv-llama-6m.json and prints the markdown table of
docs/recipes.md ("KV cache schemes").
"""
import argparse
import datetime
import json
import os
import subprocess
import tempfile

# (label, named recipe or kv_cache object, what it shows)
SCHEMES = [
    ("fp16", "fp16"),
    ("fp16-kvfp8 (scale 1)", "fp16-kvfp8"),
    ("fp8, calibrated per layer", {"format": "fp8", "scales": "layer"}),
    ("fp8, calibrated per head", {"format": "fp8", "scales": "head"}),
    ("fp16-kvint8", "fp16-kvint8"),
    ("int8 asymmetric per token", {"format": "int8", "key_symmetric": False,
                                   "value_symmetric": False}),
    ("fp16-kvint4 (KIVI: per-channel keys, window 32)", "fp16-kvint4"),
    ("int4, per-token keys, window 32", {"format": "int4", "key_granularity": "per_token"}),
    ("int4, per-channel keys, no window", {"format": "int4", "residual_window": 0}),
    ("int4, per-token keys, no window", {"format": "int4", "key_granularity": "per_token",
                                         "residual_window": 0}),
    ("fp16-kvint2 (KIVI: per-channel keys, window 32)", "fp16-kvint2"),
    ("int2, per-channel keys, no window", {"format": "int2", "residual_window": 0}),
    ("int2, window 32, 4 sink tokens", {"format": "int2", "sink_tokens": 4}),
    ("w4a16-kvint4", "w4a16-kvint4"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--models", default="../shared/models")
    ap.add_argument("--max-tokens", type=int, default=0)
    ap.add_argument("--out", default="bench/results/kv-cache-kjv-llama-6m.json")
    args = ap.parse_args()
    model = os.path.join(args.models, "kjv-llama-6m")
    qtc = os.path.join(args.build, "bin", "qtc")
    run = os.path.join(args.build, "bin", "qtc-run")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    results = {"model": "kjv-llama-6m", "date": datetime.date.today().isoformat(),
               "commit": commit, "backend": "host", "schemes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, recipe) in enumerate(SCHEMES):
            if isinstance(recipe, dict):
                path = os.path.join(tmp, f"kv{i}.json")
                json.dump({"name": f"kv{i}", "kv_cache": recipe}, open(path, "w"))
                recipe_arg = path
            else:
                recipe_arg = recipe
            art = os.path.join(tmp, f"kv{i}.qtc")
            subprocess.run([qtc, "compile", model, "-o", art, "--recipe", recipe_arg,
                            "--target", "host", "--quiet"], check=True)
            info = json.loads(subprocess.run([run, art, "--info", "--json"], check=True,
                                             capture_output=True, text=True).stdout)
            cmd = [run, art, "--backend", "host", "--json", "--ppl",
                   os.path.join(model, "eval_tokens.bin")]
            if args.max_tokens:
                cmd += ["--max-tokens", str(args.max_tokens)]
            scored = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                               text=True).stdout)
            kv = scored.get("kv_numerics", [])
            results["schemes"].append({
                "label": label, "recipe": recipe, "ppl": scored["ppl"],
                "predicted_tokens": scored["predicted_tokens"],
                "kv_cache": info["kv_cache"],
                "key_sqnr_min_db": min((k["key_sqnr_db"] for k in kv), default=None),
                "value_sqnr_min_db": min((k["value_sqnr_db"] for k in kv), default=None),
                "tokens_per_s": scored.get("tokens_per_s")})
            print(label, scored["ppl"], flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)

    base = results["schemes"][0]["ppl"]
    print(f"\nkjv-llama-6m, host backend, {results['date']}, commit {commit}, "
          f"{results['schemes'][0]['predicted_tokens']} predicted tokens, windows of 512\n")
    print("| scheme | held-out ppl | vs fp16 cache | KV bytes/token (vs f16) | "
          "KV SQNR min, keys / values (dB) | host tokens/s |")
    print("|---|---|---|---|---|---|")
    for s in results["schemes"]:
        kvc = s["kv_cache"]
        ratio = kvc["bytes_per_token"] / kvc["f16_bytes_per_token"]
        print(f"| {s['label']} | {s['ppl']:.3f} | {100 * (s['ppl'] / base - 1):+.2f}% | "
              f"{kvc['bytes_per_token']:.0f} ({ratio:.2f}x) | "
              f"{s['key_sqnr_min_db']:.1f} / {s['value_sqnr_min_db']:.1f} | "
              f"{s['tokens_per_s']:.0f} |")


if __name__ == "__main__":
    main()
