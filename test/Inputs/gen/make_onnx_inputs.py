#!/usr/bin/env python3
"""Writes the small ONNX files under test/Inputs/onnx used by the importer tests.

Run with the python3 that has Debian's onnx module (python3-onnx, onnx 1.12):
    python3 make_onnx_inputs.py
The outputs are committed; rerun this after changing it. Everything is
deterministic (fixed seeds), so rerunning reproduces the same bytes.

Bad inputs (each isolates one failure):
  not-onnx.onnx               text, not a protobuf
  truncated.onnx              a valid model cut in the middle of a tensor
  opset-12.onnx               default-domain opset below the supported 13..23
  external-absolute.onnx      external data location "/etc/passwd"
  external-parent.onnx        external data location "../escape.bin"
  external-symlink.onnx       location "outside-link.bin"; the unit test makes
                              that a symbolic link leading out of the folder
  external-past-eof.onnx      offset + length beyond external-past-eof.bin
  external-wrong-length.onnx  length disagrees with shape * dtype
  raw-data-size.onnx          raw_data shorter than shape * dtype
  unknown-op.onnx             a node (Erf) no raising pattern accepts

Good inputs for the loader:
  typed-fields.onnx           initializers in float_data, int64_data and
                              int32_data (f16 bit patterns) instead of raw_data

Small decoders, built the way torch's dynamo exporter decomposes Llama-family
models but with variations the raiser must also accept:
  tiny-llama-tied/model.onnx  MHA (no repeat_kv), tied embeddings, linear
                              weights as Transpose(W[out, in]), RMSNorm as
                              Mul(x, x) and Div(x, Sqrt), scores divided by
                              sqrt(head_dim), a Trilu causal mask, theta
                              500000 in f32, no config.json beside it
  tiny-qwen2/model.onnx       GQA with repeat_kv, q/k/v biases, [in, out]
                              weights, Pow/Reciprocal RMSNorm, scores
                              multiplied by the scale, theta 1e6, opset 17
                              (ReduceMean axes as an attribute), with a
                              config.json beside it
  tiny-llama-external/        tiny-llama-tied with every initializer in
                              external data (weights.bin)
Their initializers are named "val_N" except the norms and the embedding, as
the dynamo exporter does, and each weight carries a marker so tests can check
the name and orientation the importer gives it: in the Hugging Face layout
([out, in] for linears), element [0, 0] (or [0] for vectors) is
10 * layer + role and element [0, 1] is that plus 0.5, where role is
q 1, k 2, v 3, o 4, gate 5, up 6, down 7, input norm 8, post-attention norm 9;
biases hold 10 * layer + role + 0.25 at [0]; the embedding's [0, 0] is -1, the
final norm's [0] is -3 and an untied lm_head's [0, 0] is -2.
"""

import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "onnx")


def save(model, name):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def model_of(nodes, inputs, outputs, initializers, opset=18):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)],
        producer_name="qtc-test-inputs")
    model.ir_version = 8
    return model


def ids_input():
    return helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                         [1, "sequence"])


def logits_output(vocab):
    return helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                         [1, "sequence", vocab])


def embedding_only(table, opset=18):
    """input_ids -> Gather(table) -> logits: loads fine, raises nowhere."""
    init = numpy_helper.from_array(table, "embed")
    node = helper.make_node("Gather", ["embed", "input_ids"], ["logits"],
                            name="embedding", axis=0)
    return model_of([node], [ids_input()], [logits_output(table.shape[1])],
                    [init], opset)


def external(name, location, offset=None, length=None, dims=(4, 4)):
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = TensorProto.FLOAT
    tensor.dims.extend(dims)
    tensor.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for key, value in entries:
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def write_bad_inputs():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((8, 4)).astype(np.float32)

    with open(os.path.join(OUT, "not-onnx.onnx"), "wb") as f:
        f.write(b"this is not an onnx model\n")

    whole = embedding_only(table).SerializeToString()
    raw = table.tobytes()
    cut = whole.index(raw) + len(raw) // 2
    with open(os.path.join(OUT, "truncated.onnx"), "wb") as f:
        f.write(whole[:cut])

    save(embedding_only(table, opset=12), "opset-12.onnx")

    def with_external(tensor, name):
        node = helper.make_node("Gather", [tensor.name, "input_ids"],
                                ["logits"], name="embedding", axis=0)
        save(model_of([node], [ids_input()], [logits_output(4)], [tensor]),
             name)

    with_external(external("embed", "/etc/passwd"), "external-absolute.onnx")
    with_external(external("embed", "../escape.bin"), "external-parent.onnx")
    with_external(external("embed", "outside-link.bin"),
                  "external-symlink.onnx")
    with open(os.path.join(OUT, "external-past-eof.bin"), "wb") as f:
        f.write(np.arange(16, dtype=np.float32).tobytes())
    with_external(external("embed", "external-past-eof.bin", offset=32,
                           length=64), "external-past-eof.onnx")
    with_external(external("embed", "external-past-eof.bin", offset=0,
                           length=60), "external-wrong-length.onnx")

    short = numpy_helper.from_array(table, "embed")
    short.raw_data = short.raw_data[:-4]
    node = helper.make_node("Gather", ["embed", "input_ids"], ["logits"],
                            name="embedding", axis=0)
    save(model_of([node], [ids_input()], [logits_output(4)], [short]),
         "raw-data-size.onnx")

    nodes = [
        helper.make_node("Gather", ["embed", "input_ids"], ["x"],
                         name="embedding", axis=0),
        helper.make_node("Erf", ["x"], ["logits"], name="mystery"),
    ]
    save(model_of(nodes, [ids_input()], [logits_output(4)],
                  [numpy_helper.from_array(table, "embed")]),
         "unknown-op.onnx")


class DecoderBuilder:
    """Emits a decomposed Llama-family decoder like torch's dynamo exporter."""

    def __init__(self, cfg, seed):
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, value, dtype=np.int64, base="c"):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.array(value, dtype=dtype),
                                                  name))
        return name

    def weight(self, shape, name=None, marker=None, transpose=False):
        """A random tensor, given in the Hugging Face layout `shape` and
        stored transposed when `transpose` is set."""
        name = name or self.name("val")
        data = (self.rng.standard_normal(shape) * 0.1).astype(np.float32)
        if marker is not None:
            data.flat[0] = marker
            if data.ndim == 2:
                data[0, 1] = marker + 0.5
        if transpose:
            data = np.ascontiguousarray(data.T)
        self.inits.append(numpy_helper.from_array(data, name))
        return name

    def op(self, op_type, inputs, node_name=None, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out],
                                           name=node_name or "node_" + out,
                                           **attrs))
        return out

    def rms_norm(self, x, weight_name, marker):
        c = self.cfg
        if c["norm"] == "pow":
            sq = self.op("Pow", [x, self.const(2.0, np.float32)])
        else:
            sq = self.op("Mul", [x, x])
        if c["opset"] >= 18:
            mean = self.op("ReduceMean", [sq, self.const([-1])], keepdims=1)
        else:
            mean = self.op("ReduceMean", [sq], axes=[-1], keepdims=1)
        root = self.op("Sqrt", [self.op("Add", [mean, self.const(
            c["eps"], np.float32)])])
        if c["norm"] == "pow":
            normed = self.op("Mul", [x, self.op("Reciprocal", [root])])
        else:
            normed = self.op("Div", [x, root])
        return self.op("Mul", [self.weight([c["hidden"]], weight_name, marker),
                               normed])

    def linear(self, x, out_dim, in_dim, marker, bias=False):
        if self.cfg["weights"] == "transpose":
            w = self.op("Transpose", [self.weight([out_dim, in_dim],
                                                  marker=marker)], perm=[1, 0])
        else:
            w = self.weight([out_dim, in_dim], marker=marker, transpose=True)
        y = self.op("MatMul", [x, w])
        if bias:
            y = self.op("Add", [y, self.weight([out_dim],
                                               marker=marker + 0.25)])
        return y

    def heads(self, x, count):
        d = self.cfg["head_dim"]
        view = self.op("Reshape", [x, self.const([1, -1, count, d])])
        return self.op("Transpose", [view], perm=[0, 2, 1, 3])

    def rope(self, x, cos, sin):
        half = self.cfg["head_dim"] // 2
        lower = self.op("Slice", [x, self.const([0]), self.const([half]),
                                  self.const([-1]), self.const([1])])
        upper = self.op("Slice", [x, self.const([half]),
                                  self.const([2**63 - 1]), self.const([-1]),
                                  self.const([1])])
        rotated = self.op("Concat", [self.op("Neg", [upper]), lower], axis=-1)
        return self.op("Add", [self.op("Mul", [x, cos]),
                               self.op("Mul", [rotated, sin])])

    def repeat_kv(self, x, seq):
        c = self.cfg
        n_rep = c["heads"] // c["kv_heads"]
        if n_rep == 1:
            return x
        shape = self.op("Concat", [self.const([1]), self.const([c["kv_heads"]]),
                                   self.const([n_rep]), seq,
                                   self.const([c["head_dim"]])], axis=0)
        expanded = self.op("Expand", [self.op("Unsqueeze", [x, self.const([2])]),
                                      shape])
        return self.op("Reshape", [expanded, self.const(
            [1, c["heads"], -1, c["head_dim"]])])

    def build(self):
        c = self.cfg
        h, d = c["hidden"], c["head_dim"]
        seq = self.op("Shape", ["input_ids"], start=1, end=2)
        length = self.op("Squeeze", [seq])
        arange = self.op("Range", [self.const(0), length, self.const(1)])

        # RoPE tables: inv_freq [1, d/2, 1] x positions [1, 1, s].
        inv = (1.0 / (c["theta"] ** (np.arange(0, d, 2, dtype=np.int64)
                                     .astype(np.float32) / d))).astype(
                                         np.float32)
        positions = self.op("Cast", [self.op("Unsqueeze", [
            arange, self.const([0, 1])])], to=TensorProto.FLOAT)
        freqs = self.op("Transpose", [self.op("MatMul", [
            self.const(inv.reshape(1, -1, 1), np.float32), positions])],
            perm=[0, 2, 1])
        angles = self.op("Concat", [freqs, freqs], axis=-1)
        cos = self.op("Unsqueeze", [self.op("Cos", [angles]), self.const([1])])
        sin = self.op("Unsqueeze", [self.op("Sin", [angles]), self.const([1])])

        # Causal mask from a lower-triangular matrix of ones.
        square = self.op("Concat", [seq, seq], axis=0)
        ones = self.op("ConstantOfShape", [square], value=helper.make_tensor(
            "one", TensorProto.FLOAT, [1], [1.0]))
        lower = self.op("Trilu", [ones], upper=0)
        visible = self.op("Equal", [lower, self.const(1.0, np.float32)])
        mask = self.op("Where", [visible, self.const(0.0, np.float32),
                                 self.const(-np.inf, np.float32)])

        embed = self.weight([c["vocab"], h], "model.embed_tokens.weight", -1)
        x = self.op("Gather", [embed, "input_ids"], "node_embedding", axis=0)
        qd, kvd = c["heads"] * d, c["kv_heads"] * d
        for layer in range(c["layers"]):
            prefix = f"model.layers.{layer}."
            m = 10 * layer
            n = self.rms_norm(x, prefix + "input_layernorm.weight", m + 8)
            q = self.heads(self.linear(n, qd, h, m + 1, c["qkv_bias"]),
                           c["heads"])
            k = self.heads(self.linear(n, kvd, h, m + 2, c["qkv_bias"]),
                           c["kv_heads"])
            v = self.heads(self.linear(n, kvd, h, m + 3, c["qkv_bias"]),
                           c["kv_heads"])
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            k, v = self.repeat_kv(k, seq), self.repeat_kv(v, seq)
            scores = self.op("MatMul", [q, self.op("Transpose", [k],
                                                   perm=[0, 1, 3, 2])])
            if c["scale"] == "div":
                scores = self.op("Div", [scores, self.const(
                    np.sqrt(d), np.float32)])
            else:
                scores = self.op("Mul", [scores, self.const(
                    1 / np.sqrt(d), np.float32)])
            probs = self.op("Softmax", [self.op("Add", [scores, mask])],
                            axis=-1)
            merged = self.op("Reshape", [self.op("Transpose", [
                self.op("MatMul", [probs, v])], perm=[0, 2, 1, 3]),
                self.const([1, -1, qd])])
            x = self.op("Add", [x, self.linear(merged, h, qd, m + 4)])
            n = self.rms_norm(x, prefix + "post_attention_layernorm.weight",
                              m + 9)
            gate = self.linear(n, c["intermediate"], h, m + 5)
            silu = self.op("Mul", [gate, self.op("Sigmoid", [gate])])
            up = self.linear(n, c["intermediate"], h, m + 6)
            x = self.op("Add", [x, self.linear(self.op("Mul", [silu, up]), h,
                                               c["intermediate"], m + 7)])
        n = self.rms_norm(x, "model.norm.weight", -3)
        if c["tied"]:
            head = self.op("Transpose", [embed], perm=[1, 0])
        else:
            head = self.weight([c["vocab"], h], marker=-2, transpose=True)
        self.nodes.append(helper.make_node("MatMul", [n, head], ["logits"],
                                           name="node_lm_head"))
        return model_of(self.nodes, [ids_input()], [logits_output(c["vocab"])],
                        self.inits, c["opset"])


TIED = dict(vocab=32, hidden=16, heads=2, kv_heads=2, head_dim=8,
            intermediate=24, layers=2, eps=1e-6, theta=500000.0,
            norm="div", weights="transpose", qkv_bias=False, scale="div",
            tied=True, opset=18)
QWEN2 = dict(vocab=32, hidden=16, heads=4, kv_heads=2, head_dim=4,
             intermediate=24, layers=2, eps=1e-6, theta=1000000.0,
             norm="pow", weights="in_out", qkv_bias=True, scale="mul",
             tied=False, opset=17)


def write_typed_fields():
    floats = helper.make_tensor("floats", TensorProto.FLOAT, [2, 2],
                                [1.0, -2.0, 3.5, 0.25])
    ints = helper.make_tensor("ints", TensorProto.INT64, [3], [7, -8, 9])
    halves = TensorProto()
    halves.name, halves.data_type = "halves", TensorProto.FLOAT16
    halves.dims.extend([2])
    halves.int32_data.extend(
        int(v) for v in np.array([1.5, -0.5], np.float16).view(np.uint16))
    node = helper.make_node("Gather", ["floats", "input_ids"], ["logits"],
                            name="embedding", axis=0)
    save(model_of([node], [ids_input()], [logits_output(2)],
                  [floats, ints, halves]), "typed-fields.onnx")


def write_decoders():
    save(DecoderBuilder(TIED, 1).build(), "tiny-llama-tied/model.onnx")
    external_dir = os.path.join(OUT, "tiny-llama-external")
    os.makedirs(external_dir, exist_ok=True)
    # onnx appends to an existing data file; start from an empty one.
    weights = os.path.join(external_dir, "weights.bin")
    if os.path.exists(weights):
        os.remove(weights)
    onnx.save_model(DecoderBuilder(TIED, 1).build(),
                    os.path.join(external_dir, "model.onnx"),
                    save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    save(DecoderBuilder(QWEN2, 2).build(), "tiny-qwen2/model.onnx")
    config = {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "vocab_size": QWEN2["vocab"], "hidden_size": QWEN2["hidden"],
        "intermediate_size": QWEN2["intermediate"],
        "num_hidden_layers": QWEN2["layers"],
        "num_attention_heads": QWEN2["heads"],
        "num_key_value_heads": QWEN2["kv_heads"],
        "max_position_embeddings": 128, "rms_norm_eps": QWEN2["eps"],
        "rope_theta": QWEN2["theta"], "hidden_act": "silu",
        "tie_word_embeddings": False, "use_sliding_window": False,
        "bos_token_id": 3, "eos_token_id": [4, 5],
    }
    with open(os.path.join(OUT, "tiny-qwen2", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_bad_inputs()
    write_typed_fields()
    write_decoders()
