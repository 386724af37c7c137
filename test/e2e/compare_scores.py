# Compares two qtc-run --score --top-logits (whole vocabulary) outputs:
# argmax agreement and the logits' relative L2 against a bound (default
# 5e-4, or the third argument).
import json
import math
import sys

a, b = (json.load(open(p)) for p in sys.argv[1:3])
num = den = 0.0
for pa, pb in zip(a["top_logits"], b["top_logits"]):
    key = next(k for k in pa if k != "ids")
    la, lb = dict(zip(pa["ids"], pa[key])), dict(zip(pb["ids"], pb[key]))
    for i, v in la.items():
        num += (lb[i] - v) ** 2
        den += v * v
rel = math.sqrt(num / den)
bound = float(sys.argv[3]) if len(sys.argv) > 3 else 5e-4
same = sum(x == y for x, y in zip(a["argmax"], b["argmax"]))
print("argmax equal %d of %d" % (same, len(a["argmax"])))
print(("ok" if rel < bound else "FAIL") + " logits rel L2 %.3g (bound %g)" % (rel, bound))
