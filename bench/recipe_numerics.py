#!/usr/bin/env python3
"""Numerics of every recipe on the shared model: per-layer SQNR / max error
of the quantized weights and held-out perplexity on the host backend.

  python3 bench/recipe_numerics.py [--build build] [--models ../shared/models]

Writes bench/results/recipes-kjv-llama-6m.json and prints a markdown table
(pasted into docs/recipes.md).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import tempfile

RECIPES = ["fp16", "w4a16-rtn", "w4a16-asym-rtn", "w4a16", "w4a16-asym", "w4a16-awq",
           "w3a16-rtn", "w3a16", "w8a16-rtn", "w8a16", "w8a8", "fp8",
           "fp16-kvfp8", "w4a16-kvfp8"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--models", default="../shared/models")
    ap.add_argument("--out", default="bench/results/recipes-kjv-llama-6m.json")
    args = ap.parse_args()
    model = os.path.join(args.models, "kjv-llama-6m")
    ref = json.load(open(os.path.join(model, "reference.json")))
    qtc = os.path.join(args.build, "bin", "qtc")
    run = os.path.join(args.build, "bin", "qtc-run")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    results = {"model": "kjv-llama-6m", "date": datetime.date.today().isoformat(),
               "commit": commit, "backend": "host",
               "reference_ppl": ref["eval"]["ppl"], "recipes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in RECIPES:
            art = os.path.join(tmp, recipe + ".qtc")
            rep = os.path.join(tmp, recipe + ".json")
            subprocess.run([qtc, "compile", model, "-o", art, "--recipe", recipe,
                            "--target", "host", "--numerics-report", rep,
                            "--quiet"], check=True)
            layers = json.load(open(rep))["layers"]
            scored = json.loads(subprocess.run(
                [run, art, "--backend", "host", "--json", "--ppl",
                 os.path.join(model, "eval_tokens.bin")],
                check=True, capture_output=True, text=True).stdout)
            results["recipes"].append({
                "recipe": recipe, "ppl": scored["ppl"],
                "artifact_bytes": os.path.getsize(art), "layers": layers,
                "kv_dtype": scored.get("kv_dtype"),
                "kv_numerics": scored.get("kv_numerics", [])})
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)

    fp16 = results["recipes"][0]["ppl"]
    print(f"kjv-llama-6m, host backend, {results['date']}, commit {commit}; "
          f"PyTorch fp32 reference ppl {ref['eval']['ppl']:.3f}\n")
    print("| recipe | held-out ppl | vs fp16 | artifact MB | layers | SQNR mean (dB) | SQNR min (dB) | max abs error | output SQNR mean (dB) | KV cache | KV SQNR min, keys / values (dB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["recipes"]:
        s = [l["sqnr_db"] for l in r["layers"]]
        e = [l["max_abs_error"] for l in r["layers"]]
        q = (f"{statistics.mean(s):.2f} | {min(s):.2f} | {max(e):.4f}" if s
             else "- | - | -")
        o = [l["output_sqnr_db"] for l in r["layers"] if "output_sqnr_db" in l]
        out_sqnr = f"{statistics.mean(o):.2f}" if o else "-"
        kv = r["kv_numerics"]
        kv_sqnr = (f"{min(l['key_sqnr_db'] for l in kv):.1f} / "
                   f"{min(l['value_sqnr_db'] for l in kv):.1f}" if kv else "-")
        print(f"| {r['recipe']} | {r['ppl']:.3f} | {r['ppl'] / fp16 - 1:+.2%} | "
              f"{r['artifact_bytes'] / 1e6:.1f} | {len(r['layers'])} | {q} | "
              f"{out_sqnr} | {r['kv_dtype'] or '-'} | {kv_sqnr} |")


if __name__ == "__main__":
    main()
