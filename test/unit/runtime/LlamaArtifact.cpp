//===- LlamaArtifact.cpp - Llama-shaped test artifacts and their reference ===//

#include "LlamaArtifact.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"

#include <cmath>
#include <string>

namespace qtc::rt::test {
namespace {

std::vector<float> roundedToHalf(const std::vector<float> &values) {
  std::vector<float> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = roundToHalf(values[i]);
  return out;
}

// Adds one linear in the requested format; returns the weights it stands for.
std::vector<float> addLinear(TestArtifactBuilder &b, const LlamaArtifactOptions &options,
                             const std::string &name, const std::vector<float> &w, int in,
                             int out, int input, int residual, int output) {
  if (options.linears == LinearFormat::kF16) {
    int tensor = b.addF16(name, {out, in}, w);
    b.addDenseLinear(input, residual, output, tensor, in, out);
    return roundedToHalf(w);
  }
  const bool symmetric = options.linears == LinearFormat::kInt4Symmetric;
  Int4Weights q = quantizeInt4Group(w, out, in, options.groupSize, symmetric);
  b.addInt4Linear(input, residual, output, name, q, in, out, options.groupSize, symmetric);
  return q.dequantized;
}

void rmsNorm(const std::vector<double> &x, const std::vector<float> &w, int rows, int width,
             double eps, std::vector<double> &out) {
  out.resize(x.size());
  for (int t = 0; t < rows; ++t) {
    double sum = 0;
    for (int i = 0; i < width; ++i)
      sum += x[t * width + i] * x[t * width + i];
    const double inv = 1.0 / std::sqrt(sum / width + eps);
    for (int i = 0; i < width; ++i)
      out[t * width + i] = x[t * width + i] * inv * w[i];
  }
}

// y[t, n] = sum_k x[t, k] w[n, k]
void matmul(const std::vector<double> &x, const std::vector<float> &w, int rows, int in, int out,
            std::vector<double> &y) {
  y.assign(static_cast<size_t>(rows) * out, 0.0);
  for (int t = 0; t < rows; ++t)
    for (int n = 0; n < out; ++n) {
      double sum = 0;
      for (int k = 0; k < in; ++k)
        sum += x[t * in + k] * w[static_cast<size_t>(n) * in + k];
      y[t * out + n] = sum;
    }
}

} // namespace

LlamaWeights addLlama(TestArtifactBuilder &b, const LlamaShape &s, const LlamaWeights &w,
                      const LlamaArtifactOptions &options) {
  fb::ModelConfigT &c = b.config();
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = s.vocab;
  c.hidden_size = s.hidden;
  c.num_layers = s.layers;
  c.num_heads = s.heads;
  c.num_kv_heads = s.kvHeads;
  c.head_dim = s.headDim;
  c.intermediate_size = s.intermediate;
  c.rms_norm_eps = s.rmsEps;
  c.rope_theta = s.ropeTheta;
  c.max_positions = s.maxPositions;
  c.bos_token_id = options.bosId;
  c.eos_token_id = options.eosId;
  fb::KvCacheSpecT &kv = b.kvCache();
  kv.num_layers = s.layers;
  kv.num_kv_heads = s.kvHeads;
  kv.head_dim = s.headDim;
  kv.block_size = options.kvBlockSize;
  kv.dtype = options.kvDtype;
  kv.key_granularity = options.keyGranularity;
  kv.key_symmetric = options.keySymmetric;
  kv.value_symmetric = options.valueSymmetric;
  kv.residual_window = options.residualWindow;
  kv.sink_tokens = options.sinkTokens;
  kv.key_scales = options.kvKeyScales;
  kv.value_scales = options.kvValueScales;

  const int attnWidth = s.heads * s.headDim;
  const int x = b.addSlot("x", s.hidden);
  const int n = b.addSlot("normed", s.hidden);
  const int qkv = b.addSlot("qkv", s.qkvWidth());
  const int attn = b.addSlot("attn", attnWidth);
  const int gateUp = b.addSlot("gate_up", 2 * s.intermediate);
  const int act = b.addSlot("act", s.intermediate);
  const int last = b.addSlot("last", s.hidden);
  const int final = b.addSlot("final", s.hidden);
  const int logits = b.addSlot("logits", s.vocab);
  b.plan().logits_slot = logits;

  LlamaWeights stored;
  stored.embed = roundedToHalf(w.embed);
  b.addStep(fb::StepKind::Embedding, {}, {x},
            {b.addF16("model.embed_tokens.weight", {s.vocab, s.hidden}, w.embed)});
  for (int l = 0; l < s.layers; ++l) {
    const LlamaLayerWeights &lw = w.layers[l];
    LlamaLayerWeights sl;
    const std::string prefix = "model.layers." + std::to_string(l) + ".";
    const size_t firstStep = b.plan().steps.size();
    sl.inputNorm = roundedToHalf(lw.inputNorm);
    b.addStep(fb::StepKind::RmsNorm, {x}, {n},
              {b.addF16(prefix + "input_layernorm.weight", {s.hidden}, lw.inputNorm)})
        .epsilon = s.rmsEps;
    sl.qkv = addLinear(b, options, prefix + "self_attn.qkv_proj.weight", lw.qkv, s.hidden,
                       s.qkvWidth(), n, -1, qkv);
    b.addStep(fb::StepKind::RopeKvAppend, {qkv}, {}).layer = l;
    b.addStep(fb::StepKind::Attention, {qkv}, {attn}).layer = l;
    sl.out = addLinear(b, options, prefix + "self_attn.o_proj.weight", lw.out, attnWidth,
                       s.hidden, attn, x, x);
    sl.postNorm = roundedToHalf(lw.postNorm);
    b.addStep(fb::StepKind::RmsNorm, {x}, {n},
              {b.addF16(prefix + "post_attention_layernorm.weight", {s.hidden}, lw.postNorm)})
        .epsilon = s.rmsEps;
    sl.gateUp = addLinear(b, options, prefix + "mlp.gate_up_proj.weight", lw.gateUp, s.hidden,
                          2 * s.intermediate, n, -1, gateUp);
    b.addStep(fb::StepKind::SwiGlu, {gateUp}, {act});
    sl.down = addLinear(b, options, prefix + "mlp.down_proj.weight", lw.down, s.intermediate,
                        s.hidden, act, x, x);
    stored.layers.push_back(std::move(sl));
    // Every step of the layer carries its index, for errors and profiles.
    for (size_t i = firstStep; i < b.plan().steps.size(); ++i)
      b.plan().steps[i]->layer = l;
  }
  b.addStep(fb::StepKind::GatherRows, {x}, {last});
  stored.finalNorm = roundedToHalf(w.finalNorm);
  b.addStep(fb::StepKind::RmsNorm, {last}, {final},
            {b.addF16("model.norm.weight", {s.hidden}, w.finalNorm)})
      .epsilon = s.rmsEps;
  stored.lmHead =
      addLinear(b, options, "lm_head.weight", w.lmHead, s.hidden, s.vocab, final, -1, logits);
  return stored;
}

LlamaWeights randomLlamaWeights(const LlamaShape &s, uint32_t seed) {
  std::mt19937 rng(seed);
  auto norm = [&](int width) {
    std::vector<float> v = randomValues(rng, width, 0.2f);
    for (float &f : v)
      f += 1.0f;
    return v;
  };
  auto matrix = [&](int out, int in) {
    return randomValues(rng, static_cast<size_t>(out) * in, 1.7f / std::sqrt(float(in)));
  };
  LlamaWeights w;
  w.embed = randomValues(rng, static_cast<size_t>(s.vocab) * s.hidden, 1.0f);
  for (int l = 0; l < s.layers; ++l) {
    LlamaLayerWeights lw;
    lw.inputNorm = norm(s.hidden);
    lw.qkv = matrix(s.qkvWidth(), s.hidden);
    lw.out = matrix(s.hidden, s.heads * s.headDim);
    lw.postNorm = norm(s.hidden);
    lw.gateUp = matrix(2 * s.intermediate, s.hidden);
    lw.down = matrix(s.hidden, s.intermediate);
    w.layers.push_back(std::move(lw));
  }
  w.finalNorm = norm(s.hidden);
  w.lmHead = matrix(s.vocab, s.hidden);
  return w;
}

std::vector<float> referenceLlamaLogits(const LlamaShape &s, const LlamaWeights &w,
                                        const std::vector<int32_t> &ids, fb::KvDType kvDtype) {
  const int T = static_cast<int>(ids.size()), H = s.hidden, hd = s.headDim;
  const int qkvW = s.qkvWidth(), attnW = s.heads * hd, F = s.intermediate;
  std::vector<double> x(static_cast<size_t>(T) * H), n, qkv, y;
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < H; ++i)
      x[t * H + i] = w.embed[static_cast<size_t>(ids[t]) * H + i];

  for (const LlamaLayerWeights &lw : w.layers) {
    rmsNorm(x, lw.inputNorm, T, H, s.rmsEps, n);
    matmul(n, lw.qkv, T, H, qkvW, qkv);
    // Rotate-half RoPE on q and k heads.
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < s.heads + s.kvHeads; ++h) {
        double *v = &qkv[t * qkvW + h * hd];
        for (int i = 0; i < hd / 2; ++i) {
          const double angle = t * std::pow(double(s.ropeTheta), -2.0 * i / hd);
          const double a = v[i], b = v[i + hd / 2];
          v[i] = a * std::cos(angle) - b * std::sin(angle);
          v[i + hd / 2] = b * std::cos(angle) + a * std::sin(angle);
        }
      }
    if (kvDtype != fb::KvDType::F32)
      for (int t = 0; t < T; ++t)
        for (int i = s.heads * hd; i < qkvW; ++i) {
          const float value = static_cast<float>(qkv[t * qkvW + i]);
          qkv[t * qkvW + i] =
              kvDtype == fb::KvDType::F16 ? roundToHalf(value) : roundToE4M3(value);
        }
    std::vector<double> attn(static_cast<size_t>(T) * attnW, 0.0);
    const int group = s.heads / s.kvHeads;
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < s.heads; ++h) {
        const double *q = &qkv[t * qkvW + h * hd];
        const int g = h / group;
        std::vector<double> scores(t + 1);
        double maxScore = -1e300, total = 0;
        for (int p = 0; p <= t; ++p) {
          const double *k = &qkv[p * qkvW + (s.heads + g) * hd];
          double dot = 0;
          for (int i = 0; i < hd; ++i)
            dot += q[i] * k[i];
          scores[p] = dot / std::sqrt(double(hd));
          maxScore = std::max(maxScore, scores[p]);
        }
        for (int p = 0; p <= t; ++p)
          total += scores[p] = std::exp(scores[p] - maxScore);
        for (int p = 0; p <= t; ++p) {
          const double *v = &qkv[p * qkvW + (s.heads + s.kvHeads + g) * hd];
          for (int i = 0; i < hd; ++i)
            attn[t * attnW + h * hd + i] += scores[p] / total * v[i];
        }
      }
    matmul(attn, lw.out, T, attnW, H, y);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] += y[i];
    rmsNorm(x, lw.postNorm, T, H, s.rmsEps, n);
    std::vector<double> gu, act(static_cast<size_t>(T) * F);
    matmul(n, lw.gateUp, T, H, 2 * F, gu);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < F; ++i) {
        const double g = gu[t * 2 * F + i], u = gu[t * 2 * F + F + i];
        act[t * F + i] = g / (1.0 + std::exp(-g)) * u;
      }
    matmul(act, lw.down, T, F, H, y);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] += y[i];
  }
  rmsNorm(x, w.finalNorm, T, H, s.rmsEps, n);
  matmul(n, w.lmHead, T, H, s.vocab, y);
  return std::vector<float>(y.begin(), y.end());
}

} // namespace qtc::rt::test
