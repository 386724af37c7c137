#!/usr/bin/env bash
# End-to-end checks on a GPU machine (see scripts/gpu-prepare): the shared
# model's artifacts on the CUDA backend against the PyTorch reference and
# against the host backend, compute-sanitizer memcheck on a generate, and
# tokens/s at batch 1 and 8. Logs go to $1 (default ./gpu-e2e-out).
set -uo pipefail
cd "$(dirname "$0")/../.."
src=.gpu-carry/e2e
out=${1:-gpu-e2e-out}
mkdir -p "$out/logs"
export LD_LIBRARY_PATH=$PWD/$src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
run=$src/qtc-run
status=0
step() { echo "== $*"; }
check() { # name, command...; logs go to $out/logs/NAME.log
  local name=$1; shift
  if "$@" >"$out/logs/$name.log" 2>&1; then echo "PASS $name"; else echo "FAIL $name"; status=1; fi
  grep -E "^(ok|FAIL)|ERROR SUMMARY" "$out/logs/$name.log" | sed 's/^/     /'
}
# Prints the throughput fields of a qtc-run --json log.
rates() {
  python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
print('     ' + ', '.join(f'{k} {d[k]:.1f}' for k in ('tokens_per_s','prefill_tokens_per_s','decode_tokens_per_s','generated_tokens','ppl') if k in d))" "$1"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
# The commit scripts/gpu-prepare built the tools and artifacts from.
cat $src/commit 2>/dev/null | tee "$out/commit.txt"

# The reference checks of the CI e2e tests for artifact $1 on --backend cuda,
# its perplexity on --backend host, and the two within 0.5% of each other;
# further arguments go to check_reference.py on both backends. An artifact
# that was not carried is skipped.
reference_checks() {
  local a=$1; shift
  [[ -f $src/$a.qtc ]] || { echo "SKIP $a (not carried)"; return; }
  check "reference-cuda-$a" python3 $src/check_reference.py --qtc-run $run \
    --artifact $src/$a.qtc --backend cuda --reference $src/reference.json \
    --eval-tokens $src/eval_tokens.bin --ppl-out "$out/$a.cuda.ppl" "$@"
  check "ppl-host-$a" python3 $src/check_reference.py --qtc-run $run \
    --artifact $src/$a.qtc --backend host --skip-tokens --reference $src/reference.json \
    --eval-tokens $src/eval_tokens.bin --ppl-out "$out/$a.host.ppl" "$@"
  if [[ -s $out/$a.cuda.ppl && -s $out/$a.host.ppl ]]; then
    check "cuda-vs-host-$a" python3 -c "
import sys; c=float(open('$out/$a.cuda.ppl').read()); h=float(open('$out/$a.host.ppl').read())
r=abs(c-h)/h; print(f'ok   cuda {c:.4f} host {h:.4f} rel {r:.4%}'); sys.exit(r > 0.005)"
  fi
}

reference_checks kjv-fp16
reference_checks kjv-onnx-fp16

# The int4 artifacts (GPTQ, RTN, AWQ): perplexity on both backends, within
# 0.5% of each other, and each beside the fp16 artifact's on the CUDA backend.
for a in kjv-w4a16 kjv-w4a16-rtn kjv-w4a16-awq; do
  [[ -f $src/$a.qtc ]] || { echo "SKIP $a (not carried)"; continue; }
  for backend in cuda host; do
    check "ppl-$backend-$a" $run $src/$a.qtc --backend $backend --ppl $src/eval_tokens.bin --json
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ppl'])" \
      "$out/logs/ppl-$backend-$a.log" > "$out/$a.$backend.ppl" 2>/dev/null
  done
  rates "$out/logs/ppl-cuda-$a.log"
  if [[ -s $out/$a.cuda.ppl && -s $out/$a.host.ppl && -s $out/kjv-fp16.cuda.ppl ]]; then
    check "cuda-vs-host-$a" python3 -c "
import sys; c=float(open('$out/$a.cuda.ppl').read()); h=float(open('$out/$a.host.ppl').read())
f=float(open('$out/kjv-fp16.cuda.ppl').read()); r=abs(c-h)/h
print(f'ok   cuda {c:.4f} host {h:.4f} rel {r:.4%}; vs fp16 on cuda {c/f-1:+.3%}'); sys.exit(r > 0.005)"
  else
    echo "FAIL cuda-vs-host-$a (missing perplexity)"; status=1
  fi
done

# The fp8 (e4m3) KV cache, with the lossy-cache tolerances of
# test/e2e/kjv-kvfp8.test.
reference_checks kjv-kvfp8 --ppl-tol 0.01 --top5-logit-tol 0.2
# The int8 per-token KV cache (fp16-kvint8), when carried, likewise.
reference_checks kjv-kvint8 --ppl-tol 0.01 --top5-logit-tol 0.2

check memcheck compute-sanitizer --tool memcheck --error-exitcode 9 \
  $run $src/kjv-w4a16.qtc --backend cuda --prompt "In the beginning" -n 16 --greedy

for a in kjv-fp16 kjv-w4a16; do
  for b in 1 8; do
    check "tps-$a-b$b" $run $src/$a.qtc --backend cuda --prompt "And God said" \
      -n 256 --greedy --batch $b --ignore-eos --json
    rates "$out/logs/tps-$a-b$b.log"
  done
done
tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -r "$out/logs"
exit $status
