#!/usr/bin/env python3
"""onnxruntime's own int4 weight quantization of the shared model, as the
peer of qtc's int4 recipes: held-out perplexity of the fp32 ONNX export and
of its MatMulNBits int4 RTN rewrite (onnxruntime.quantization's
MatMul4BitsQuantizer, block 128, symmetric and asymmetric), measured the way
reference.json and `qtc-run --ppl` measure (non-overlapping windows of 512
tokens, every token after a window's first predicted from those before it).

  python3 bench/ort_int4_peer.py --onnx MODEL.onnx --eval-tokens eval_tokens.bin \
      --out bench/results/ort_int4_peer.json [--provider CUDAExecutionProvider]

Exits non-zero when a perplexity is not finite. Prints a markdown table.
"""
import argparse
import datetime
import json
import math
import os
import platform
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort


def session(path, provider):
    opts = ort.SessionOptions()
    return ort.InferenceSession(path, opts, providers=[provider, "CPUExecutionProvider"])


def feeds_for(sess, ids):
    """Inputs of a plain causal-LM export: ids, optional mask and positions."""
    feeds = {}
    n = ids.shape[1]
    for i in sess.get_inputs():
        name = i.name.lower()
        if "input_ids" in name or name == "ids":
            feeds[i.name] = ids
        elif "attention_mask" in name:
            feeds[i.name] = np.ones((1, n), dtype=np.int64)
        elif "position" in name:
            feeds[i.name] = np.arange(n, dtype=np.int64)[None, :]
        else:
            raise SystemExit(f"unsupported model input {i.name} {i.shape}")
    return feeds


def perplexity(sess, tokens, window):
    nll, count = 0.0, 0
    logits_name = sess.get_outputs()[0].name
    for start in range(0, len(tokens) - 1, window):
        ids = tokens[start:start + window]
        if len(ids) < 2:
            break
        batch = np.asarray(ids, dtype=np.int64)[None, :]
        logits = sess.run([logits_name], feeds_for(sess, batch))[0][0].astype(np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        for t in range(len(ids) - 1):
            nll -= logp[t, ids[t + 1]]
        count += len(ids) - 1
    return math.exp(nll / count), count


def quantize_int4(src, dst, block, symmetric):
    model = onnx.load(src)
    try:  # onnxruntime >= 1.20 names it for any bit width
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
        q = MatMulNBitsQuantizer(model, block_size=block, is_symmetric=symmetric, bits=4)
    except ImportError:
        from onnxruntime.quantization.matmul_4bits_quantizer import MatMul4BitsQuantizer
        q = MatMul4BitsQuantizer(model, block_size=block, is_symmetric=symmetric)
    q.process()
    q.model.save_model_to_file(dst, use_external_data_format=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--eval-tokens", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--window", type=int, default=512)
    ap.add_argument("--provider", default="CPUExecutionProvider")
    ap.add_argument("--block", type=int, default=128)
    args = ap.parse_args()
    tokens = np.fromfile(args.eval_tokens, dtype="<i4").tolist()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        variants = [("fp32", None)]
        for sym in (True, False):
            path = os.path.join(tmp, f"int4-{'sym' if sym else 'asym'}.onnx")
            quantize_int4(args.onnx, path, args.block, sym)
            variants.append((f"int4 RTN block {args.block} {'symmetric' if sym else 'asymmetric'}", path))
        for name, path in variants:
            ppl, count = perplexity(session(path or args.onnx, args.provider), tokens, args.window)
            rows.append({"variant": name, "ppl": ppl, "predicted_tokens": count})
    base = rows[0]["ppl"]
    for r in rows:
        r["vs_fp32"] = r["ppl"] / base - 1
    result = {"model": os.path.basename(os.path.dirname(os.path.abspath(args.onnx))),
              "date": datetime.date.today().isoformat(), "onnxruntime": ort.__version__,
              "provider": args.provider, "host": platform.node(), "window": args.window,
              "variants": rows}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"onnxruntime {ort.__version__}, {args.provider}, {result['date']}\n")
    print("| variant | held-out ppl | vs fp32 |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['ppl']:.3f} | {r['vs_fp32']:+.2%} |")
    sys.exit(0 if all(math.isfinite(r["ppl"]) for r in rows) else 1)


if __name__ == "__main__":
    main()
