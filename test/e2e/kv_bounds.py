#!/usr/bin/env python3
"""Issue 14's accuracy bounds for the quantized KV caches, from qtc-run --ppl
--json results named NAME=FILE: each line 'ok' or 'FAIL' with the figures."""
import json
import sys

ppl = {}
for arg in sys.argv[1:]:
    name, path = arg.split("=", 1)
    ppl[name] = json.load(open(path))["ppl"]
base = ppl["fp16"]


def rel(name):
    return ppl[name] / base - 1


checks = [
    ("int8 <= +0.1%", rel("int8") <= 0.001),
    ("int4 per-channel keys <= +2%", rel("int4") <= 0.02),
    ("int4 per-channel keys better than per-token keys", ppl["int4"] < ppl["int4-token-keys"]),
    ("int2 window 32 <= +10%", rel("int2") <= 0.10),
    ("int2 window 32 better than no window", ppl["int2"] < ppl["int2-no-window"]),
    ("calibrated fp8 no worse than scale 1", ppl["fp8-calibrated"] <= ppl["fp8"]),
]
for what, ok in checks:
    print("ok  " if ok else "FAIL", what)
for name in ppl:
    print("     %s ppl %.4f (%+.3f%%)" % (name, ppl[name], 100 * rel(name)))
