#!/usr/bin/env python3
"""Decode-linear benchmark: qtc's generated GEMV kernels against PyTorch peers.

Batch-1 decode shapes of Llama-2-7B (N x K = out x in features), weights cold
in L2 (every implementation rotates over copies whose total exceeds 4x the L2
size), random data, CUDA-event timing, medians. Reported against the measured
device-to-device copy bandwidth (bytes read + bytes written):

  - qtc fp16, W4A16 (int4, group 128, symmetric) and W8A16 (int8 with
    group-128 or per-row f16 scales; fp8 e4m3 with per-row f32 scales)
    kernels, timed by gemv-bench (test/gpu) from PTX written by
    qtc-kernelgen --out-dir (every manifest entry of a Linear kind becomes a
    row: the default schedule and the best of the sweep, each with its
    fraction of the copy bandwidth);
  - cuBLAS fp16 through torch.nn.functional.linear;
  - PyTorch's int4 kernel, torch.ops.aten._weight_int4pack_mm (bf16 activations,
    group 128) on weights packed by _convert_weight_to_int4pack.

Runs on the GPU machine; see bench/README.md. Writes <out>/decode_linear.json
and <out>/decode_linear.md.
"""
import argparse
import json
import math
import os
import subprocess
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # --render needs no torch
    torch = None

SHAPES = [(12288, 4096), (4096, 4096), (22016, 4096), (4096, 11008)]
GROUP = 128
REPS = 30


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def time_rotating(fn, copies):
    """Median microseconds per call of fn(i) over i in 0..copies-1: timed as
    stream launches between two events, and as replays of a CUDA graph of the
    same calls (what a captured decode step sees, without host launch cost).
    Returns (graph_us or None, stream_us)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            for i in range(copies):
                fn(i)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)

    def timed(run):
        per_call = []
        for rep in range(REPS + 2):
            start.record()
            run()
            stop.record()
            stop.synchronize()
            if rep >= 2:
                per_call.append(start.elapsed_time(stop) * 1e3 / copies)
        return median(per_call)

    stream_us = timed(lambda: [fn(i) for i in range(copies)])
    graph_us = None
    try:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            for i in range(copies):
                fn(i)
        graph_us = timed(graph.replay)
    except Exception as e:  # not capturable: report stream timing only
        print("graph capture failed: %s" % str(e).splitlines()[0])
    return graph_us, stream_us


def copy_bandwidth_gbps():
    n = 1 << 30
    a = torch.randint(0, 255, (n,), dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    _, us = time_rotating(lambda i: b.copy_(a), 1)
    del a, b
    return 2 * n / (us * 1e-6) / 1e9


def result_row(impl, n, k, graph_us, stream_us, nbytes):
    us = graph_us if graph_us is not None else stream_us
    return {"impl": impl, "n": n, "k": k, "us": us, "us_stream": stream_us,
            "timing": "graph" if graph_us is not None else "stream", "bytes": nbytes,
            "gbps": nbytes / (us * 1e-6) / 1e9}


def copies_for(bytes_per_copy, l2):
    return max(2, math.ceil(4 * l2 / bytes_per_copy))


def bench_torch_fp16(n, k, l2, tokens=1):
    """cuBLAS fp16 on `tokens` rows (prefill_linear.py times 512)."""
    copies = copies_for(n * k * 2, l2)
    ws = [torch.randn(n, k, dtype=torch.float16, device="cuda") * 0.02 for _ in range(copies)]
    x = torch.randn(tokens, k, dtype=torch.float16, device="cuda")
    graph_us, stream_us = time_rotating(lambda i: F.linear(x, ws[i]), copies)
    return result_row("torch fp16 (cuBLAS)", n, k, graph_us, stream_us,
                      n * k * 2 + tokens * (k * 2 + n * 2))


def pack_int4_for_torch(n, k):
    q = torch.randint(0, 16, (n, k), dtype=torch.int32, device="cuda")
    # PyTorch >= 2.5 takes uint8 [n, k/2] (high nibble first); older releases
    # took int32 [n, k]. The values are random, so the nibble order is moot.
    try:
        packed = ((q[:, ::2] << 4) | q[:, 1::2]).to(torch.uint8)
        return torch.ops.aten._convert_weight_to_int4pack(packed, 8)
    except RuntimeError:
        return torch.ops.aten._convert_weight_to_int4pack(q, 8)


def bench_torch_int4(n, k, l2, tokens=1):
    weight_bytes = n * k // 2 + (k // GROUP) * n * 2 * 2
    copies = copies_for(weight_bytes, l2)
    ws = [pack_int4_for_torch(n, k) for _ in range(copies)]
    szs = [(torch.rand(k // GROUP, n, 2, device="cuda") * 0.01).to(torch.bfloat16)
           for _ in range(copies)]
    x = torch.randn(tokens, k, dtype=torch.bfloat16, device="cuda")
    graph_us, stream_us = time_rotating(
        lambda i: torch.ops.aten._weight_int4pack_mm(x, ws[i], GROUP, szs[i]), copies)
    return result_row("torch int4 (_weight_int4pack_mm)", n, k, graph_us, stream_us,
                      weight_bytes + tokens * (k * 2 + n * 2))


def run_qtc(bench_binary, ptx_dir, out_dir, plain_launch=False, only=None):
    json_path = os.path.join(out_dir, "qtc_gemv%s.json" % ("_plain" if plain_launch else ""))
    cmd = [bench_binary, ptx_dir, "--json", json_path] + (["--plain-launch"] if plain_launch else [])
    if only:
        cmd += ["--only", ",".join(only)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if not os.path.exists(json_path):
        raise RuntimeError("gemv-bench wrote no results (exit %d)" % proc.returncode)
    with open(json_path) as f:
        return json.load(f)


LAUNCH_NOTE = (" qtc's GEMVs are launched as the runtime launches them, with programmatic "
               "stream serialization where their kernel waits for its predecessor (each call "
               "may start while the previous call finishes); the 'plain launch' rows are the "
               "same kernels without it. The PyTorch peers launch as PyTorch does.")


def render_markdown(result):
    lines = ["# Decode linear (batch 1) on %s" % result["device"], ""]
    if result.get("provenance"):
        lines += [result["provenance"], ""]
    lines += [
             "Copy bandwidth (device-to-device, read + write): %.0f GB/s (torch), %.0f GB/s "
             "(driver memcpy); fractions are of the higher. Weights cold in L2 (rotating "
             "copies > 4x L2), random data, one token. Times are medians of %d replays of a "
             "CUDA graph of the rotating calls, per call; 'stream us' is the same calls "
             "launched one by one (includes host launch cost).%s" %
             (result["copy_gbps_torch"], result["copy_gbps_driver"], REPS,
              LAUNCH_NOTE if any("launch)" in r["impl"] for r in result["rows"]) else ""),
             "",
             "| N x K | implementation | us | stream us | GB/s | fraction of copy |",
             "|---|---|---:|---:|---:|---:|"]
    for r in sorted(result["rows"], key=lambda r: (SHAPES.index((r["n"], r["k"])), r["impl"])):
        if "error" in r:
            lines.append("| %dx%d | %s | error: %s | | | |" % (r["n"], r["k"], r["impl"], r["error"]))
        else:
            lines.append("| %dx%d | %s | %.1f%s | %.1f | %.0f | %.3f |" % (
                r["n"], r["k"], r["impl"], r["us"], "" if r["timing"] == "graph" else " (stream)",
                r["us_stream"], r["gbps"], r["fraction_of_copy"]))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gemv-bench", help="path of the gemv-bench binary")
    parser.add_argument("--ptx-dir", help="qtc-kernelgen --out-dir folder")
    parser.add_argument("--out-dir")
    parser.add_argument("--provenance", help="a line saying when and from which commit "
                        "the kernels came (stored in the results and shown in the table)")
    parser.add_argument("--render", metavar="JSON",
                        help="only print the markdown table of an earlier run's results")
    args = parser.parse_args()
    if args.render:
        with open(args.render) as f:
            sys.stdout.write(render_markdown(json.load(f)))
        return
    if not (args.gemv_bench and args.ptx_dir and args.out_dir):
        parser.error("--gemv-bench, --ptx-dir and --out-dir are required to run")
    if torch is None:
        parser.error("running the benchmark needs PyTorch with CUDA")
    os.makedirs(args.out_dir, exist_ok=True)

    props = torch.cuda.get_device_properties(0)
    l2 = props.L2_cache_size
    copy_gbps = copy_bandwidth_gbps()
    print("%s: L2 %d MB, copy bandwidth %.0f GB/s (torch)" % (props.name, l2 >> 20, copy_gbps))

    rows = []
    for n, k in SHAPES:
        for fn in (bench_torch_fp16, bench_torch_int4):
            try:
                r = fn(n, k, l2)
            except Exception as e:  # a peer that does not run here is reported, not fatal
                r = {"impl": fn.__name__, "n": n, "k": k, "error": str(e).splitlines()[0]}
            rows.append(r)
            torch.cuda.empty_cache()

    qtc = run_qtc(args.gemv_bench, args.ptx_dir, args.out_dir)
    # Per shape and format: the default kernel (no tuning suffix) and the best
    # variant measured.
    by_shape = {}
    for kern in qtc["kernels"]:
        key = (kern["n"], kern["k"], kern["format"])
        parts = kern["entry"].split("_")
        tuned = any(p[:1] in ("w", "u") and p[1:].isdigit() for p in parts)
        entry = by_shape.setdefault(key, {"default": None, "best": None})
        if not tuned:
            entry["default"] = kern
        if entry["best"] is None or kern["us"] < entry["best"]["us"]:
            entry["best"] = kern
    # The defaults launched plainly: what programmatic launch (each call
    # requesting its weights while the previous call finishes) contributes.
    programmatic_defaults = [e["default"]["entry"] for e in by_shape.values()
                             if e["default"] is not None and e["default"].get("programmatic")]
    plain = {}
    if programmatic_defaults:
        plain = {k["entry"]: k for k in run_qtc(args.gemv_bench, args.ptx_dir, args.out_dir,
                                                plain_launch=True,
                                                only=programmatic_defaults)["kernels"]}
    for (n, k, fmt), e in sorted(by_shape.items()):
        rows_of_shape = [(which, e[which]) for which in ("default", "best")]
        if e["default"] is not None and e["default"].get("programmatic"):
            rows_of_shape.append(("default, plain launch", plain[e["default"]["entry"]]))
        for which, kern in rows_of_shape:
            if kern is None:
                continue
            launch = "programmatic" if kern.get("programmatic") else "plain"
            rows.append({"impl": "qtc %s (%s: %s, %s launch)" % (fmt, which, kern["entry"], launch),
                         "n": n, "k": k, "us": kern["us"], "us_stream": kern["us_stream"],
                         "timing": "graph", "bytes": kern["bytes"], "gbps": kern["gbps"]})

    # The higher of the two copy measurements is the reference: fractions
    # are never flattered by a slow copy.
    copy_ref = max(copy_gbps, qtc["copy_gbps"])
    for r in rows:
        if "gbps" in r:
            r["fraction_of_copy"] = r["gbps"] / copy_ref
    result = {"device": props.name, "provenance": args.provenance, "l2_bytes": l2, "copy_gbps_torch": copy_gbps,
              "copy_gbps_driver": qtc["copy_gbps"], "rows": rows, "qtc_kernels": qtc["kernels"]}
    with open(os.path.join(args.out_dir, "decode_linear.json"), "w") as f:
        json.dump(result, f, indent=1)

    table = render_markdown(result)
    with open(os.path.join(args.out_dir, "decode_linear.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
