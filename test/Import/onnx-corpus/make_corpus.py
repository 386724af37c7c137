#!/usr/bin/env python3
"""Makes the ONNX import corpus: real exporter outputs of tiny random-weight
decoders, each with onnxruntime's logits on fixed inputs as the reference.

Needs torch, transformers, onnx and onnxruntime (the GPU machine has them;
CUDA is used for fp16 export when present). Writes, under OUT:

  <variant>/model.onnx        the export (weights inline: every file is small)
  <variant>/reference.json    inputs, onnxruntime logits, how it was made
  manifest.json               every variant tried, with the error of those
                              that could not be made (kept, not hidden)

  make_corpus.py OUT [--only SUBSTRING] [--kjv-onnx MODEL.onnx
                      --kjv-eval-tokens eval_tokens.bin]

Variants: architectures (Llama MHA / GQA, Mistral, Qwen2 with qkv bias,
Llama-3 style GQA with llama3 RoPE scaling) x exporter (dynamo at opset 18,
TorchScript at opset 14 and 17) x dtype (fp32, fp16) x tied embeddings;
onnxruntime transformer-optimizer outputs of a few of them; weight-only
quantized graphs from onnxruntime's MatMulNBits quantizer (block 32
symmetric, block 128 asymmetric, and QDQ int4 block 128). With --kjv-onnx,
also the same quantizers on that model and onnxruntime's held-out
perplexity of each (the method of the model's reference.json: windows of
512 tokens), written to kjv_quantized_ppl.json beside the manifest; those
models are large and are not meant for the repository.
"""
import argparse
import inspect
import json
import os
import sys
import time
import traceback

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers

SEQ = 11
VOCAB = 128


def base_config(**over):
    cfg = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=4, head_dim=16,
               max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=False,
               bos_token_id=1, eos_token_id=2, pad_token_id=None, use_cache=False,
               attention_dropout=0.0)
    cfg.update(over)
    return cfg


def llama3_rope():
    return {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
            "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 64}


# name -> (config class, model class, config overrides)
ARCHS = {
    "llama-mha": ("LlamaConfig", "LlamaForCausalLM", {}),
    "llama-gqa": ("LlamaConfig", "LlamaForCausalLM", {"num_key_value_heads": 2}),
    "mistral-gqa": ("MistralConfig", "MistralForCausalLM",
                    {"num_key_value_heads": 2, "sliding_window": None}),
    "qwen2-gqa-bias": ("Qwen2Config", "Qwen2ForCausalLM", {"num_key_value_heads": 2}),
    "llama3-gqa-scaled": ("LlamaConfig", "LlamaForCausalLM",
                          {"num_key_value_heads": 1, "rope": llama3_rope()}),
}


def make_model(arch, dtype, tied, seed):
    cfg_cls, model_cls, over = ARCHS[arch]
    over = dict(over)
    rope = over.pop("rope", {"rope_type": "default", "rope_theta": 10000.0})
    cfg = getattr(transformers, cfg_cls)(**base_config(tie_word_embeddings=tied, **over))
    # transformers 5 keeps RoPE in rope_parameters; 4.x in rope_theta/rope_scaling.
    if hasattr(cfg, "rope_parameters"):
        cfg.rope_parameters = dict(rope)
    else:
        cfg.rope_theta = rope["rope_theta"]
        if rope["rope_type"] != "default":
            cfg.rope_scaling = {k: v for k, v in rope.items() if k != "rope_theta"}
    cfg._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = getattr(transformers, model_cls)(cfg).eval()
    # Random weights at a trained model's scale: std 0.02 as initialized, but
    # norms away from 1 so a missed norm weight shows in the logits.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
    return cfg, model.to(dtype)


class LogitsOnly(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids, use_cache=False).logits


def export(model, ids, path, exporter, opset):
    wrapped = LogitsOnly(model).eval()
    params = inspect.signature(torch.onnx.export).parameters
    kw = dict(input_names=["input_ids"], output_names=["logits"], opset_version=opset)
    if exporter == "dynamo":
        kw["dynamo"] = True
        if "external_data" in params:
            kw["external_data"] = False
        seq = torch.export.Dim("sequence", min=2, max=128)
        try:
            torch.onnx.export(wrapped, (ids,), path, dynamic_shapes=({1: seq},), **kw)
            return "dynamic"
        except Exception:  # noqa: BLE001  (static export is still a real export)
            torch.onnx.export(wrapped, (ids,), path, **kw)
            return "static"
    if "dynamo" in params:
        kw["dynamo"] = False
    torch.onnx.export(wrapped, (ids,), path,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "logits": {0: "batch", 1: "sequence"}}, **kw)
    return "dynamic"


def inline_weights(path):
    """One self-contained file (some exporters write weights beside)."""
    m = onnx.load(path, load_external_data=True)
    onnx.save_model(m, path, save_as_external_data=False)
    for f in os.listdir(os.path.dirname(path)):
        if f != "model.onnx" and f != "reference.json":
            os.remove(os.path.join(os.path.dirname(path), f))
    return m


def op_histogram(m):
    hist = {}
    for n in m.graph.node:
        key = (n.domain + "." if n.domain and n.domain != "ai.onnx" else "") + n.op_type
        hist[key] = hist.get(key, 0) + 1
    return dict(sorted(hist.items()))


def ort_logits(path, ids):
    errors = []
    for providers in (["CPUExecutionProvider"], ["CUDAExecutionProvider"]):
        if providers[0] not in ort.get_available_providers():
            continue
        try:
            sess = ort.InferenceSession(path, providers=providers)
            out = sess.run(["logits"], {"input_ids": ids})[0]
            return out.astype(np.float32), providers[0]
        except Exception as e:  # noqa: BLE001
            errors.append("%s: %s" % (providers[0], str(e).splitlines()[0][:300]))
    raise RuntimeError("onnxruntime could not run the model: " + "; ".join(errors))


def write_reference(vdir, info, ids, logits, provider, m, torch_logits=None):
    ref = dict(info)
    ref.update({
        "onnxruntime": ort.__version__, "torch": torch.__version__,
        "transformers": transformers.__version__, "onnx": onnx.__version__,
        "provider": provider, "ir_version": m.ir_version,
        "opsets": {(o.domain or "ai.onnx"): o.version for o in m.opset_import},
        "ops": op_histogram(m),
        "input_ids": ids.tolist(), "logits_shape": list(logits.shape),
        "logits": [round(float(v), 6) for v in logits.reshape(-1)],
    })
    if torch_logits is not None:
        d = np.abs(torch_logits - logits)
        ref["max_abs_diff_vs_torch"] = float(d.max())
        ref["rel_l2_vs_torch"] = float(np.linalg.norm(torch_logits - logits) /
                                       max(np.linalg.norm(torch_logits), 1e-30))
    with open(os.path.join(vdir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    return ref


def weight_only_quantize(src_model, block, symmetric, qdq):
    """onnxruntime's weight-only int4 quantizer (MatMulNBits or QDQ)."""
    from onnxruntime.quantization import QuantFormat
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import (
            DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer)
    except ImportError:
        from onnxruntime.quantization.matmul_4bits_quantizer import (  # older name
            DefaultWeightOnlyQuantConfig, MatMul4BitsQuantizer as MatMulNBitsQuantizer)
    cfg = DefaultWeightOnlyQuantConfig(
        block_size=block, is_symmetric=symmetric,
        quant_format=QuantFormat.QDQ if qdq else QuantFormat.QOperator)
    q = MatMulNBitsQuantizer(src_model, block_size=block, is_symmetric=symmetric,
                             algo_config=cfg)
    q.process()
    return q.model.model


QUANTIZERS = {"nbits-b32-sym": (32, True, False), "nbits-b128-asym": (128, False, False),
              "qdq-int4-b128": (128, True, True)}


def make_variant(out, name, info, build, manifest):
    vdir = os.path.join(out, name)
    os.makedirs(vdir, exist_ok=True)
    t0 = time.time()
    try:
        ref = build(vdir)
        manifest.append({"name": name, "ok": True, "seconds": round(time.time() - t0, 1),
                         "bytes": os.path.getsize(os.path.join(vdir, "model.onnx")),
                         "ops": ref["ops"], **{k: v for k, v in info.items()}})
        print("ok   %-44s %6.1fs %s" % (name, time.time() - t0, ref.get("rel_l2_vs_torch", "")),
              flush=True)
    except Exception as e:  # noqa: BLE001  (recorded in the manifest)
        for f in os.listdir(vdir):
            os.remove(os.path.join(vdir, f))
        os.rmdir(vdir)
        manifest.append({"name": name, "ok": False, "error": "%s: %s" % (
            type(e).__name__, str(e)[:2000]), **info})
        print("FAIL %-44s %s" % (name, str(e).splitlines()[0][:200] if str(e) else type(e)),
              flush=True)
        traceback.print_exc(limit=3)


def corpus(out, only):
    manifest = []
    rng = np.random.default_rng(7)
    ids = rng.integers(3, VOCAB, size=(1, SEQ), dtype=np.int64)
    cuda = torch.cuda.is_available()
    plan = []
    for arch in ARCHS:
        for exporter, opset in (("dynamo", 18), ("torchscript", 17), ("torchscript", 14)):
            for dtype in ("fp32", "fp16"):
                for tied in (False, True):
                    # Every arch at fp32 untied; the cross product on the Llama ones.
                    if arch not in ("llama-gqa", "llama-mha") and (tied or dtype == "fp16") \
                            and not (arch == "qwen2-gqa-bias" and tied):
                        continue
                    if opset == 14 and arch not in ("llama-gqa", "qwen2-gqa-bias"):
                        continue
                    plan.append((arch, exporter, opset, dtype, tied))
    sources = {}
    for seed, (arch, exporter, opset, dtype, tied) in enumerate(plan):
        name = "%s-%s%d-%s%s" % (arch, exporter, opset, dtype, "-tied" if tied else "")
        if only and only not in name:
            continue
        info = {"arch": arch, "exporter": exporter, "opset": opset, "dtype": dtype,
                "tied_embeddings": tied}

        def build(vdir, arch=arch, exporter=exporter, opset=opset, dtype=dtype, tied=tied,
                  seed=seed, info=info):
            tdtype = torch.float16 if dtype == "fp16" else torch.float32
            cfg, model = make_model(arch, tdtype, tied, 1000 + seed)
            dev = "cuda" if (cuda and dtype == "fp16") else "cpu"
            model = model.to(dev)
            tids = torch.from_numpy(ids).to(dev)
            with torch.no_grad():
                tl = LogitsOnly(model)(tids).float().cpu().numpy()
            path = os.path.join(vdir, "model.onnx")
            shapes = export(model, tids, path, exporter, opset)
            m = inline_weights(path)
            logits, provider = ort_logits(path, ids)
            full = dict(info, shapes=shapes, config=json.loads(cfg.to_json_string()))
            return write_reference(vdir, full, ids, logits, provider, m, tl)

        make_variant(out, name, info, build, manifest)
        if os.path.isdir(os.path.join(out, name)):
            sources[name] = os.path.join(out, name, "model.onnx")

    # onnxruntime's transformer optimizer (fused norms, rotary, attention).
    for src in ("llama-gqa-torchscript17-fp32", "llama-gqa-dynamo18-fp32",
                "llama-mha-torchscript17-fp16"):
        if src not in sources or (only and only not in src + "-ortopt"):
            continue
        name = src + "-ortopt"
        info = {"derived_from": src, "tool": "onnxruntime.transformers.optimizer"}

        def build(vdir, src=src, info=info):
            from onnxruntime.transformers.optimizer import optimize_model
            ref_src = json.load(open(os.path.join(out, src, "reference.json")))
            cfg = ref_src["config"]
            opt = optimize_model(sources[src], model_type="gpt2",
                                 num_heads=cfg["num_attention_heads"],
                                 hidden_size=cfg["hidden_size"], opt_level=2,
                                 use_gpu=False, only_onnxruntime=False)
            path = os.path.join(vdir, "model.onnx")
            opt.save_model_to_file(path, use_external_data_format=False)
            m = onnx.load(path)
            logits, provider = ort_logits(path, ids)
            src_logits = np.array(ref_src["logits"], dtype=np.float32).reshape(logits.shape)
            full = dict(info, config=cfg, dtype=ref_src["dtype"])
            return write_reference(vdir, full, ids, logits, provider, m, src_logits)

        make_variant(out, name, info, build, manifest)

    # Weight-only int4 from onnxruntime's quantizer, kept as given.
    for src in ("llama-gqa-torchscript17-fp32", "llama-gqa-dynamo18-fp32"):
        if src not in sources:
            continue
        for qname, (block, sym, qdq) in QUANTIZERS.items():
            name = "%s-%s" % (src, qname)
            if only and only not in name:
                continue
            info = {"derived_from": src, "tool": "onnxruntime.quantization", "block": block,
                    "symmetric": sym, "format": "QDQ" if qdq else "MatMulNBits"}

            def build(vdir, src=src, block=block, sym=sym, qdq=qdq, info=info):
                ref_src = json.load(open(os.path.join(out, src, "reference.json")))
                qm = weight_only_quantize(onnx.load(sources[src]), block, sym, qdq)
                path = os.path.join(vdir, "model.onnx")
                onnx.save_model(qm, path, save_as_external_data=False)
                logits, provider = ort_logits(path, ids)
                src_logits = np.array(ref_src["logits"], dtype=np.float32).reshape(logits.shape)
                full = dict(info, config=ref_src["config"], dtype=ref_src["dtype"])
                return write_reference(vdir, full, ids, logits, provider, qm, src_logits)

            make_variant(out, name, info, build, manifest)

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__,
                   "onnx": onnx.__version__, "onnxruntime": ort.__version__,
                   "made": time.strftime("%Y-%m-%d", time.gmtime()),
                   "variants": manifest}, f, indent=1)
    ok = sum(v["ok"] for v in manifest)
    print("corpus: %d of %d variants made" % (ok, len(manifest)))
    return ok == len(manifest)


def ppl(path, tokens, window=512):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    nll, count = 0.0, 0
    for start in range(0, len(tokens) - 1, window):
        chunk = tokens[start:start + window]
        if len(chunk) < 2:
            break
        logits = sess.run(["logits"], {"input_ids": chunk[None, :].astype(np.int64)})[0][0]
        logits = logits.astype(np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        nll -= logp[np.arange(len(chunk) - 1), chunk[1:]].sum()
        count += len(chunk) - 1
    return float(np.exp(nll / count)), count


def kjv_quantized(out, model_path, tokens_path):
    tokens = np.fromfile(tokens_path, dtype="<i4")
    base = onnx.load(model_path)
    result = {"model": os.path.basename(model_path), "tokens": int(len(tokens)),
              "method": "non-overlapping windows of 512 tokens, exp(mean NLL)",
              "onnxruntime": ort.__version__, "results": {}}
    qdir = os.path.join(out, "kjv-quantized")
    os.makedirs(qdir, exist_ok=True)
    p, n = ppl(model_path, tokens)
    result["results"]["fp32"] = {"ppl": p, "scored": n}
    print("kjv fp32 ppl %.4f" % p, flush=True)
    for qname, (block, sym, qdq) in QUANTIZERS.items():
        try:
            qm = weight_only_quantize(onnx.load(model_path), block, sym, qdq)
            path = os.path.join(qdir, qname + ".onnx")
            onnx.save_model(qm, path, save_as_external_data=False)
            p, n = ppl(path, tokens)
            result["results"][qname] = {"ppl": p, "scored": n, "block": block,
                                        "symmetric": sym, "ops": op_histogram(qm)}
            print("kjv %s ppl %.4f" % (qname, p), flush=True)
        except Exception as e:  # noqa: BLE001
            result["results"][qname] = {"error": str(e)[:1000]}
            print("kjv %s FAIL %s" % (qname, e), flush=True)
    del base
    with open(os.path.join(out, "kjv_quantized_ppl.json"), "w") as f:
        json.dump(result, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--only", default="")
    ap.add_argument("--kjv-onnx")
    ap.add_argument("--kjv-eval-tokens")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ok = corpus(args.out, args.only)
    if args.kjv_onnx:
        kjv_quantized(args.out, args.kjv_onnx, args.kjv_eval_tokens)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
