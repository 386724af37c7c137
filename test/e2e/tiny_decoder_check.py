#!/usr/bin/env python3
"""Differential test of whole decoders against a NumPy reference.

Writes a small random Hugging Face checkpoint (config.json + fp16
model.safetensors) of the given family, compiles it with `qtc compile`, scores
a token sequence with `qtc-run --score --top-logits`, and compares every
position's logits with a float64 NumPy forward pass of the same weights.

  tiny_decoder_check.py --qtc Q --qtc-run R --family qwen2|llama3-tied --out DIR

Families exercise what the kjv model does not: q/k/v biases and theta 1e6
(Qwen2), tied embeddings, multi-head attention and llama3 RoPE scaling with
positions past the original context (llama3-tied).
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np

FAMILIES = {
    "qwen2": dict(arch="Qwen2ForCausalLM", model_type="qwen2", vocab=96, hidden=64,
                  layers=2, heads=4, kv_heads=2, ffn=96, theta=1e6, bias=True,
                  tied=False, rope_scaling=None),
    "llama3-tied": dict(arch="LlamaForCausalLM", model_type="llama", vocab=80, hidden=64,
                        layers=2, heads=2, kv_heads=2, ffn=128, theta=5e5, bias=False,
                        tied=True, rope_scaling=dict(rope_type="llama3", factor=8.0,
                                                     low_freq_factor=1.0,
                                                     high_freq_factor=4.0,
                                                     original_max_position_embeddings=16)),
}


def make_weights(f, rng):
    d = f["hidden"] // f["heads"]
    w = {}
    def mat(name, rows, cols, scale=None):
        w[name] = (rng.standard_normal((rows, cols)) * (scale or cols ** -0.5)).astype(np.float16)
    mat("model.embed_tokens.weight", f["vocab"], f["hidden"], 1.0)
    for i in range(f["layers"]):
        p = f"model.layers.{i}."
        for n in ("input_layernorm", "post_attention_layernorm"):
            w[p + n + ".weight"] = (1 + 0.1 * rng.standard_normal(f["hidden"])).astype(np.float16)
        mat(p + "self_attn.q_proj.weight", f["heads"] * d, f["hidden"])
        mat(p + "self_attn.k_proj.weight", f["kv_heads"] * d, f["hidden"])
        mat(p + "self_attn.v_proj.weight", f["kv_heads"] * d, f["hidden"])
        mat(p + "self_attn.o_proj.weight", f["hidden"], f["heads"] * d)
        if f["bias"]:
            for n, rows in (("q", f["heads"] * d), ("k", f["kv_heads"] * d), ("v", f["kv_heads"] * d)):
                w[p + f"self_attn.{n}_proj.bias"] = (0.1 * rng.standard_normal(rows)).astype(np.float16)
        mat(p + "mlp.gate_proj.weight", f["ffn"], f["hidden"])
        mat(p + "mlp.up_proj.weight", f["ffn"], f["hidden"])
        mat(p + "mlp.down_proj.weight", f["hidden"], f["ffn"])
    w["model.norm.weight"] = (1 + 0.1 * rng.standard_normal(f["hidden"])).astype(np.float16)
    if not f["tied"]:
        mat("lm_head.weight", f["vocab"], f["hidden"])
    return w


def write_checkpoint(f, w, path):
    os.makedirs(path, exist_ok=True)
    config = {"architectures": [f["arch"]], "model_type": f["model_type"],
              "vocab_size": f["vocab"], "hidden_size": f["hidden"],
              "num_hidden_layers": f["layers"], "num_attention_heads": f["heads"],
              "num_key_value_heads": f["kv_heads"], "intermediate_size": f["ffn"],
              "rms_norm_eps": 1e-6, "rope_theta": f["theta"], "hidden_act": "silu",
              "max_position_embeddings": 256, "tie_word_embeddings": f["tied"],
              "bos_token_id": 1, "eos_token_id": 2}
    if f["rope_scaling"]:
        config["rope_scaling"] = f["rope_scaling"]
    json.dump(config, open(os.path.join(path, "config.json"), "w"), indent=1)
    header, offset, blobs = {}, 0, []
    for name, t in w.items():
        b = t.tobytes()
        header[name] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(path, "model.safetensors"), "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def inv_freq(f, d):
    inv = 1.0 / f["theta"] ** (np.arange(0, d, 2, dtype=np.float64) / d)
    s = f["rope_scaling"]
    if s:  # transformers' _compute_llama3_parameters
        old = s["original_max_position_embeddings"]
        low_wl, high_wl = old / s["low_freq_factor"], old / s["high_freq_factor"]
        wl = 2 * np.pi / inv
        smooth = (old / wl - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
        scaled = np.where(wl > low_wl, inv / s["factor"], inv)
        mid = (wl <= low_wl) & (wl >= high_wl)
        inv = np.where(mid, (1 - smooth) * inv / s["factor"] + smooth * inv, scaled)
    return inv


def forward(f, w, ids):
    g = {k: v.astype(np.float64) for k, v in w.items()}
    d = f["hidden"] // f["heads"]
    n = len(ids)
    pos = np.arange(n)
    ang = pos[:, None] * inv_freq(f, d)[None, :]
    cos, sin = np.cos(np.concatenate([ang, ang], 1)), np.sin(np.concatenate([ang, ang], 1))

    def rms(x, wt):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * wt

    def rope(x):  # [n, h, d], rotate-half
        rot = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], -1)
        return x * cos[:, None, :] + rot * sin[:, None, :]

    x = g["model.embed_tokens.weight"][ids]
    for i in range(f["layers"]):
        p = f"model.layers.{i}."
        h = rms(x, g[p + "input_layernorm.weight"])
        def proj(name):
            y = h @ g[p + f"self_attn.{name}_proj.weight"].T
            return y + g.get(p + f"self_attn.{name}_proj.bias", 0)
        q = rope(proj("q").reshape(n, f["heads"], d))
        k = rope(proj("k").reshape(n, f["kv_heads"], d))
        v = proj("v").reshape(n, f["kv_heads"], d)
        rep = f["heads"] // f["kv_heads"]
        k, v = np.repeat(k, rep, 1), np.repeat(v, rep, 1)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(d)
        s = s + np.triu(np.full((n, n), -np.inf), 1)[None]
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = np.einsum("hts,shd->thd", s, v).reshape(n, -1)
        x = x + a @ g[p + "self_attn.o_proj.weight"].T
        h = rms(x, g[p + "post_attention_layernorm.weight"])
        gate, up = h @ g[p + "mlp.gate_proj.weight"].T, h @ g[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ g[p + "mlp.down_proj.weight"].T
    x = rms(x, g["model.norm.weight"])
    head = g["model.embed_tokens.weight"] if f["tied"] else g["lm_head.weight"]
    return x @ head.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qtc", required=True)
    ap.add_argument("--qtc-run", required=True)
    ap.add_argument("--family", choices=FAMILIES, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--tol", type=float, default=0.02, help="max |logit error| / max |logit|")
    args = ap.parse_args()
    f = FAMILIES[args.family]
    rng = np.random.default_rng(7)
    w = make_weights(f, rng)
    ckpt = os.path.join(args.out, args.family)
    write_checkpoint(f, w, ckpt)
    art = os.path.join(args.out, args.family + ".qtc")
    subprocess.run([args.qtc, "compile", ckpt, "-o", art, "--target", "host", "--quiet"], check=True)
    ids = [int(t) for t in rng.integers(3, f["vocab"], args.tokens)]
    out = subprocess.run([args.qtc_run, art, "--backend", "host", "--json", "--score",
                          "--prompt-ids", ",".join(map(str, ids)), "--top-logits", "5"],
                         check=True, capture_output=True, text=True)
    got = json.loads(out.stdout)
    ref = forward(f, w, np.array(ids))
    scale = np.abs(ref).max()
    worst = 0.0
    mismatched = 0
    for t, top in enumerate(got["top_logits"]):
        err = max(abs(l - ref[t, i]) for i, l in zip(top["ids"], top["logits"]))
        worst = max(worst, err / scale)
        order = np.argsort(-ref[t])
        gap = ref[t, order[0]] - ref[t, order[1]]
        if got["argmax"][t] != order[0] and gap > args.tol * scale:
            mismatched += 1
    print(f"{args.family}: {len(ids)} positions, max top-5 logit error {worst:.2e} of max |logit|, "
          f"{mismatched} argmax mismatches beyond near ties")
    if worst > args.tol or mismatched:
        sys.exit(f"FAIL {args.family}")
    print(f"ok   {args.family}")


if __name__ == "__main__":
    main()
