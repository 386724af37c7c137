#!/usr/bin/env python3
"""Prefill-linear benchmark: qtc's generated GEMM kernels against PyTorch peers.

Llama-2-7B linear shapes (N x K = out x in features) at T prompt tokens
(default 512), weights cold in L2 as in decode_linear.py, random data,
CUDA-event medians. Reported in TFLOP/s (2 N K T per call) and as a fraction
of cuBLAS fp16 measured in the same run:

  - qtc fp16 and W4A16 (int4, group 128, symmetric) GEMMs, timed by
    gemv-bench --tokens T (test/gpu) from PTX written by qtc-kernelgen;
    the same folder's decode GEMVs run over all T rows are listed too;
  - cuBLAS fp16 through torch.nn.functional.linear;
  - PyTorch's int4 kernel, torch.ops.aten._weight_int4pack_mm (bf16
    activations, group 128);
  - the W8A8 and FP8 peers of qtc's int8 x int8 GEMM: torch._int_mm (int8
    x int8 -> int32, cuBLASLt) followed by the per-token x per-row scaling
    the W8A8 kernel fuses, and torch._scaled_mm with e4m3 operands and
    row-wise scales (cuBLASLt FP8), the reference FP8 GEMM.

  prefill_linear.py --gemv-bench BIN --ptx-dir DIR --out-dir OUT [--tokens T]
                    [--provenance TEXT]
  prefill_linear.py --render OUT/prefill_linear.json
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decode_linear as dl  # noqa: E402  (shared timing helpers)

torch = dl.torch


def tflops(n, k, tokens, us):
    return 2.0 * n * k * tokens / (us * 1e-6) / 1e12


def bench_torch_int8(n, k, l2, tokens):
    """torch._int_mm (cuBLASLt int8 -> int32) plus the dequantizing epilogue
    qtc fuses: out = f16(acc * s_x[t] * s_w[n])."""
    copies = dl.copies_for(n * k + n * 2, l2)
    ws = [torch.randint(-127, 128, (k, n), dtype=torch.int8, device="cuda").t().contiguous().t()
          for _ in range(copies)]
    sw = [torch.rand(1, n, device="cuda") * 0.01 for _ in range(copies)]
    x = torch.randint(-127, 128, (tokens, k), dtype=torch.int8, device="cuda")
    sx = torch.rand(tokens, 1, device="cuda") * 0.01

    def run(i):
        return (torch._int_mm(x, ws[i]).float() * sx * sw[i]).half()
    graph_us, stream_us = dl.time_rotating(run, copies)
    return dl.result_row("torch int8 (_int_mm + scales)", n, k, graph_us, stream_us,
                         n * k + tokens * (k + n * 2))


def bench_torch_fp8(n, k, l2, tokens):
    """torch._scaled_mm, e4m3 x e4m3 with per-token and per-row f32 scales."""
    copies = dl.copies_for(n * k + n * 4, l2)
    ws = [(torch.randn(n, k, device="cuda") * 0.5).to(torch.float8_e4m3fn) for _ in range(copies)]
    sw = [torch.rand(1, n, device="cuda") * 0.01 + 1e-3 for _ in range(copies)]
    x = (torch.randn(tokens, k, device="cuda")).to(torch.float8_e4m3fn)
    sx = torch.rand(tokens, 1, device="cuda") * 0.01 + 1e-3

    def run(i):
        return torch._scaled_mm(x, ws[i].t(), scale_a=sx, scale_b=sw[i],
                                out_dtype=torch.float16)
    graph_us, stream_us = dl.time_rotating(run, copies)
    return dl.result_row("torch fp8 (_scaled_mm, row-wise)", n, k, graph_us, stream_us,
                         n * k + tokens * (k + n * 2))


def schedule(entry):
    """The Linear schedule an entry name says (KernelGenerator.cpp's names)."""
    if "_wgmma_" in entry:
        return "wgmma GEMM"
    if "_gemm_" in entry:
        return "GEMM"
    return "GEMV over all rows"


def render(result):
    lines = ["# Prefill linear (%d tokens) on %s" % (result["tokens"], result["device"]), ""]
    if result.get("provenance"):
        lines += [result["provenance"], ""]
    lines += ["Weights cold in L2 (rotating copies > 4x L2), random data, medians of 30 timed "
              "batches (CUDA graphs where capturable). TFLOP/s count 2 N K T per call; "
              "'of cuBLAS' is the fraction of cuBLAS fp16's TFLOP/s on the same shape in "
              "the same run.", "",
              "| N x K | implementation | us | TFLOP/s | of cuBLAS fp16 |",
              "|---|---|---:|---:|---:|"]
    for row in result["rows"]:
        if "error" in row:
            lines.append("| %dx%d | %s | error: %s | | |" % (row["n"], row["k"], row["impl"],
                                                           row["error"]))
            continue
        lines.append("| %dx%d | %s | %.1f | %.1f | %.2f |" % (
            row["n"], row["k"], row["impl"], row["us"], row["tflops"], row["of_cublas"]))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gemv-bench")
    parser.add_argument("--ptx-dir")
    parser.add_argument("--out-dir")
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--provenance")
    parser.add_argument("--render", metavar="JSON")
    args = parser.parse_args()
    if args.render:
        with open(args.render) as f:
            sys.stdout.write(render(json.load(f)))
        return
    if not (args.gemv_bench and args.ptx_dir and args.out_dir):
        parser.error("--gemv-bench, --ptx-dir and --out-dir are required to run")
    os.makedirs(args.out_dir, exist_ok=True)
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    qtc_json = os.path.join(args.out_dir, "prefill_qtc.json")
    proc = subprocess.run([args.gemv_bench, args.ptx_dir, "--tokens", str(args.tokens),
                           "--json", qtc_json], capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    with open(qtc_json) as f:
        qtc = json.load(f)["kernels"]
    rows = []
    for n, k in dl.SHAPES:
        cublas_us = dl.bench_torch_fp16(n, k, l2, args.tokens)["us"]
        peers = [("torch fp16 (cuBLAS)", cublas_us)]
        try:
            peers.append(("torch int4 (_weight_int4pack_mm)",
                          dl.bench_torch_int4(n, k, l2, args.tokens)["us"]))
        except Exception as e:  # a peer that does not run here is reported, not fatal
            rows.append({"impl": "torch int4 (_weight_int4pack_mm)", "n": n, "k": k,
                         "error": str(e).splitlines()[0]})
        for name, bench in (("torch int8 (_int_mm + scales)", bench_torch_int8),
                            ("torch fp8 (_scaled_mm, row-wise)", bench_torch_fp8)):
            try:
                peers.append((name, bench(n, k, l2, args.tokens)["us"]))
            except Exception as e:  # reported, not fatal
                rows.append({"impl": name, "n": n, "k": k, "error": str(e).splitlines()[0]})
            torch.cuda.empty_cache()
        torch.cuda.empty_cache()
        ours = [("qtc %s %s (%s)" % (kern["format"], schedule(kern["entry"]), kern["entry"]),
                 kern["us"])
                for kern in qtc if kern["n"] == n and kern["k"] == k]
        cublas = tflops(n, k, args.tokens, cublas_us)
        for impl, us in ours + peers:
            t = tflops(n, k, args.tokens, us)
            rows.append({"impl": impl, "n": n, "k": k, "us": us, "tflops": t,
                         "of_cublas": t / cublas})
    result = {"device": torch.cuda.get_device_name(0), "tokens": args.tokens,
              "provenance": args.provenance, "rows": rows}
    with open(os.path.join(args.out_dir, "prefill_linear.json"), "w") as f:
        json.dump(result, f, indent=1)
    text = render(result)
    with open(os.path.join(args.out_dir, "prefill_linear.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
