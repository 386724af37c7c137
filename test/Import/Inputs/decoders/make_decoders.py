#!/usr/bin/python3
"""Writes tiny Llama-style decoders as the ONNX exporters lay them out, with
random weights, for the structural importer's tests:

  torchscript-gqa.onnx   opset 17, fp32, the TorchScript exporter's shapes:
                         inputs input_ids, attention_mask, position_ids;
                         reshape targets computed from Shape; cos/sin tables
                         gathered by position_ids; rotate-half by Slice, Neg,
                         Concat; 4 query heads over 2 key/value heads repeated
                         by Unsqueeze/Expand/Reshape; the scores divided by
                         sqrt(head_dim); the causal mask a Where over a Range
                         comparison plus the attention_mask padding path.
  dynamo-fp16-mha.onnx   opset 18, fp16 weights, the dynamo exporter's shapes:
                         input_ids only; RMSNorm in fp32 between Casts;
                         positions from Range(Shape); cos/sin computed from
                         inv_freq x positions (MatMul) in fp32 and cast to
                         fp16; rotate-half by Split; multi-head attention with
                         sqrt(scale) on q and on k^T; a Trilu causal mask;
                         softmax in fp32; lm_head tied to the embedding.
  opset23-attention.onnx opset 23, fp32, the dynamo layout with one
                         Attention node per layer (is_causal, 4 query heads
                         over 2 key/value heads on [1, heads, T, head_dim]
                         views), tied.
  dynamo-llama3-rope.onnx opset 18, fp32, the dynamo layout with GQA and
                         inv_freq scaled as Llama 3's rope_scaling (factor 8,
                         low/high frequency factors 1/8, original context
                         64), tied.
  optimum-kv-cache.onnx  the TorchScript layout as optimum exports it for
                         decoding with a cache: past_key_values.N.key/value
                         inputs [1, kv_heads, past, head_dim] concatenated
                         with the new keys/values on the sequence axis,
                         present.N.key/value outputs, attention_mask over
                         past + new tokens, a causal mask [T, past + T]
                         offset by the past length (Shape of the cache).
  ort-group-query-attention.onnx, ort-multi-head-attention.onnx
                         the cached TorchScript layout as onnxruntime's
                         transformer optimizer fuses its attention: the
                         rotated head views merged back to [1, T, H*D] into
                         com.microsoft GroupQueryAttention (GQA, causal,
                         seqlens_k/total_sequence_length from the mask) or
                         MultiHeadAttention (MHA, the mask as attention_bias),
                         each with past_key/past_value inputs and present
                         outputs.
  ort-rotary-gqa.onnx    the same with GroupQueryAttention whose q and k are
                         com.microsoft RotaryEmbedding nodes on the
                         projections (cos/sin caches [positions, head_dim/2]
                         gathered by position_ids), as the optimizer fuses a
                         Llama graph.
  ort-gqa-do-rotary.onnx the same with GroupQueryAttention rotating q and k
                         itself (do_rotary, cos_cache/sin_cache inputs), as
                         onnxruntime-genai's model builder writes it.
  ort-rotary-interleaved.onnx ort-rotary-gqa with interleaved = 1 on the
                         RotaryEmbedding nodes (GPT-J's pairs).
  ort-fused-norms.onnx   the TorchScript layout with the norms as
                         onnxruntime's transformer optimizer leaves them:
                         SimplifiedLayerNormalization for the first, then
                         com.microsoft SkipSimplifiedLayerNormalization for
                         each residual Add and the norm after it (its fourth
                         output the residual sum).
  dynamo-interleaved-rope.onnx opset 18, fp32, the dynamo layout with GQA
                         and GPT-J's interleaved RoPE: rotate_every_two by
                         step-2 Slices, Neg, Unsqueeze, Concat and Reshape;
                         cos/sin of each frequency repeated side by side;
                         tied.

Both: hidden 64, 2 layers, head_dim 16, vocab 128, intermediate 16.
numpy_logits() computes each model's logits with numpy from the same
weights. Run with /usr/bin/python3 (Debian's onnx and numpy):

  make_decoders.py OUTDIR
      writes the three files.
  make_decoders.py check --qtc Q --qtc-run R --tmp DIR [--dir DIR]
      rebuilds each model from its seed, asserts it is byte for byte the
      committed file (so the reference belongs to that file), compiles the
      committed file with `qtc compile` (recipe fp16: weights stored in
      fp16), scores a token sequence with `qtc-run --score` on the host
      backend and compares every logit with numpy_logits of the weights
      rounded to fp16: relative L2 error (over all positions and the whole
      vocabulary) at most --tol (default 1e-3; activations are f32 in qtc,
      float64 in the reference), and equal argmax except at near ties. A
      decoder with past key/value inputs is also run as a graph
      (onnx_numpy.py, float64): an empty past on the first 2/3 of the
      tokens, then the rest with those as its past, both against
      numpy_logits of the whole sequence (at most 1e-6).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, LAYERS, HEAD_DIM, VOCAB, INTER = 64, 2, 16, 128, 16
MAX_POS, THETA, EPS = 32, 10000.0, 1e-5


class Graph:
    """Collects nodes and initializers; names are generated, not meaningful."""

    def __init__(self, dtype):
        self.nodes, self.inits, self.count, self.dtype = [], [], 0, dtype

    def name(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, array, stem="c"):
        n = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def op(self, op_type, inputs, stem=None, outputs=1, **attrs):
        outs = [self.name(stem or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs,
                                           name=self.name("/" + op_type), **attrs))
        return outs[0] if outputs == 1 else outs


def random_weights(seed, heads, kv_heads, tied, llama3=None, interleaved=False,
                   fused_norms=False):
    rng = np.random.default_rng(seed)
    w = lambda *shape: (rng.standard_normal(shape) * 0.08).astype(np.float32)
    layers = []
    for _ in range(LAYERS):
        layers.append(dict(
            attn_norm=(1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32),
            q=w(heads * HEAD_DIM, HIDDEN), k=w(kv_heads * HEAD_DIM, HIDDEN),
            v=w(kv_heads * HEAD_DIM, HIDDEN), o=w(HIDDEN, heads * HEAD_DIM),
            mlp_norm=(1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32),
            gate=w(INTER, HIDDEN), up=w(INTER, HIDDEN), down=w(HIDDEN, INTER)))
    embed = w(VOCAB, HIDDEN)
    return dict(embed=embed, layers=layers,
                norm=(1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32),
                lm_head=embed if tied else w(VOCAB, HIDDEN),
                heads=heads, kv_heads=kv_heads, inv_freq=inv_freq(llama3),
                interleaved=interleaved, fused_norms=fused_norms)


def inv_freq(llama3=None):
    """theta^(-2i/D) in f32, optionally rescaled as transformers'
    _compute_llama3_parameters does (llama3 = its rope_scaling fields)."""
    inv = 1.0 / THETA ** (np.arange(0, HEAD_DIM, 2) / HEAD_DIM)
    if llama3:
        old, low, high = (llama3["original_max_position_embeddings"],
                          llama3["low_freq_factor"], llama3["high_freq_factor"])
        wavelen = 2 * np.pi / inv
        smooth = (old / wavelen - low) / (high - low)
        scaled = np.where(wavelen > old / low, inv / llama3["factor"], inv)
        mid = (wavelen <= old / low) & (wavelen >= old / high)
        inv = np.where(mid, (1 - smooth) * inv / llama3["factor"] + smooth * inv, scaled)
    return inv.astype(np.float32)


def numpy_logits(weights, ids, dtype=np.float32):
    """Reference forward pass (HF Llama semantics) in float64, weights
    rounded to `dtype` first."""
    cast = lambda a: a.astype(dtype).astype(np.float64)
    heads, kv = weights["heads"], weights["kv_heads"]
    t = len(ids)
    x = cast(weights["embed"])[ids]
    freqs = np.outer(np.arange(t), weights["inv_freq"].astype(np.float64))
    if weights["interleaved"]:
        # GPT-J: pairs (2i, 2i + 1) rotate by f_i.
        freqs = np.repeat(freqs, 2, -1)
        rot = lambda v: np.stack([-v[..., 1::2], v[..., 0::2]], -1).reshape(v.shape)
    else:
        freqs = np.concatenate([freqs] * 2, -1)
        rot = lambda v: np.concatenate([-v[..., HEAD_DIM // 2:], v[..., :HEAD_DIM // 2]], -1)
    cos, sin = np.cos(freqs), np.sin(freqs)
    norm = lambda v, w: v / np.sqrt((v * v).mean(-1, keepdims=True) + EPS) * cast(w)
    for layer in weights["layers"]:
        h = norm(x, layer["attn_norm"])
        q = (h @ cast(layer["q"]).T).reshape(t, heads, HEAD_DIM).transpose(1, 0, 2)
        k = (h @ cast(layer["k"]).T).reshape(t, kv, HEAD_DIM).transpose(1, 0, 2)
        v = (h @ cast(layer["v"]).T).reshape(t, kv, HEAD_DIM).transpose(1, 0, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = np.repeat(k, heads // kv, 0), np.repeat(v, heads // kv, 0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(HEAD_DIM)
        s = s + np.triu(np.full((t, t), -np.inf), 1)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        a = (p @ v).transpose(1, 0, 2).reshape(t, heads * HEAD_DIM)
        x = x + a @ cast(layer["o"]).T
        h = norm(x, layer["mlp_norm"])
        g, u = h @ cast(layer["gate"]).T, h @ cast(layer["up"]).T
        x = x + (g / (1 + np.exp(-g)) * u) @ cast(layer["down"]).T
    return norm(x, weights["norm"]) @ cast(weights["lm_head"]).T


def rms_norm(g, x, weight, fp32_casts):
    if fp32_casts:
        x = g.op("Cast", [x], to=TensorProto.FLOAT)
    sq = g.op("Pow", [x, g.const(np.float32(2.0))])
    if g.opset >= 18:
        mean = g.op("ReduceMean", [sq, g.const(np.array([-1], np.int64))], keepdims=1)
    else:
        mean = g.op("ReduceMean", [sq], axes=[-1], keepdims=1)
    var = g.op("Add", [mean, g.const(np.float32(EPS))])
    inv = g.op("Reciprocal", [g.op("Sqrt", [var])])
    y = g.op("Mul", [x, inv])
    if fp32_casts:
        y = g.op("Cast", [y], to=g.dtype)
    return g.op("Mul", [g.const(weight.astype(g.np_dtype), "norm_weight"), y])


def skip_norm(g, x, branch, weight):
    """onnxruntime's SkipSimplifiedLayerNormalization: (RMSNorm(x + branch),
    x + branch), the sum being its fourth output."""
    outs = g.op("SkipSimplifiedLayerNormalization",
                [x, branch, g.const(weight.astype(g.np_dtype), "norm_weight")],
                outputs=4, domain="com.microsoft", epsilon=EPS)
    return outs[0], outs[3]


def linear(g, x, weight):
    # Exporters store [in, out] copies of nn.Linear weights.
    return g.op("MatMul", [x, g.const(weight.T.astype(g.np_dtype), "weight")])


def unsqueeze(g, x, axes):
    if g.opset >= 13:
        return g.op("Unsqueeze", [x, g.const(np.array(axes, np.int64))])
    return g.op("Unsqueeze", [x], axes=axes)


def split_heads(g, x, n, shape_of):
    if shape_of is None:
        shape = g.const(np.array([1, -1, n, HEAD_DIM], np.int64))
    else:
        # TorchScript: Concat(Shape(x)[0:2], [n, head_dim]).
        lead = g.op("Slice", [g.op("Shape", [shape_of]), g.const(np.array([0], np.int64)),
                              g.const(np.array([2], np.int64))])
        shape = g.op("Concat", [lead, g.const(np.array([n, HEAD_DIM], np.int64))], axis=0)
    return g.op("Transpose", [g.op("Reshape", [x, shape])], perm=[0, 2, 1, 3])


def rotate_half(g, x, by_split):
    if by_split:
        lo, hi = g.op("Split", [x], outputs=2, axis=-1, num_outputs=2)
    else:
        half = HEAD_DIM // 2
        axes = g.const(np.array([3], np.int64))
        lo = g.op("Slice", [x, g.const(np.array([0], np.int64)),
                            g.const(np.array([half], np.int64)), axes])
        hi = g.op("Slice", [x, g.const(np.array([half], np.int64)),
                            g.const(np.array([2**63 - 1], np.int64)), axes])
    return g.op("Concat", [g.op("Neg", [hi]), lo], axis=-1)


def rotate_every_two(g, x, n):
    """GPT-J: flatten(stack(-x[..., 1::2], x[..., 0::2]), -2)."""
    axes, two = g.const(np.array([3], np.int64)), g.const(np.array([2], np.int64))
    end = g.const(np.array([2**63 - 1], np.int64))
    even = g.op("Slice", [x, g.const(np.array([0], np.int64)), end, axes, two])
    odd = g.op("Slice", [x, g.const(np.array([1], np.int64)), end, axes, two])
    pair = g.op("Concat", [unsqueeze(g, g.op("Neg", [odd]), [-1]), unsqueeze(g, even, [-1])],
                axis=-1)
    return g.op("Reshape", [pair, g.const(np.array([1, n, -1, HEAD_DIM], np.int64))])


def apply_rope(g, x, cos, sin, by_split, interleaved=False, n=None):
    plain = g.op("Mul", [x, cos])
    rotated = rotate_every_two(g, x, n) if interleaved else rotate_half(g, x, by_split)
    return g.op("Add", [plain, g.op("Mul", [rotated, sin])])


def repeat_kv(g, x, kv, heads):
    rep = heads // kv
    x5 = unsqueeze(g, x, [2])
    seq = g.op("Slice", [g.op("Shape", [x]), g.const(np.array([2], np.int64)),
                         g.const(np.array([3], np.int64))])
    shape = g.op("Concat", [g.const(np.array([1, kv, rep], np.int64)), seq,
                            g.const(np.array([HEAD_DIM], np.int64))], axis=0)
    out = g.op("Concat", [g.const(np.array([1, heads], np.int64)), seq,
                          g.const(np.array([HEAD_DIM], np.int64))], axis=0)
    return g.op("Reshape", [g.op("Expand", [x5, shape]), out])


def decoder(g, w, style):
    """Builds the decoder body; returns the logits' name."""
    torchscript = style in ("torchscript", "optimum", "ort-attention")
    cached = style in ("optimum", "ort-attention")
    fused_attention = w.get("fused_attention")
    heads, kv = w["heads"], w["kv_heads"]
    ids = "input_ids"
    x = g.op("Gather", [g.const(w["embed"].astype(g.np_dtype), "embed"), ids])
    seq_len = g.op("Squeeze", [g.op("Shape", [ids], start=1, end=2),
                               g.const(np.array([0], np.int64))])
    if torchscript:
        # Tables gathered by position_ids: [1, 1, T, D].
        freqs = np.outer(np.arange(MAX_POS), w["inv_freq"])
        emb = np.concatenate([freqs, freqs], -1)
        cos = unsqueeze(g, g.op("Gather", [g.const(np.cos(emb).astype(np.float32), "cos_cached"),
                                           "position_ids"]), [1])
        sin = unsqueeze(g, g.op("Gather", [g.const(np.sin(emb).astype(np.float32), "sin_cached"),
                                           "position_ids"]), [1])
        low = np.float32(np.finfo(np.float32).min)
        if cached:
            # [T, past + T]: query i (at past + i) sees keys j <= past + i;
            # the past length is the cache's sequence dimension.
            past = g.op("Squeeze", [g.op("Shape", ["past_key_values.0.key"], start=2, end=3),
                                    g.const(np.array([0], np.int64))])
            total = g.op("Add", [past, seq_len])
            rows = g.op("Reshape", [g.op("Range", [past, total, g.const(np.int64(1))]),
                                    g.const(np.array([-1, 1], np.int64))])
            cols = g.op("Range", [g.const(np.int64(0)), total, g.const(np.int64(1))])
            causal = g.op("Where", [g.op("Greater", [cols, rows]), g.const(low),
                                    g.const(np.float32(0.0))])
        else:
            # Causal part: Where(arange < (arange + 1)^T, 0, min).
            r = g.op("Range", [g.const(np.int64(0)), seq_len, g.const(np.int64(1))])
            r1 = g.op("Reshape", [g.op("Add", [r, g.const(np.int64(1))]),
                                  g.const(np.array([-1, 1], np.int64))])
            causal = g.op("Where", [g.op("Less", [r, r1]), g.const(np.float32(0.0)), g.const(low)])
        causal = unsqueeze(g, causal, [0, 1])
        # Padding part: (1 - mask[:, None, None, :]) filled with min.
        m = g.op("Cast", [unsqueeze(g, "attention_mask", [1, 2])], to=TensorProto.FLOAT)
        inverted = g.op("Sub", [g.const(np.float32(1.0)), m])
        padding = g.op("Where", [g.op("Cast", [inverted], to=TensorProto.BOOL), g.const(low), inverted])
        mask = g.op("Add", [causal, padding])
    else:
        pos = unsqueeze(g, g.op("Range", [g.const(np.int64(0)), seq_len, g.const(np.int64(1))]), [0])
        posf = g.op("Cast", [unsqueeze(g, pos, [1])], to=TensorProto.FLOAT)
        f = g.op("MatMul", [g.const(w["inv_freq"].reshape(1, -1, 1), "inv_freq"), posf])
        f = g.op("Transpose", [f], perm=[0, 2, 1])
        if w["interleaved"]:
            # cos/sin of each frequency twice, side by side (repeat_interleave).
            pair = g.op("Concat", [unsqueeze(g, f, [-1]), unsqueeze(g, f, [-1])], axis=-1)
            emb = g.op("Reshape", [pair, g.const(np.array([1, -1, HEAD_DIM], np.int64))])
        else:
            emb = g.op("Concat", [f, f], axis=-1)
        cos = unsqueeze(g, g.op("Cast", [g.op("Cos", [emb])], to=g.dtype), [1])
        sin = unsqueeze(g, g.op("Cast", [g.op("Sin", [emb])], to=g.dtype), [1])
        square = g.op("Expand", [g.const(np.float32(-np.inf)),
                                 g.op("Concat", [g.op("Shape", [ids], start=1, end=2)] * 2, axis=0)])
        mask = g.op("Trilu", [square, g.const(np.int64(1))], upper=1)
    if w.get("rotary_op"):
        freqs = np.outer(np.arange(MAX_POS), w["inv_freq"])
        rope_cos = g.const(np.cos(freqs).astype(np.float32), "cos_cache")
        rope_sin = g.const(np.sin(freqs).astype(np.float32), "sin_cache")
    fused = w.get("fused_norms", False)
    pending = None  # the norm a fused residual Add already computed
    for index, layer in enumerate(w["layers"]):
        if fused:
            h = pending or g.op("SimplifiedLayerNormalization",
                                [x, g.const(layer["attn_norm"].astype(g.np_dtype), "norm_weight")],
                                axis=-1, epsilon=EPS)
        else:
            h = rms_norm(g, x, layer["attn_norm"], fp32_casts=not torchscript)
        shape_of = h if torchscript else None
        qproj = linear(g, h, layer["q"])
        q = split_heads(g, qproj, heads, shape_of)
        kproj = linear(g, h, layer["k"])
        k = split_heads(g, kproj, kv, shape_of)
        vproj = linear(g, h, layer["v"])
        v = split_heads(g, vproj, kv, shape_of)
        q = apply_rope(g, q, cos, sin, by_split=not torchscript,
                       interleaved=w["interleaved"], n=heads)
        k = apply_rope(g, k, cos, sin, by_split=not torchscript,
                       interleaved=w["interleaved"], n=kv)
        if g.opset >= 23:
            # One Attention node over the head views, GQA and the causal
            # mask included.
            a = g.op("Attention", [q, k, v], is_causal=1, outputs=1)
            a = g.op("Transpose", [a], perm=[0, 2, 1, 3])
            a = g.op("Reshape", [a, g.const(np.array([1, -1, heads * HEAD_DIM], np.int64))])
            x = g.op("Add", [x, linear(g, a, layer["o"])])
            h = rms_norm(g, x, layer["mlp_norm"], fp32_casts=not torchscript)
            gate = linear(g, h, layer["gate"])
            silu = g.op("Mul", [gate, g.op("Sigmoid", [gate])])
            x = g.op("Add", [x, linear(g, g.op("Mul", [silu, linear(g, h, layer["up"])]),
                                       layer["down"])])
            continue
        if fused_attention:
            # onnxruntime's fused attention on [1, T, heads * head_dim]: the
            # rotated head views merged back, the values as projected, the
            # cache as the op's past/present.
            merge = lambda t, n: g.op("Reshape", [g.op("Transpose", [t], perm=[0, 2, 1, 3]),
                                                  g.const(np.array([1, -1, n * HEAD_DIM], np.int64))])
            if w.get("rotary_op") == "gqa":
                # GroupQueryAttention rotates q and k itself (do_rotary).
                merge = lambda t, n: t
                q, k = qproj, kproj
            elif w.get("rotary_op"):
                # com.microsoft RotaryEmbedding on the projections, as the
                # optimizer fuses RoPE: caches [positions, head_dim / 2].
                style = dict(interleaved=1) if w["interleaved"] else {}
                rope_op = lambda t, n: g.op("RotaryEmbedding", [t, "position_ids", rope_cos, rope_sin],
                                            domain="com.microsoft", num_heads=n, **style)
                merge = lambda t, n: t
                q, k = rope_op(qproj, heads), rope_op(kproj, kv)
            past = [f"past_key_values.{index}.key", f"past_key_values.{index}.value"]
            if fused_attention == "gqa":
                # seqlens_k (last key index) and total length from the mask.
                summed = g.op("ReduceSum", ["attention_mask", g.const(np.array([1], np.int64))],
                              keepdims=0)
                seqlens = g.op("Cast", [g.op("Sub", [summed, g.const(np.int64(1))])],
                               to=TensorProto.INT32)
                total_len = g.op("Cast", [g.op("Squeeze", [g.op("Shape", ["attention_mask"], start=1,
                                                                end=2),
                                                       g.const(np.array([0], np.int64))])],
                                 to=TensorProto.INT32)
                tables = [rope_cos, rope_sin] if w.get("rotary_op") == "gqa" else []
                rotary = dict(do_rotary=1) if tables else {}
                a, pk, pv = g.op("GroupQueryAttention",
                                 [merge(q, heads), merge(k, kv), vproj] + past +
                                 [seqlens, total_len] + tables,
                                 outputs=3, domain="com.microsoft", num_heads=heads,
                                 kv_num_heads=kv, scale=float(HEAD_DIM ** -0.5), **rotary)
            else:
                a, pk, pv = g.op("MultiHeadAttention",
                                 [merge(q, heads), merge(k, kv), vproj, "", "", mask] + past,
                                 outputs=3, domain="com.microsoft", num_heads=heads)
            g.presents += [(f"present.{index}.key", pk), (f"present.{index}.value", pv)]
            x = g.op("Add", [x, linear(g, a, layer["o"])])
            h = rms_norm(g, x, layer["mlp_norm"], fp32_casts=False)
            gate = linear(g, h, layer["gate"])
            silu = g.op("Mul", [gate, g.op("Sigmoid", [gate])])
            x = g.op("Add", [x, linear(g, g.op("Mul", [silu, linear(g, h, layer["up"])]),
                                       layer["down"])])
            continue
        if cached:
            # optimum: the past joins the new keys/values on the sequence
            # axis and the joined tensors are the present outputs.
            k = g.op("Concat", [f"past_key_values.{index}.key", k], axis=-2)
            v = g.op("Concat", [f"past_key_values.{index}.value", v], axis=-2)
            g.presents += [(f"present.{index}.key", k), (f"present.{index}.value", v)]
        if kv != heads:
            k, v = repeat_kv(g, k, kv, heads), repeat_kv(g, v, kv, heads)
        kt = g.op("Transpose", [k], perm=[0, 1, 3, 2])
        if torchscript:
            s = g.op("Div", [g.op("MatMul", [q, kt]), g.const(np.float32(np.sqrt(HEAD_DIM)))])
        else:
            root = g.const(np.array(HEAD_DIM ** -0.25, g.np_dtype))
            s = g.op("MatMul", [g.op("Mul", [q, root]), g.op("Mul", [kt, root])])
        if torchscript:
            p = g.op("Softmax", [g.op("Add", [s, mask])], axis=-1)
        else:
            s32 = g.op("Add", [g.op("Cast", [s], to=TensorProto.FLOAT), mask])
            p = g.op("Cast", [g.op("Softmax", [s32], axis=-1)], to=g.dtype)
        a = g.op("Transpose", [g.op("MatMul", [p, v])], perm=[0, 2, 1, 3])
        a = g.op("Reshape", [a, g.const(np.array([1, -1, heads * HEAD_DIM], np.int64))])
        if fused:
            h, x = skip_norm(g, x, linear(g, a, layer["o"]), layer["mlp_norm"])
        else:
            x = g.op("Add", [x, linear(g, a, layer["o"])])
            h = rms_norm(g, x, layer["mlp_norm"], fp32_casts=not torchscript)
        gate = linear(g, h, layer["gate"])
        silu = g.op("Mul", [gate, g.op("Sigmoid", [gate])])
        if fused:
            last = index + 1 == len(w["layers"])
            following = w["norm"] if last else w["layers"][index + 1]["attn_norm"]
            pending, x = skip_norm(g, x, linear(g, g.op("Mul", [silu, linear(g, h, layer["up"])]),
                                                layer["down"]), following)
            continue
        x = g.op("Add", [x, linear(g, g.op("Mul", [silu, linear(g, h, layer["up"])]),
                                   layer["down"])])
    h = pending if fused else rms_norm(g, x, w["norm"], fp32_casts=not torchscript)
    if torchscript:
        return linear(g, h, w["lm_head"])
    # Tied: the embedding table, transposed by the graph.
    table = g.inits[0].name
    return g.op("MatMul", [h, g.op("Transpose", [table], perm=[1, 0])])


def build(style, opset, dtype, weights):
    g = Graph(dtype)
    g.opset = opset
    g.presents = []
    g.np_dtype = np.float16 if dtype == TensorProto.FLOAT16 else np.float32
    logits = decoder(g, weights, style)
    g.nodes.append(helper.make_node("Identity", [logits], ["logits"], name="/logits"))
    seq = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, [1, "sequence"])
    inputs = [seq("input_ids")]
    if style == "torchscript":
        inputs += [seq("attention_mask"), seq("position_ids")]
    outputs = [helper.make_tensor_value_info("logits", dtype, [1, "sequence", VOCAB])]
    if style in ("optimum", "ort-attention"):
        inputs += [helper.make_tensor_value_info("attention_mask", TensorProto.INT64,
                                                 [1, "total_sequence"]),
                   seq("position_ids")]
        cache = lambda n, length: helper.make_tensor_value_info(
            n, dtype, [1, weights["kv_heads"], length, HEAD_DIM])
        for index in range(LAYERS):
            inputs += [cache(f"past_key_values.{index}.{kind}", "past_sequence")
                       for kind in ("key", "value")]
        for name, value in g.presents:
            g.nodes.append(helper.make_node("Identity", [value], [name], name="/" + name))
            outputs.append(cache(name, "total_sequence"))
    if weights.get("fused_attention") == "gqa" or weights.get("rotary_op"):
        # The additive mask GroupQueryAttention does not read is not written.
        used = {o.name for o in outputs}
        kept = []
        for node in reversed(g.nodes):
            if any(o in used for o in node.output):
                kept.append(node)
                used.update(node.input)
        g.nodes = kept[::-1]
        g.inits = [i for i in g.inits if i.name in used]
    graph = helper.make_graph(g.nodes, "decoder", inputs, outputs, g.inits)
    opsets = [helper.make_opsetid("", opset)]
    if weights.get("fused_norms") or weights.get("fused_attention"):
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    if opset <= 17 and not (weights.get("fused_norms") or weights.get("fused_attention")):
        # Debian's onnx 1.12 knows op schemas up to opset 17, none of
        # onnxruntime's com.microsoft ops.
        onnx.checker.check_model(model)
    return model


# name, seed and layout of each decoder.
DECODERS = [
    ("torchscript-gqa", dict(seed=1, heads=4, kv_heads=2, tied=False),
     ("torchscript", 17, TensorProto.FLOAT)),
    ("dynamo-fp16-mha", dict(seed=2, heads=4, kv_heads=4, tied=True),
     ("dynamo", 18, TensorProto.FLOAT16)),
    ("opset23-attention", dict(seed=3, heads=4, kv_heads=2, tied=True),
     ("dynamo", 23, TensorProto.FLOAT)),
    # llama3 RoPE scaling: with theta 1e4 and head_dim 16 the wavelengths are
    # 2 pi 10^(i/2), so frequency 0 is unscaled, 1 and 2 are interpolated
    # and 3..7 divided by the factor.
    ("dynamo-llama3-rope", dict(seed=4, heads=4, kv_heads=2, tied=True,
                                llama3=dict(factor=8.0, low_freq_factor=1.0,
                                            high_freq_factor=8.0,
                                            original_max_position_embeddings=64)),
     ("dynamo", 18, TensorProto.FLOAT)),
    ("dynamo-interleaved-rope", dict(seed=5, heads=4, kv_heads=2, tied=True,
                                     interleaved=True),
     ("dynamo", 18, TensorProto.FLOAT)),
    ("ort-fused-norms", dict(seed=6, heads=4, kv_heads=2, tied=False,
                             fused_norms=True),
     ("torchscript", 17, TensorProto.FLOAT)),
    ("optimum-kv-cache", dict(seed=7, heads=4, kv_heads=2, tied=False),
     ("optimum", 17, TensorProto.FLOAT)),
    ("ort-group-query-attention", dict(seed=8, heads=4, kv_heads=2, tied=False,
                                       fused_attention="gqa"),
     ("ort-attention", 17, TensorProto.FLOAT)),
    ("ort-multi-head-attention", dict(seed=9, heads=4, kv_heads=4, tied=False,
                                      fused_attention="mha"),
     ("ort-attention", 17, TensorProto.FLOAT)),
    ("ort-rotary-gqa", dict(seed=10, heads=4, kv_heads=2, tied=False,
                            fused_attention="gqa", rotary_op=True),
     ("ort-attention", 17, TensorProto.FLOAT)),
    ("ort-gqa-do-rotary", dict(seed=11, heads=4, kv_heads=2, tied=False,
                               fused_attention="gqa", rotary_op="gqa"),
     ("ort-attention", 17, TensorProto.FLOAT)),
    ("ort-rotary-interleaved", dict(seed=12, heads=4, kv_heads=2, tied=False,
                                    fused_attention="gqa", rotary_op=True,
                                    interleaved=True),
     ("ort-attention", 17, TensorProto.FLOAT)),
]


def models():
    for name, w, (style, opset, dtype) in DECODERS:
        weights = random_weights(w["seed"], heads=w["heads"], kv_heads=w["kv_heads"],
                                 tied=w["tied"], llama3=w.get("llama3"),
                                 interleaved=w.get("interleaved", False),
                                 fused_norms=w.get("fused_norms", False))
        weights["fused_attention"] = w.get("fused_attention")
        weights["rotary_op"] = w.get("rotary_op", False)
        yield name, weights, build(style, opset, dtype, weights)


def past_check(weights, model, ids, split):
    """Runs a cached decoder's graph itself (onnx_numpy, float64): the
    prefix ids[:split] with an empty past, then the rest with the prefix's
    present outputs as the past, position ids from `split` and a mask over
    both; returns the relative L2 error of (a) the prefix's logits and (b)
    the rest's against numpy_logits of the whole sequence."""
    import onnx_numpy
    ref = numpy_logits(weights, ids)
    empty = np.zeros((1, weights["kv_heads"], 0, HEAD_DIM), np.float32)
    names = [i.name for i in model.graph.input if i.name.startswith("past")]

    def step(chunk, start, past):
        feeds = dict(input_ids=chunk[None], position_ids=np.arange(start, start + len(chunk))[None],
                     attention_mask=np.ones((1, start + len(chunk)), np.int64))
        feeds.update(zip(names, past))
        out = onnx_numpy.run(model, feeds)
        return out[0][0], out[1:]

    head, present = step(ids[:split], 0, [empty] * len(names))
    tail, _ = step(ids[split:], split, present)
    rel = lambda a, b: np.linalg.norm(a - b) / np.linalg.norm(b)
    return rel(head, ref[:split]), rel(tail, ref[split:])


def check(argv):
    ap = argparse.ArgumentParser(prog="make_decoders.py check")
    ap.add_argument("--qtc", required=True)
    ap.add_argument("--qtc-run", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--tokens", type=int, default=24)
    ap.add_argument("--tol", type=float, default=1e-3)
    args = ap.parse_args(argv)
    os.makedirs(args.tmp, exist_ok=True)
    failed = False
    for name, weights, model in models():
        path = os.path.join(args.dir, name + ".onnx")
        with open(path, "rb") as f:
            if f.read() != model.SerializeToString():
                sys.exit(f"FAIL {name}: {path} is not what make_decoders.py writes; "
                         "regenerate it")
        art = os.path.join(args.tmp, name + ".qtc")
        subprocess.run([args.qtc, "compile", path, "-o", art, "--target", "host",
                        "--recipe", "fp16", "--quiet"], check=True)
        ids = [int(t) for t in np.random.default_rng(11).integers(0, VOCAB, args.tokens)]
        out = subprocess.run([args.qtc_run, art, "--backend", "host", "--json", "--score",
                              "--prompt-ids", ",".join(map(str, ids)),
                              "--top-logits", str(VOCAB)],
                             check=True, capture_output=True, text=True)
        got_json = json.loads(out.stdout)
        got = np.zeros((len(ids), VOCAB))
        for t, top in enumerate(got_json["top_logits"]):
            got[t, top["ids"]] = top["logits"]
        ref = numpy_logits(weights, np.array(ids), dtype=np.float16)
        rel = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        order = np.argsort(-ref, axis=1)
        gap = ref[np.arange(len(ids)), order[:, 0]] - ref[np.arange(len(ids)), order[:, 1]]
        bad = [t for t in range(len(ids))
               if got_json["argmax"][t] != order[t, 0] and gap[t] > 10 * args.tol * np.abs(ref).max()]
        print(f"{name}: {len(ids)} positions x {VOCAB} logits, relative L2 error {rel:.2e} "
              f"(bound {args.tol:.0e}), {len(bad)} argmax mismatches beyond near ties")
        graph_bad = False
        if any(i.name.startswith("past") for i in model.graph.input):
            split = len(ids) * 2 // 3
            head, tail = past_check(weights, model, np.array(ids), split)
            print(f"{name}: the graph in float64 with an empty past ({split} tokens) and with "
                  f"those {split} as its past ({len(ids) - split} more): relative L2 error "
                  f"{head:.1e}, {tail:.1e} (bound 1e-6: the graph keeps cos/sin in f32)")
            graph_bad = head > 1e-6 or tail > 1e-6
        if rel > args.tol or bad or graph_bad:
            print(f"FAIL {name}")
            failed = True
        else:
            print(f"ok   {name}")
    sys.exit(1 if failed else 0)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        return check(sys.argv[2:])
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, _, model in models():
        onnx.save(model, os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
