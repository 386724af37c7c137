#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, over a folder made by
# prepare-carry.sh: the kernel checks, the CUDA backend against the host
# backend on the carried artifacts (logits: backend-check; seeded sampled
# requests: sampling-check), then the decode-linear benchmark.
# Logs and results go to $OUT (or ./gpu-out). Prints a short summary last.
set -uo pipefail
carry=${1:-.gpu-carry}
out=${OUT:-gpu-out}
mkdir -p "$out"
export QTC_CACHE_DIR=${QTC_CACHE_DIR:-/tmp/qtc-cache}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu \
  --format=csv > "$out/kernel-check.log" 2>&1

"$carry/bin/kernel-check" "$carry/ptx-check" >> "$out/kernel-check.log" 2>&1
check_rc=$?
backend_rc=0
: > "$out/backend-check.log"
# The artifacts prepare-carry.sh compiled, else those of scripts/gpu-prepare.
artifacts=("$carry"/artifacts/*.qtc)
[[ -f ${artifacts[0]} ]] || artifacts=("$carry"/e2e/kjv-fp16.qtc "$carry"/e2e/kjv-w4a16.qtc \
                                        "$carry"/e2e/kjv-kvfp8.qtc)
for artifact in "${artifacts[@]}"; do
  [[ -f $artifact ]] || continue
  echo "== $artifact" >> "$out/backend-check.log"
  "$carry/bin/backend-check" "$artifact" >> "$out/backend-check.log" 2>&1 || backend_rc=1
  # The same with the SASS cache warm and per-kernel timing.
  QTC_CUDA_PROFILE=1 "$carry/bin/backend-check" "$artifact" --decode-steps 64 \
    >> "$out/backend-check.log" 2>&1 || backend_rc=1
done
# Seeded sampled requests on the CUDA engine against the host engine.
sampling_rc=0
: > "$out/sampling-check.log"
for artifact in "${artifacts[@]}"; do
  [[ -f $artifact ]] || continue
  echo "== $artifact" >> "$out/sampling-check.log"
  "$carry/bin/sampling-check" "$artifact" >> "$out/sampling-check.log" 2>&1 || sampling_rc=1
done
# The commit prepare-carry.sh built the binaries and PTX from.
provenance="Measured $(date -u +%F) from commit $(cat "$carry/bin/commit" 2>/dev/null || echo unknown)."
PYTHONUNBUFFERED=1 python3 bench/decode_linear.py --gemv-bench "$carry/bin/gemv-bench" \
  --ptx-dir "$carry/ptx-bench" --out-dir "$out" --provenance "$provenance" > "$out/bench.log" 2>&1
bench_rc=$?
PYTHONUNBUFFERED=1 python3 bench/prefill_linear.py --gemv-bench "$carry/bin/gemv-bench" \
  --ptx-dir "$carry/ptx-prefill" --out-dir "$out" --provenance "$provenance" \
  > "$out/prefill.log" 2>&1
prefill_rc=$?
variants_rc=0
for run in 1 2; do
  "$carry/bin/gemv-bench" "$carry/ptx-var" --json "$out/int4_variants_$run.json" \
    > "$out/int4_variants_$run.log" 2>&1 || variants_rc=1
done
python3 bench/int4_gemv_variants.py --provenance "$provenance" "$out"/int4_variants_[12].json \
  > "$out/int4_gemv_variants.md" \
  || variants_rc=1

echo "== kernel-check (exit $check_rc)"
grep -E "^(FAIL|ERROR)" "$out/kernel-check.log" | head -40
tail -1 "$out/kernel-check.log"
echo "== backend-check (exit $backend_rc)"
grep -E "^(FAIL|==|cuda decode|backend-check|ok   prefill|ok   fork)" "$out/backend-check.log" | head -40
echo "== sampling-check (exit $sampling_rc)"
grep -E "^(FAIL|==|ok|sampling-check|  FAIL)" "$out/sampling-check.log" | head -40
echo "== prefill linear, 512 tokens (exit $prefill_rc)"
if [[ -f "$out/prefill_linear.md" ]]; then cat "$out/prefill_linear.md"; else tail -20 "$out/prefill.log"; fi
echo "== int4 variants (exit $variants_rc): $out/int4_gemv_variants.md"
echo "== decode_linear (exit $bench_rc)"
if [[ -f "$out/decode_linear.md" ]]; then cat "$out/decode_linear.md"; else tail -20 "$out/bench.log"; fi
# Non-zero when any check or benchmark failed, so a caller sees it.
for rc in $check_rc $backend_rc $sampling_rc $bench_rc $prefill_rc $variants_rc; do
  [[ $rc == 0 ]] || exit 1
done
