#!/usr/bin/env bash
# Builds what a GPU-machine run needs into one folder (default .gpu-carry,
# ignored by git): the generated PTX of the kernel checks and of the
# decode-linear benchmark, each with its manifest, the check and bench
# binaries, and (when QTC names the qtc compiler) artifacts of the shared
# test model for backend-check. The GPU machine has no LLVM, so all PTX is
# generated here.
#
#   [QTC=build/bin/qtc] [QTC_RECIPES="fp16 w4a16"] test/gpu/prepare-carry.sh <qtc-kernelgen>
#     <dir of kernel-check, gemv-bench, backend-check, sampling-check (build/bin)> [carry-dir]
#
# QTC_RECIPES names the recipes (presets or recipe files) of the artifacts,
# default fp16 and w4a16; the W8A16 kernels run end to end with
# QTC_RECIPES="w8a16 test/gpu/recipes/int8-g64.json test/gpu/recipes/fp8-weights.json"
# (int8 per row and per group of 64, fp8 per row), and the W8A8 kernels
# with QTC_RECIPES=w8a8 (and FP8 with QTC_RECIPES=fp8). Each artifact
# is ~9-13 MB of the carry. QTC_CARRY_ONLY=w8a8 makes a small carry: the
# binaries and the W8A8 check kernels only (no bench kernels).
set -euo pipefail
gen=$1
bins=$2
carry=${3:-.gpu-carry}
model=${QTC_TEST_MODEL:-$(dirname "$0")/../../../shared/models/kjv-llama-6m}
rm -rf "$carry/ptx-check" "$carry/ptx-bench" "$carry/ptx-prefill" "$carry/ptx-var" "$carry/artifacts"
mkdir -p "$carry/bin" "$carry/ptx-check" "$carry/ptx-bench" "$carry/ptx-prefill" "$carry/ptx-var" \
  "$carry/artifacts"
cp "$bins/kernel-check" "$bins/gemv-bench" "$bins/backend-check" "$bins/sampling-check" \
  "$carry/bin/"
# The commit everything here is built from (the GPU machine's copy of the
# repository may not know it); "+changes" when the working tree differs.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+changes"
echo "$commit" > "$carry/bin/commit"
if [[ -n ${QTC:-} ]]; then
  for recipe in ${QTC_RECIPES:-fp16 w4a16}; do
    "$QTC" compile "$model" -o "$carry/artifacts/kjv-$(basename "$recipe" .json).qtc" \
      --recipe "$recipe" --target sm_90 --quiet
  done
fi

check() { "$gen" --out-dir "$carry/ptx-check" "$@"; }
# W8A8: int8 weights with one f16 scale per row times int8 per-token rows
# (codes and row scales, as their producer writes them; kernel-check
# replicates the arithmetic bit for bit).
# Llama-2-7B shapes (q|k|v, o, gate|up, down), odd ones (partial feature
# and token tiles, K of 13 and 65 chunks: a partial last step), bias and
# residual, decode GEMV and prefill GEMM, sm_80 PTX as well.
w8a8_checks() {
  for p in "" --prefill; do
    check $p --kind gemv-int8 --group 0 --activation int8 --n 4096 --k 4096
    check $p --kind gemv-int8 --group 0 --activation int8 --n 12288 --k 4096
    check $p --kind gemv-int8 --group 0 --activation int8 --n 22016 --k 4096
    check $p --kind gemv-int8 --group 0 --activation int8 --n 4096 --k 11008 --residual
    check $p --kind gemv-int8 --group 0 --activation int8 --n 100 --k 208 --bias --residual
    check $p --kind gemv-int8 --group 0 --activation int8 --n 72 --k 1040 --bias
    check $p --kind gemv-int8 --group 0 --activation int8 --n 256 --k 704 --residual
    check $p --kind gemv-int8 --group 0 --activation int8 --n 512 --k 256 --target sm_80
  done
  # On sm_90 the prefill cases above are the wgmma s8 GEMM; the mma.sync one too.
  check --prefill --kind gemv-int8 --group 0 --activation int8 --n 4096 --k 4096 --wgmma -1
  check --prefill --kind gemv-int8 --group 0 --activation int8 --n 100 --k 208 --bias \
    --residual --wgmma -1
  # Their producers: the quantizing RmsNorm (norm -> quantize fusion) and
  # QuantizeRows, at 7B widths and small odd ones (a partial last piece).
  for w in 4096 11008 264; do
    check --kind rms-norm --hidden $w --activation int8
    check --kind quantize-rows --hidden $w --activation int8
  done
  check --kind rms-norm --hidden 72 --activation int8 --target sm_80
  # FP8 activations: e4m3 producers (sm_89+), the wgmma e4m3 GEMM (prefill
  # on sm_90) and the mma.sync e4m3 kernel (decode; prefill on sm_89).
  for w in 4096 264; do
    check --kind rms-norm --hidden $w --activation fp8 --features +ptx81
    check --kind quantize-rows --hidden $w --activation fp8 --features +ptx81
  done
  check --kind gemv-fp8 --activation fp8 --n 4096 --k 4096 --features +ptx84
  check --kind gemv-fp8 --activation fp8 --n 12288 --k 4096 --features +ptx84
  check --kind gemv-fp8 --activation fp8 --n 4096 --k 11008 --residual --features +ptx84
  check --kind gemv-fp8 --activation fp8 --n 100 --k 208 --bias --residual --features +ptx84
  check --kind gemv-fp8 --activation fp8 --n 72 --k 1040 --bias --features +ptx84
  check --prefill --kind gemv-fp8 --activation fp8 --n 100 --k 208 --bias --residual \
    --features +ptx84 --wgmma -1
  check --prefill --kind gemv-fp8 --activation fp8 --n 4096 --k 4096 --features +ptx84 \
    --wgmma -1
  check --prefill --kind gemv-fp8 --activation fp8 --n 4096 --k 4096 --features +ptx81
  check --prefill --kind gemv-fp8 --activation fp8 --n 100 --k 208 --bias --residual \
    --features +ptx81
  check --prefill --kind gemv-fp8 --activation fp8 --n 4096 --k 11008 --residual \
    --features +ptx81
}
if [[ ${QTC_CARRY_ONLY:-} == w8a8 ]]; then
  w8a8_checks
  echo "prepared $carry: $(wc -l < "$carry/ptx-check/manifest.txt") W8A8 check kernels"
  exit 0
fi
w8a8_checks
# kjv-llama-6m shapes (hidden 256, 4 heads / 2 KV heads of 64, MLP 704,
# vocab 4096), Llama-2/3 shapes, and odd sizes for the bounds paths.
check --kind gemv-f16 --n 512 --k 256
check --kind gemv-f16 --n 256 --k 256 --residual
check --kind gemv-f16 --n 1408 --k 256
check --kind gemv-f16 --n 256 --k 704 --residual
check --kind gemv-f16 --n 4096 --k 256
check --kind gemv-f16 --n 100 --k 704 --bias --residual
check --kind gemv-f16 --n 4096 --k 4096
check --kind gemv-int4 --n 512 --k 256 --group 128
check --kind gemv-int4 --n 256 --k 704 --group 64 --asym --residual
check --kind gemv-int4 --n 100 --k 256 --group 32 --bias
check --kind gemv-int4 --n 4096 --k 4096 --group 128
check --kind gemv-int4 --n 12288 --k 4096 --group 128
check --kind gemv-int4 --n 4096 --k 11008 --group 128 --residual
# The placements the tuning table can pick beyond the defaults above: the
# scale on the f32 tile with asymmetric zeros, waiting after the first
# weights, and a register cap.
check --kind gemv-int4 --n 512 --k 256 --group 128 --asym --residual --dequant 2
check --kind gemv-int4 --n 768 --k 512 --group 128 --dequant 1 --pdl 2
check --kind gemv-int4 --n 4096 --k 11008 --group 128 --split-k 8 --unroll 8 --pdl 1 \
  --max-registers 128
# The prefill GEMM on the same kinds of shapes: f16 on sm_90 is the wgmma
# GEMM, also forced to the mma.sync one (--wgmma -1, as sm_80 runs it).
# wgmma: partial token and feature tiles, K of 26 and 130 chunks (partial
# last K tile), Llama-2-7B shapes, 3 and 5 ring stages besides the default.
check --prefill --kind gemv-f16 --n 512 --k 256
check --prefill --kind gemv-f16 --n 256 --k 704 --residual
check --prefill --kind gemv-f16 --n 100 --k 704 --bias --residual
check --prefill --kind gemv-f16 --n 100 --k 208 --bias --residual
check --prefill --kind gemv-f16 --n 72 --k 1040 --bias
check --prefill --kind gemv-f16 --n 4096 --k 4096
check --prefill --kind gemv-f16 --n 12288 --k 4096
check --prefill --kind gemv-f16 --n 4096 --k 11008 --residual
check --prefill --kind gemv-f16 --n 4096 --k 4096 --stages 3
check --prefill --kind gemv-f16 --n 4096 --k 4096 --stages 5
for wgmma_off in "--wgmma -1" "--target sm_80"; do
  check --prefill --kind gemv-f16 --n 512 --k 256 $wgmma_off
  check --prefill --kind gemv-f16 --n 100 --k 704 --bias --residual $wgmma_off
done
check --prefill --kind gemv-f16 --n 4096 --k 4096 --wgmma -1
check --prefill --kind gemv-int4 --n 512 --k 256 --group 128
check --prefill --kind gemv-int4 --n 256 --k 704 --group 64 --asym --residual
check --prefill --kind gemv-int4 --n 100 --k 256 --group 32 --bias
check --prefill --kind gemv-int4 --n 4096 --k 4096 --group 128
# The single-stage GEMM and a register-capped pipelined one.
check --prefill --kind gemv-f16 --n 256 --k 704 --residual --stages 1 --wgmma -1
check --prefill --kind gemv-int4 --n 256 --k 704 --group 64 --asym --residual --stages 1
check --prefill --kind gemv-int4 --n 512 --k 256 --group 128 --asym --max-registers 168
# W8A16: int8 codes with f16 scales per group of 128 or 64 (a GEMV step's
# f32 tile scaled), per row (--group 0: the result scaled), per group of 32
# or 16 (the f16 operands scaled) and operand scaling forced with --dequant
# 1; fp8 e4m3 with f32 row scales. Llama-2-7B decode shapes (q|k|v, o,
# gate|up, down) and odd ones (partial row tiles; K = 704 is 44 chunks, so
# the last steps are guarded), sm_80 PTX (no programmatic launch) as well.
check --kind gemv-int8 --n 512 --k 256 --group 128
check --kind gemv-int8 --n 256 --k 704 --group 64 --residual
check --kind gemv-int8 --n 100 --k 256 --group 32 --bias
check --kind gemv-int8 --n 100 --k 256 --group 16 --bias --residual
check --kind gemv-int8 --n 256 --k 704 --group 0 --residual
check --kind gemv-int8 --n 512 --k 256 --group 0 --dequant 1
check --kind gemv-int8 --n 768 --k 512 --group 128 --dequant 1 --pdl 2
check --kind gemv-int8 --n 4096 --k 4096 --group 128
check --kind gemv-int8 --n 4096 --k 4096 --group 0
check --kind gemv-int8 --n 12288 --k 4096 --group 128
check --kind gemv-int8 --n 22016 --k 4096 --group 128
check --kind gemv-int8 --n 22016 --k 4096 --group 0
check --kind gemv-int8 --n 4096 --k 11008 --group 128 --residual
check --kind gemv-int8 --n 4096 --k 11008 --group 0 --residual
check --kind gemv-int8 --n 4096 --k 4096 --group 128 --target sm_80
check --kind gemv-fp8 --n 512 --k 256
check --kind gemv-fp8 --n 256 --k 704 --residual
check --kind gemv-fp8 --n 100 --k 704 --bias --residual
check --kind gemv-fp8 --n 4096 --k 4096
check --kind gemv-fp8 --n 12288 --k 4096
check --kind gemv-fp8 --n 22016 --k 4096
check --kind gemv-fp8 --n 4096 --k 11008 --residual
check --kind gemv-fp8 --n 4096 --k 4096 --target sm_80
check --prefill --kind gemv-int8 --n 512 --k 256 --group 128
check --prefill --kind gemv-int8 --n 256 --k 704 --group 64 --residual
check --prefill --kind gemv-int8 --n 100 --k 704 --group 0 --bias --residual
check --prefill --kind gemv-int8 --n 4096 --k 4096 --group 128
check --prefill --kind gemv-int8 --n 4096 --k 4096 --group 0
check --prefill --kind gemv-int8 --n 256 --k 704 --group 0 --residual --stages 1
check --prefill --kind gemv-fp8 --n 512 --k 256
check --prefill --kind gemv-fp8 --n 100 --k 704 --bias --residual
check --prefill --kind gemv-fp8 --n 4096 --k 4096
check --prefill --kind gemv-fp8 --n 4096 --k 11008
check --prefill --kind gemv-fp8 --n 256 --k 704 --residual --stages 1
check --kind embedding --vocab 4096 --hidden 256
check --kind rms-norm --hidden 256
check --kind rms-norm --hidden 704
check --kind rms-norm --hidden 4096
check --kind add --hidden 256
check --kind swiglu --hidden 704
check --kind swiglu --hidden 11008
check --kind gather-rows --hidden 256
check --kind argmax --hidden 4096
check --kind argmax --hidden 32000
check --kind rope-kv-append --heads 4 --kv-heads 2 --head-dim 64
check --kind rope-kv-append --heads 32 --kv-heads 8 --head-dim 128 --theta 500000
check --kind attention --heads 4 --kv-heads 2 --head-dim 64
check --kind attention --heads 32 --kv-heads 8 --head-dim 128
check --kind attention --heads 32 --kv-heads 32 --head-dim 128
# The flash-style prefill attention: GQA 2 and 4, MHA, MQA (group 8).
check --prefill --kind attention --heads 4 --kv-heads 2 --head-dim 64
check --prefill --kind attention --heads 32 --kv-heads 8 --head-dim 128
check --prefill --kind attention --heads 32 --kv-heads 32 --head-dim 128
check --prefill --kind attention --heads 8 --kv-heads 1 --head-dim 64
# The same with an fp8 (e4m3) KV cache, and decode at head_dim 32 and 256
# for the 1- and 8-byte value loads per lane.
check --kind rope-kv-append --heads 4 --kv-heads 2 --head-dim 64 --kv-fp8
check --kind rope-kv-append --heads 32 --kv-heads 8 --head-dim 128 --theta 500000 --kv-fp8
check --kind attention --heads 4 --kv-heads 2 --head-dim 64 --kv-fp8
check --kind attention --heads 32 --kv-heads 8 --head-dim 128 --kv-fp8
check --kind attention --heads 32 --kv-heads 32 --head-dim 128 --kv-fp8
check --kind attention --heads 8 --kv-heads 2 --head-dim 32 --kv-fp8
check --kind attention --heads 8 --kv-heads 2 --head-dim 256 --kv-fp8
check --prefill --kind attention --heads 4 --kv-heads 2 --head-dim 64 --kv-fp8
check --prefill --kind attention --heads 32 --kv-heads 8 --head-dim 128 --kv-fp8
check --prefill --kind attention --heads 32 --kv-heads 32 --head-dim 128 --kv-fp8
check --prefill --kind attention --heads 8 --kv-heads 1 --head-dim 64 --kv-fp8
# int8 per-token KV pages (qtc/rt/KvPage.h): symmetric keys and values (the
# fp16-kvint8 preset), asymmetric ones, and mixed; decode at head_dim 32 and
# 256 (1- and 8-byte value loads per lane). Prefill rows run on the
# per-token kernel (no flash schedule reads int8 pages).
for sym in ss aa sa; do
  check --kind rope-kv-append --heads 4 --kv-heads 2 --head-dim 64 --kv-int8 $sym
  check --kind rope-kv-append --heads 32 --kv-heads 8 --head-dim 128 --theta 500000 --kv-int8 $sym
  check --kind attention --heads 4 --kv-heads 2 --head-dim 64 --kv-int8 $sym
  check --kind attention --heads 32 --kv-heads 8 --head-dim 128 --kv-int8 $sym
done
check --kind attention --heads 32 --kv-heads 32 --head-dim 128 --kv-int8 ss
check --kind attention --heads 8 --kv-heads 2 --head-dim 32 --kv-int8 ss
check --kind attention --heads 8 --kv-heads 2 --head-dim 256 --kv-int8 aa
check --prefill --kind attention --heads 32 --kv-heads 8 --head-dim 128 --kv-int8 ss

# Llama-2-7B decode shapes: the default schedule and a sweep of warps per
# tile (split-K inside the block) and K steps in flight.
for shape in "12288 4096" "4096 4096" "22016 4096" "4096 11008"; do
  set -- $shape
  for fmt in gemv-f16 gemv-int4; do
    "$gen" --out-dir "$carry/ptx-bench" --kind $fmt --n $1 --k $2 --group 128
    for w in 1 2 4 8 16; do
      for u in 2 4 8; do
        "$gen" --out-dir "$carry/ptx-bench" --kind $fmt --n $1 --k $2 --group 128 \
          --split-k $w --unroll $u
      done
    done
  done
done
# The same sweep for int8 (groups of 128, and one scale per row) and fp8,
# whose defaults are not measured yet (LinearGemvGenerator.cpp).
for shape in "12288 4096" "4096 4096" "22016 4096" "4096 11008"; do
  set -- $shape
  for fmt in "gemv-int8 --group 128" "gemv-int8 --group 0" "gemv-fp8"; do
    "$gen" --out-dir "$carry/ptx-bench" --kind $fmt --n $1 --k $2
    for w in 1 2 4 8 16; do
      for u in 2 4 8; do
        "$gen" --out-dir "$carry/ptx-bench" --kind $fmt --n $1 --k $2 --split-k $w --unroll $u
      done
    done
  done
done
# Int4 variants (bench/int4_gemv_variants.py): schedules crossed with where
# the group scale is applied (--dequant) and how the kernel waits for its
# predecessor (--pdl: -1 plain launch, 1 at the start, 2 after the first
# weights).
for shape in "12288 4096" "4096 4096" "22016 4096" "4096 11008"; do
  set -- $shape
  for schedule in "2 8" "4 4" "4 8" "8 2" "8 4" "8 8" "16 2"; do
    set -- $1 $2 $schedule
    for dequant in 1 2; do
      for pdl in -1 1 2; do
        "$gen" --out-dir "$carry/ptx-var" --kind gemv-int4 --n $1 --k $2 --group 128 \
          --split-k $3 --unroll $4 --dequant $dequant --pdl $pdl
        # 8 warps: also capped at 128 registers (two blocks per SM).
        if [[ $3 == 8 ]]; then
          "$gen" --out-dir "$carry/ptx-var" --kind gemv-int4 --n $1 --k $2 --group 128 \
            --split-k $3 --unroll $4 --dequant $dequant --pdl $pdl --max-registers 128
        fi
      done
    done
  done
done
# Prefill (512 tokens): the GEMM (the f16 one the wgmma GEMM at its default
# and 3 ring stages, and the mma.sync GEMM; that one pipelined, also capped
# at 168 registers for three blocks per SM, and single-stage) against the
# decode GEMV run over all rows.
for shape in "12288 4096" "4096 4096" "22016 4096" "4096 11008"; do
  set -- $shape
  "$gen" --out-dir "$carry/ptx-prefill" --kind gemv-f16 --n $1 --k $2 --prefill
  "$gen" --out-dir "$carry/ptx-prefill" --kind gemv-f16 --n $1 --k $2 --prefill --stages 3
  for fmt in "gemv-f16 --wgmma -1" gemv-int4; do
    "$gen" --out-dir "$carry/ptx-prefill" --kind $fmt --n $1 --k $2 --group 128 --prefill
    "$gen" --out-dir "$carry/ptx-prefill" --kind $fmt --n $1 --k $2 --group 128 --prefill \
      --max-registers 168
    "$gen" --out-dir "$carry/ptx-prefill" --kind $fmt --n $1 --k $2 --group 128 --prefill \
      --stages 1
    "$gen" --out-dir "$carry/ptx-prefill" --kind $fmt --n $1 --k $2 --group 128
  done
  # W8A16 (int8 per group and per row, fp8): the default GEMM and GEMV.
  for fmt in "gemv-int8 --group 128" "gemv-int8 --group 0" "gemv-fp8"; do
    "$gen" --out-dir "$carry/ptx-prefill" --kind $fmt --n $1 --k $2 --prefill
    "$gen" --out-dir "$carry/ptx-prefill" --kind $fmt --n $1 --k $2
  done
  # W8A8: the wgmma s8 GEMM (default) and the mma.sync one.
  "$gen" --out-dir "$carry/ptx-prefill" --kind gemv-int8 --group 0 --activation int8 \
    --n $1 --k $2 --prefill
  "$gen" --out-dir "$carry/ptx-prefill" --kind gemv-int8 --group 0 --activation int8 \
    --n $1 --k $2 --prefill --wgmma -1
  # FP8: e4m3 x e4m3 on the wgmma GEMM.
  "$gen" --out-dir "$carry/ptx-prefill" --kind gemv-fp8 --activation fp8 --features +ptx81 \
    --n $1 --k $2 --prefill
done
echo "prepared $carry: $(wc -l < "$carry/ptx-check/manifest.txt") check kernels," \
     "$(wc -l < "$carry/ptx-bench/manifest.txt") bench kernels," \
     "$(ls "$carry/artifacts" | wc -l) artifacts"
