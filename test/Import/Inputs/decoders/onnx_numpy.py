"""Runs an ONNX graph with NumPy in float64, for the generated decoders'
checks where a graph must be run as written (a past key/value cache, fused
onnxruntime ops): Debian's onnx 1.12 has no reference evaluator and
onnxruntime is not installed here. Only the ops make_decoders.py writes are
implemented; any other op is an error."""
import numpy as np
from onnx import numpy_helper


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.FLOAT:
            out[a.name] = a.f
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
    return out


def _slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[int(a)] = slice(int(s), int(min(e, 2**62)), int(st))
    return x[tuple(index)]


def _softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _float(x):
    return x.astype(np.float64) if np.issubdtype(x.dtype, np.floating) else x


def rotary_embedding(a, x, position_ids, cos_cache, sin_cache):
    """com.microsoft RotaryEmbedding on [batch, tokens, heads * head_size]
    (num_heads) or [batch, heads, tokens, head_size]: the halves rotate by
    the cache's columns, or with interleaved the pairs (2i, 2i + 1)."""
    half = cos_cache.shape[1]
    flat = x.ndim == 3
    v = x.reshape(x.shape[0], x.shape[1], -1, 2 * half) if flat else x.transpose(0, 2, 1, 3)
    cos = cos_cache[position_ids][:, :, None, :]  # [b, T, 1, half]
    sin = sin_cache[position_ids][:, :, None, :]
    if a.get("interleaved", 0):
        ev, od = v[..., 0::2], v[..., 1::2]
        out = np.stack([ev * cos - od * sin, od * cos + ev * sin], -1).reshape(v.shape)
    else:
        lo, hi = v[..., :half], v[..., half:]
        out = np.concatenate([lo * cos - hi * sin, hi * cos + lo * sin], -1)
    return out.reshape(x.shape) if flat else out.transpose(0, 2, 1, 3)


def _attend(q, k, v, heads, kv_heads, scale, past_k, past_v, causal, bias=None,
            last=None):
    """onnxruntime's fused attention on [batch, tokens, heads * head_dim]
    inputs and [batch, kv_heads, past, head_dim] pasts: returns the output
    and the present key/value (the past joined with the new ones)."""
    b, s, _ = q.shape
    d = q.shape[2] // heads
    split = lambda x, n: x.reshape(b, -1, n, d).transpose(0, 2, 1, 3)
    qh, kh, vh = split(q, heads), split(k, kv_heads), split(v, kv_heads)
    if past_k is not None:
        kh, vh = np.concatenate([past_k, kh], 2), np.concatenate([past_v, vh], 2)
    total = kh.shape[2]
    rep = heads // kv_heads
    scores = qh @ np.repeat(kh, rep, 1).transpose(0, 1, 3, 2) * (scale or 1 / np.sqrt(d))
    if bias is not None:
        scores = scores + bias
    keys, queries = np.arange(total), total - s + np.arange(s)
    hidden = np.zeros((b, 1, s, total), bool)
    if causal:
        hidden |= keys[None, None, None, :] > queries[None, None, :, None]
    if last is not None:  # seqlens_k: the index of each sequence's last key
        hidden |= keys[None, None, None, :] > np.asarray(last).reshape(b, 1, 1, 1)
    scores = np.where(hidden, -np.inf, scores)
    out = _softmax(scores, -1) @ np.repeat(vh, rep, 1)
    return out.transpose(0, 2, 1, 3).reshape(b, s, heads * d), kh, vh


def group_query_attention(a, q, k, v, past_k=None, past_v=None, seqlens_k=None,
                          total=None, cos_cache=None, sin_cache=None, *rest):
    """com.microsoft GroupQueryAttention: causal, GQA; do_rotary rotates q
    and k (rotate-half) at their positions, after the past."""
    if any(r is not None for r in rest):
        raise NotImplementedError("GroupQueryAttention with extra inputs")
    if a.get("do_rotary", 0):
        past = 0 if past_k is None else past_k.shape[2]
        pos = past + np.arange(q.shape[1])[None]
        style = {"interleaved": a.get("rotary_interleaved", 0)}
        rope = lambda x, n: rotary_embedding(style, x, pos, cos_cache, sin_cache)
        q, k = rope(q, a["num_heads"]), rope(k, a["kv_num_heads"])
    return _attend(q, k, v, a["num_heads"], a["kv_num_heads"], a.get("scale", 0.0),
                   past_k, past_v, causal=True, last=seqlens_k)


def multi_head_attention(a, q, k, v, bias=None, padding=None, attention_bias=None,
                         past_k=None, past_v=None):
    """com.microsoft MultiHeadAttention on 3-D Q/K/V."""
    if bias is not None or padding is not None:
        raise NotImplementedError("MultiHeadAttention bias or key_padding_mask")
    heads = a["num_heads"]
    return _attend(q, k, v, heads, heads, a.get("scale", 0.0), past_k, past_v,
                   causal=bool(a.get("unidirectional", 0)), bias=attention_bias)


OPS = {
    "Identity": lambda a, x: x,
    "Neg": lambda a, x: -x,
    "Sqrt": lambda a, x: np.sqrt(x),
    "Reciprocal": lambda a, x: 1 / x,
    "Sigmoid": lambda a, x: 1 / (1 + np.exp(-x)),
    "Cos": lambda a, x: np.cos(x),
    "Sin": lambda a, x: np.sin(x),
    "Add": lambda a, x, y: x + y,
    "Sub": lambda a, x, y: x - y,
    "Mul": lambda a, x, y: x * y,
    "Div": lambda a, x, y: x / y if np.issubdtype(x.dtype, np.floating) else x // y,
    "Pow": lambda a, x, y: x ** y,
    "MatMul": lambda a, x, y: x @ y,
    "Less": lambda a, x, y: x < y,
    "Greater": lambda a, x, y: x > y,
    "Where": lambda a, c, x, y: np.where(c, x, y),
    "Shape": lambda a, x: np.array(x.shape[a.get("start", 0):a.get("end", x.ndim)], np.int64),
    "Squeeze": lambda a, x, axes: np.squeeze(x, tuple(int(i) for i in axes)),
    "Unsqueeze": lambda a, x, axes: np.expand_dims(x, tuple(int(i) for i in axes)),
    "Reshape": lambda a, x, s: x.reshape([x.shape[i] if d == 0 else int(d)
                                          for i, d in enumerate(s)]),
    "Transpose": lambda a, x: x.transpose(a["perm"]),
    "Concat": lambda a, *xs: np.concatenate(xs, a["axis"]),
    "Slice": lambda a, x, *r: _slice(x, *r),
    "Gather": lambda a, x, i: np.take(x, i, a.get("axis", 0)),
    "Expand": lambda a, x, s: x * np.ones(s, x.dtype),
    "Range": lambda a, s, e, d: np.arange(s, e, d, dtype=np.int64),
    "ReduceMean": lambda a, x, axes=None: x.mean(
        tuple(a["axes"] if axes is None else axes), keepdims=bool(a.get("keepdims", 1))),
    "Softmax": lambda a, x: _softmax(x, a.get("axis", -1)),
    "ReduceSum": lambda a, x, axes: x.sum(tuple(int(i) for i in axes),
                                          keepdims=bool(a.get("keepdims", 1))),
    "GroupQueryAttention": group_query_attention,
    "RotaryEmbedding": rotary_embedding,
    "MultiHeadAttention": multi_head_attention,
    "Cast": lambda a, x: ((x != 0) if a["to"] == 9 else
                          x.astype(np.int64) if a["to"] in (6, 7) else x.astype(np.float64)),
}


def run(model, feeds, ops=None):
    """Evaluates `model` on `feeds` (name -> array); returns the graph
    outputs in order. `ops` adds or overrides op implementations, keyed by
    op type, each called as f(attributes, *inputs) returning one array or a
    tuple of the node's outputs."""
    table = dict(OPS, **(ops or {}))
    env = {i.name: _float(numpy_helper.to_array(i)) for i in model.graph.initializer}
    env.update({k: _float(np.asarray(v)) for k, v in feeds.items()})
    for node in model.graph.node:
        if node.op_type not in table:
            raise NotImplementedError(f"{node.name} ({node.op_type})")
        args = [env[n] if n else None for n in node.input]
        while args and args[-1] is None:
            args.pop()
        out = table[node.op_type](_attrs(node), *args)
        outs = out if isinstance(out, tuple) else (out,)
        for name, value in zip(node.output, outs):
            if name:
                env[name] = value
    return [env[o.name] for o in model.graph.output]
