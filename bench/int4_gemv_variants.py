#!/usr/bin/env python3
"""Int4 decode GEMV variants: schedule x dequantization x launch, one grid.

Renders the results of `gemv-bench` over the kernels that
test/gpu/prepare-carry.sh writes to <carry>/ptx-var: for each Llama-2-7B
shape, warps per tile (w) and K steps per iteration (u), crossed with where
the group scale is applied (d1: to the f16 operands before the mma, d2: to
the mma's f32 tile) and when the kernel waits for the kernel before it
(p0: plain launch, p1: programmatic launch waiting at the start, p2: waiting
after requesting the first weights); rows marked rN cap ptxas at N registers
per thread (.maxnreg), 128 keeping two 256-thread blocks on an SM. Each cell is microseconds per call
(mean of the runs given, each a median of 30 CUDA-graph replays, weights
cold in L2) and the registers ptxas allocated. The tuning table in
lib/Codegen/LinearGemvGenerator.cpp takes its int4 entries from this grid.

  int4_gemv_variants.py [--provenance TEXT] RUN.json [RUN.json ...] > grid.md

--provenance adds a line saying when and from which commit the runs came.
"""
import json
import re
import sys

PATTERN = re.compile(r"n(\d+)_k(\d+)_w(\d+)_u(\d+)_d(\d)_p(\d)(?:_r(\d+))?_")


def main():
    args = sys.argv[1:]
    provenance = None
    if args[:1] == ["--provenance"] and len(args) > 1:
        provenance, args = args[1], args[2:]
    if not args:
        sys.exit(__doc__)
    runs = [json.load(open(path)) for path in args]
    cells = {}
    for run in runs:
        for kern in run["kernels"]:
            m = PATTERN.search(kern["entry"])
            if not m:
                continue
            n, k, w, u, d, p, r = (int(g) if g else 0 for g in m.groups())
            cell = cells.setdefault((n, k), {}).setdefault((w, u, r, d, p), {"us": [], "regs": 0})
            cell["us"].append(kern["us"])
            cell["regs"] = kern.get("registers", 0)
            cell["bytes"] = kern["bytes"]
    variants = [(d, p) for d in (1, 2) for p in (0, 1, 2)]
    print("# Int4 g128 decode GEMV variants on %s" % runs[0]["device"])
    print()
    if provenance:
        print(provenance)
        print()
    copy = sum(run["copy_gbps"] for run in runs) / len(runs)
    print("us per call (mean of %d runs) / registers; bold: fastest of the shape. Copy "
          "bandwidth (driver memcpy, read + write) in the same runs: %s GB/s." %
          (len(runs), " / ".join("%.0f" % run["copy_gbps"] for run in runs)))
    for (n, k), byvariant in sorted(cells.items()):
        mean = {key: sum(c["us"]) / len(c["us"]) for key, c in byvariant.items()}
        best = min(mean, key=mean.get)
        print()
        print("## %d x %d" % (n, k))
        print()
        print("| schedule | " + " | ".join("d%d p%d" % v for v in variants) + " |")
        print("|---|" + "---:|" * len(variants))
        for w, u, r in sorted({(w, u, r) for w, u, r, _, _ in byvariant}):
            row = []
            for d, p in variants:
                key = (w, u, r, d, p)
                if key not in byvariant:
                    row.append("")
                    continue
                text = "%.2f / %d" % (mean[key], byvariant[key]["regs"])
                row.append("**%s**" % text if key == best else text)
            print("| w%d u%d%s | %s |" % (w, u, " r%d" % r if r else "", " | ".join(row)))
        w, u, r, d, p = best
        gbps = byvariant[best]["bytes"] / (mean[best] * 1e-6) / 1e9
        print()
        print("Fastest: w%d u%d%s d%d p%d, %.2f us, %.0f GB/s = %.3f of copy." %
              (w, u, " r%d" % r if r else "", d, p, mean[best], gbps, gbps / copy))


if __name__ == "__main__":
    main()
