#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, over a folder made by
# prepare-carry.sh: the kernel checks, then the decode-linear benchmark.
# Logs and results go to $OUT (or ./gpu-out). Prints a short summary last.
set -uo pipefail
carry=${1:-.gpu-carry}
out=${OUT:-gpu-out}
mkdir -p "$out"
export QTC_CACHE_DIR=${QTC_CACHE_DIR:-/tmp/qtc-cache}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu \
  --format=csv > "$out/nvidia-smi.csv" 2>&1

"$carry/bin/kernel-check" "$carry/ptx-check" > "$out/kernel-check.log" 2>&1
check_rc=$?
PYTHONUNBUFFERED=1 python3 bench/decode_linear.py --gemv-bench "$carry/bin/gemv-bench" \
  --ptx-dir "$carry/ptx-bench" --out-dir "$out" > "$out/bench.log" 2>&1
bench_rc=$?

echo "== kernel-check (exit $check_rc)"
grep -E "^(FAIL|ERROR)" "$out/kernel-check.log" | head -40
tail -1 "$out/kernel-check.log"
echo "== decode_linear (exit $bench_rc)"
if [[ -f "$out/decode_linear.md" ]]; then cat "$out/decode_linear.md"; else tail -20 "$out/bench.log"; fi
