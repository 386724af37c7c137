#!/usr/bin/env python3
"""Writes damaged copies of a Hugging Face checkpoint folder for bad-input tests.

  corrupt_checkpoint.py SRC_DIR OUT_DIR

OUT_DIR/badsize   safetensors header: one tensor's byte range shorter than its shape
OUT_DIR/noconfig  config.json without num_attention_heads
OUT_DIR/nanweight model.safetensors with a NaN in model.layers.0.mlp.up_proj.weight
"""
import json
import os
import shutil
import struct
import sys


def read_safetensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), bytearray(data[8 + n:])


def write_safetensors(path, header, payload):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + payload)


def copy(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(src, name), os.path.join(dst, name))
        os.chmod(os.path.join(dst, name), 0o644)


def main():
    src, out = sys.argv[1], sys.argv[2]
    header, payload = read_safetensors(os.path.join(src, "model.safetensors"))

    d = os.path.join(out, "badsize")
    copy(src, d)
    h = json.loads(json.dumps(header))
    begin, end = h["model.norm.weight"]["data_offsets"]
    h["model.norm.weight"]["data_offsets"] = [begin, end - 2]
    write_safetensors(os.path.join(d, "model.safetensors"), h, payload)

    d = os.path.join(out, "noconfig")
    copy(src, d)
    cfg = json.load(open(os.path.join(d, "config.json")))
    del cfg["num_attention_heads"]
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"))

    d = os.path.join(out, "nanweight")
    copy(src, d)
    p = bytearray(payload)
    begin, _ = header["model.layers.0.mlp.up_proj.weight"]["data_offsets"]
    p[begin + 2 * 7:begin + 2 * 8] = struct.pack("<H", 0x7E00)  # f16 NaN, element 7
    write_safetensors(os.path.join(d, "model.safetensors"), header, p)


if __name__ == "__main__":
    main()
