//===- RotationEquivalenceTest.cpp - Rotations keep the fp32 logits -------===//
//
// qtc-fold-norms and qtc-rotate rewrite weights only; the model they leave
// must compute the logits it computed before. Random Llama checkpoints
// (MHA and GQA, tied and untied embeddings, hidden sizes 64, 96, 256, 4096
// and 5120) go
// through the passes, and the plain reference forward pass of the runtime's
// tests (f64 arithmetic, f32 K/V) scores random tokens with the weights
// before and after: the logits' relative L2 error must stay below 1e-4. The
// rotated weights are compared as the passes store them (f32); an artifact
// stores dense weights in f16, whose rounding alone is ~1e-3 relative
// (docs/recipes.md).
//
//===----------------------------------------------------------------------===//

#include "LlamaArtifact.h"

#include "dialects/tfm/TfmOps.h"
#include "qtc/Import/WeightMatrix.h"
#include "qtc/Import/WeightStore.h"
#include "qtc/Pipeline/Compile.h"
#include "qtc/Quant/Rotation.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"
#include "qtc/rt/Float16.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace qtc;
using rt::test::LlamaShape;
using rt::test::LlamaWeights;

namespace {

std::string tensorType(std::vector<int64_t> shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + "f16>";
}

// The canonical tfm form of a Llama of `s` (weights named as Hugging Face
// names them); `tied`: the lm_head reads the embedding table's handle.
std::string llamaSource(const LlamaShape &s, bool tied) {
  const int64_t H = s.hidden, q = s.heads * s.headDim, kv = s.kvHeads * s.headDim,
                F = s.intermediate;
  std::string src;
  llvm::raw_string_ostream os(src);
  os << llvm::formatv(
      "tfm.model @m attributes {{config = #tfm.model_config<architecture = "
      "\"LlamaForCausalLM\", vocab_size = {0}, hidden_size = {1}, num_layers = {2}, "
      "num_heads = {3}, num_kv_heads = {4}, head_dim = {5}, intermediate_size = {6}, "
      "max_positions = {7}, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04, "
      "bos_token_id = 1, eos_token_id = 2, tie_word_embeddings = {8}>} {{\n"
      "^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):\n",
      s.vocab, H, s.layers, s.heads, s.kvHeads, s.headDim, F, s.maxPositions,
      tied ? "true" : "false");
  auto weight = [&](const std::string &value, const std::string &name,
                    std::vector<int64_t> shape) {
    os << "  %" << value << " = tfm.weight \"" << name << "\" : " << tensorType(shape)
       << "\n";
  };
  auto act = [](int64_t w) { return "tensor<?x" + std::to_string(w) + "xf32>"; };
  auto linear = [&](const std::string &out, const std::string &in, const std::string &w,
                    int64_t inW, int64_t outW) {
    os << "  %" << out << " = tfm.linear %" << in << ", %" << w << " : " << act(inW)
       << ", " << tensorType({outW, inW}) << " -> " << act(outW) << "\n";
  };
  auto norm = [&](const std::string &out, const std::string &in, const std::string &w) {
    os << "  %" << out << " = tfm.rms_norm %" << in << ", %" << w
       << " {epsilon = 1.0e-05 : f32} : " << act(H) << ", " << tensorType({H}) << "\n";
  };
  weight("emb", "model.embed_tokens.weight", {s.vocab, H});
  os << "  %x0 = tfm.embedding %emb, %ids : " << tensorType({s.vocab, H})
     << ", tensor<?xi64> -> " << act(H) << "\n";
  std::string x = "x0";
  for (int l = 0; l < s.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".", L = std::to_string(l);
    weight("in" + L, p + "input_layernorm.weight", {H});
    norm("n" + L, x, "in" + L);
    weight("wq" + L, p + "self_attn.q_proj.weight", {q, H});
    linear("q" + L, "n" + L, "wq" + L, H, q);
    weight("wk" + L, p + "self_attn.k_proj.weight", {kv, H});
    linear("k" + L, "n" + L, "wk" + L, H, kv);
    weight("wv" + L, p + "self_attn.v_proj.weight", {kv, H});
    linear("v" + L, "n" + L, "wv" + L, H, kv);
    os << llvm::formatv("  %qr{0} = tfm.rope %q{0}, %pos {{head_dim = {1}, theta = "
                        "1.0e+04 : f32} : {2}, tensor<?xi64>\n",
                        L, s.headDim, act(q));
    os << llvm::formatv("  %kr{0} = tfm.rope %k{0}, %pos {{head_dim = {1}, theta = "
                        "1.0e+04 : f32} : {2}, tensor<?xi64>\n",
                        L, s.headDim, act(kv));
    os << llvm::formatv("  %a{0} = tfm.attention %qr{0}, %kr{0}, %v{0} {{num_heads = "
                        "{1}, num_kv_heads = {2}, head_dim = {3}, causal, scale = "
                        "{4} : f32} : {5}, {6}, {6}\n",
                        L, s.heads, s.kvHeads, s.headDim,
                        llvm::formatv("{0:e8}", 1.0 / std::sqrt(double(s.headDim))).str(),
                        act(q), act(kv));
    weight("wo" + L, p + "self_attn.o_proj.weight", {H, q});
    linear("o" + L, "a" + L, "wo" + L, q, H);
    os << "  %r" << L << " = tfm.add %" << x << ", %o" << L << " : " << act(H) << "\n";
    weight("post" + L, p + "post_attention_layernorm.weight", {H});
    norm("m" + L, "r" + L, "post" + L);
    weight("wg" + L, p + "mlp.gate_proj.weight", {F, H});
    linear("g" + L, "m" + L, "wg" + L, H, F);
    weight("wu" + L, p + "mlp.up_proj.weight", {F, H});
    linear("u" + L, "m" + L, "wu" + L, H, F);
    os << "  %s" << L << " = tfm.swiglu %g" << L << ", %u" << L << " : " << act(F) << "\n";
    weight("wd" + L, p + "mlp.down_proj.weight", {H, F});
    linear("d" + L, "s" + L, "wd" + L, F, H);
    os << "  %y" << L << " = tfm.add %r" << L << ", %d" << L << " : " << act(H) << "\n";
    x = "y" + L;
  }
  weight("fn", "model.norm.weight", {H});
  norm("nf", x, "fn");
  std::string head = "emb";
  if (!tied) {
    weight("lm", "lm_head.weight", {s.vocab, H});
    head = "lm";
  }
  os << "  %logits = tfm.lm_head %nf, %" << head << " : " << act(H) << ", "
     << tensorType({s.vocab, H}) << " -> " << act(s.vocab) << "\n";
  os << "  tfm.output %logits : " << act(s.vocab) << "\n}\n";
  return src;
}

void addF16(WeightStore &store, const std::string &name, std::vector<int64_t> shape,
            const float *values) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::string bytes(n * 2, '\0');
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h = rt::floatToHalf(values[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  ASSERT_TRUE(store.addOwned(name, qtc::DType::F16, shape, std::move(bytes))) << name;
}

// The checkpoint's tensors in f16, from the runtime tests' random weights.
void storeWeights(WeightStore &store, const LlamaShape &s, const LlamaWeights &w,
                  bool tied) {
  const int64_t H = s.hidden, q = s.heads * s.headDim, kv = s.kvHeads * s.headDim,
                F = s.intermediate;
  addF16(store, "model.embed_tokens.weight", {s.vocab, H}, w.embed.data());
  for (int l = 0; l < s.layers; ++l) {
    const rt::test::LlamaLayerWeights &lw = w.layers[l];
    std::string p = "model.layers." + std::to_string(l) + ".";
    addF16(store, p + "input_layernorm.weight", {H}, lw.inputNorm.data());
    addF16(store, p + "self_attn.q_proj.weight", {q, H}, lw.qkv.data());
    addF16(store, p + "self_attn.k_proj.weight", {kv, H}, lw.qkv.data() + q * H);
    addF16(store, p + "self_attn.v_proj.weight", {kv, H}, lw.qkv.data() + (q + kv) * H);
    addF16(store, p + "self_attn.o_proj.weight", {H, q}, lw.out.data());
    addF16(store, p + "post_attention_layernorm.weight", {H}, lw.postNorm.data());
    addF16(store, p + "mlp.gate_proj.weight", {F, H}, lw.gateUp.data());
    addF16(store, p + "mlp.up_proj.weight", {F, H}, lw.gateUp.data() + F * H);
    addF16(store, p + "mlp.down_proj.weight", {H, F}, lw.down.data());
  }
  addF16(store, "model.norm.weight", {H}, w.finalNorm.data());
  if (!tied)
    addF16(store, "lm_head.weight", {s.vocab, H}, w.lmHead.data());
}

std::vector<float> read(const WeightStore &store, mlir::Value v) {
  auto handle = v.getDefiningOp<tfm::WeightOp>();
  EXPECT_TRUE(handle);
  if (!handle)
    return {};
  mlir::FailureOr<WeightMatrix> m = readWeight(store, handle.getName(), handle.getLoc());
  EXPECT_TRUE(mlir::succeeded(m)) << handle.getName().str();
  return mlir::succeeded(m) ? m->values : std::vector<float>();
}

void append(std::vector<float> &to, const std::vector<float> &from) {
  to.insert(to.end(), from.begin(), from.end());
}

// The weights the model's IR names now, in the reference's layout.
LlamaWeights weightsOfModel(mlir::ModuleOp module, const WeightStore &store,
                            const LlamaShape &s) {
  LlamaWeights w;
  std::vector<tfm::RmsNormOp> norms;
  std::vector<tfm::LinearOp> linears;
  module.walk([&](mlir::Operation *op) {
    if (auto e = mlir::dyn_cast<tfm::EmbeddingOp>(op))
      w.embed = read(store, e.getTable());
    else if (auto n = mlir::dyn_cast<tfm::RmsNormOp>(op))
      norms.push_back(n);
    else if (auto l = mlir::dyn_cast<tfm::LinearOp>(op))
      linears.push_back(l);
    else if (auto h = mlir::dyn_cast<tfm::LmHeadOp>(op))
      w.lmHead = read(store, h.getWeight());
  });
  EXPECT_EQ(norms.size(), size_t(2 * s.layers + 1));
  EXPECT_EQ(linears.size(), size_t(7 * s.layers));
  for (int l = 0; l < s.layers; ++l) {
    rt::test::LlamaLayerWeights lw;
    lw.inputNorm = read(store, norms[2 * l].getWeight());
    lw.postNorm = read(store, norms[2 * l + 1].getWeight());
    tfm::LinearOp *p = &linears[7 * l]; // q k v o gate up down
    for (int i = 0; i < 3; ++i)
      append(lw.qkv, read(store, p[i].getWeight()));
    lw.out = read(store, p[3].getWeight());
    append(lw.gateUp, read(store, p[4].getWeight()));
    append(lw.gateUp, read(store, p[5].getWeight()));
    lw.down = read(store, p[6].getWeight());
    w.layers.push_back(std::move(lw));
  }
  w.finalNorm = read(store, norms.back().getWeight());
  return w;
}

struct Case {
  const char *name;
  LlamaShape shape;
  bool tied;
};

LlamaShape shape(int hidden, int heads, int kvHeads, int headDim, int intermediate) {
  LlamaShape s;
  s.vocab = 48;
  s.hidden = hidden;
  s.layers = 2;
  s.heads = heads;
  s.kvHeads = kvHeads;
  s.headDim = headDim;
  s.intermediate = intermediate;
  return s;
}

double relativeL2(const std::vector<float> &a, const std::vector<float> &b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

// Runs `rotate` (else fold-norms alone) on a random checkpoint of `c` and
// returns the logits' relative L2 error; `checks` sees the module after.
double equivalenceError(const Case &c, bool rotate, uint64_t seed,
                        std::function<void(mlir::ModuleOp, const WeightStore &)> checks = {}) {
  mlir::MLIRContext context;
  loadPipelineDialects(context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(llamaSource(c.shape, c.tied), &context);
  EXPECT_TRUE(module);
  if (!module)
    return INFINITY;
  WeightStore store;
  LlamaWeights random = rt::test::randomLlamaWeights(c.shape, 7);
  storeWeights(store, c.shape, random, c.tied);
  std::vector<int32_t> ids;
  std::mt19937 rng(11);
  for (int t = 0; t < 12; ++t)
    ids.push_back(static_cast<int32_t>(rng() % c.shape.vocab));
  std::vector<float> before = rt::test::referenceLlamaLogits(
      c.shape, weightsOfModel(*module, store, c.shape), ids, rt::fb::KvDType::F32);

  WeightContext weights(store);
  WeightContext::attach(&context, &weights);
  mlir::PassManager pm(&context);
  pm.addPass(createFoldNorms());
  if (rotate) {
    RotateOptions options;
    options.seed = seed;
    pm.addPass(createRotate(options));
  }
  EXPECT_TRUE(mlir::succeeded(pm.run(*module)));
  WeightContext::attach(&context, nullptr);
  if (checks)
    checks(*module, store);
  std::vector<float> after = rt::test::referenceLlamaLogits(
      c.shape, weightsOfModel(*module, store, c.shape), ids, rt::fb::KvDType::F32);
  EXPECT_EQ(before.size(), after.size());
  return relativeL2(after, before);
}

const Case kCases[] = {
    {"mha-64-untied", shape(64, 4, 4, 16, 96), false},
    {"gqa-64-tied", shape(64, 4, 2, 16, 96), true},
    {"mha-96-tied", shape(96, 6, 6, 16, 160), true},
    {"gqa-96-untied", shape(96, 6, 2, 16, 160), false},
    {"gqa-256-untied", shape(256, 4, 2, 64, 704), false},
    {"gqa-256-tied", shape(256, 4, 2, 64, 704), true},
    // 4096-class residual streams (a narrow attention and MLP keep it
    // small): 4096 is a pure Hadamard, 5120 = 1024 x 5.
    {"gqa-4096-tied", shape(4096, 4, 2, 64, 128), true},
    {"gqa-5120-untied", shape(5120, 4, 2, 64, 128), false},
};

TEST(RotationEquivalenceTest, FoldNormsKeepsTheLogits) {
  for (const Case &c : kCases) {
    SCOPED_TRACE(c.name);
    double error = equivalenceError(c, /*rotate=*/false, 0,
                                    [&](mlir::ModuleOp m, const WeightStore &store) {
      // Every norm is left with ones.
      m.walk([&](tfm::RmsNormOp n) {
        for (float g : read(store, n.getWeight()))
          ASSERT_EQ(g, 1.0f);
      });
    });
    EXPECT_LT(error, 1e-4);
    RecordProperty(std::string("fold_") + c.name, llvm::formatv("{0:e2}", error).str());
  }
}

TEST(RotationEquivalenceTest, HadamardRotationKeepsTheLogits) {
  for (const Case &c : kCases)
    for (uint64_t seed : {0u, 5u}) {
      SCOPED_TRACE(std::string(c.name) + " seed " + std::to_string(seed));
      double error = equivalenceError(c, /*rotate=*/true, seed,
                                      [&](mlir::ModuleOp m, const WeightStore &) {
        // A tied table stays tied: embedding and lm_head read one rotated
        // handle. Untied, each has its own.
        tfm::EmbeddingOp emb;
        tfm::LmHeadOp head;
        m.walk([&](tfm::EmbeddingOp e) { emb = e; });
        m.walk([&](tfm::LmHeadOp h) { head = h; });
        auto name = [](mlir::Value v) {
          return v.getDefiningOp<tfm::WeightOp>().getName().str();
        };
        EXPECT_EQ(name(emb.getTable()), "model.embed_tokens.weight.rot");
        EXPECT_EQ(name(head.getWeight()),
                  c.tied ? "model.embed_tokens.weight.fold.rot" : "lm_head.weight.fold.rot");
      });
      EXPECT_LT(error, 1e-4);
      RecordProperty(std::string("rotate_") + c.name + "_seed" + std::to_string(seed),
                     llvm::formatv("{0:e2}", error).str());
    }
}

// The rotation changes the weights, not only their names: an untouched
// residual stream would pass the equivalence check trivially.
TEST(RotationEquivalenceTest, RotationMovesEveryWeight) {
  Case c = kCases[3];
  equivalenceError(c, /*rotate=*/true, 0, [&](mlir::ModuleOp m, const WeightStore &store) {
    m.walk([&](tfm::WeightOp w) {
      llvm::StringRef name = w.getName();
      if (name.ends_with(".fold") && name.contains("norm"))
        return; // the norms hold ones
      EXPECT_TRUE(name.ends_with(".rot")) << name.str();
      std::string original = name.split(".fold").first.split(".rot").first.str();
      if (!store.contains(original))
        return;
      mlir::FailureOr<WeightMatrix> a = readWeight(store, name, w.getLoc());
      mlir::FailureOr<WeightMatrix> b = readWeight(store, original, w.getLoc());
      ASSERT_TRUE(mlir::succeeded(a) && mlir::succeeded(b));
      double diff = 0;
      for (size_t i = 0; i < a->values.size(); ++i)
        diff = std::max(diff, std::fabs(double(a->values[i]) - b->values[i]));
      EXPECT_GT(diff, 1e-2) << name.str();
    });
  });
}

// A writer's bias moves with its rows: b Q, as each column of W does. The
// reference model has no biases, so the values are checked against Q.
TEST(RotationEquivalenceTest, WriterBiasesRotateWithTheirColumns) {
  const LlamaShape s = kCases[3].shape; // hidden 96 = 32 x 3
  std::string src = llamaSource(s, /*tied=*/false);
  const std::string o = "  %o0 = tfm.linear %a0, %wo0 : tensor<?x96xf32>, tensor<96x96xf16>";
  size_t at = src.find(o);
  ASSERT_NE(at, std::string::npos);
  src.replace(at, o.size(),
              "  %bo0 = tfm.weight \"model.layers.0.self_attn.o_proj.bias\" : tensor<96xf16>\n"
              "  %o0 = tfm.linear %a0, %wo0, %bo0 : tensor<?x96xf32>, tensor<96x96xf16>, "
              "tensor<96xf16>");
  mlir::MLIRContext context;
  loadPipelineDialects(context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(src, &context);
  ASSERT_TRUE(module);
  WeightStore store;
  storeWeights(store, s, rt::test::randomLlamaWeights(s, 3), false);
  std::vector<float> bias(96);
  for (int i = 0; i < 96; ++i)
    bias[i] = 0.01f * (i - 40);
  addF16(store, "model.layers.0.self_attn.o_proj.bias", {96}, bias.data());
  WeightContext weights(store);
  WeightContext::attach(&context, &weights);
  mlir::PassManager pm(&context);
  pm.addPass(createFoldNorms());
  RotateOptions options;
  options.seed = 4;
  pm.addPass(createRotate(options));
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  WeightContext::attach(&context, nullptr);

  tfm::LinearOp oProj;
  module->walk([&](tfm::LinearOp l) {
    if (l.getBias())
      oProj = l;
  });
  ASSERT_TRUE(oProj);
  auto handle = oProj.getBias().getDefiningOp<tfm::WeightOp>();
  EXPECT_EQ(handle.getName(), "model.layers.0.self_attn.o_proj.bias.rot");
  quant::HadamardRotation q = llvm::cantFail(quant::HadamardRotation::create(96, 4));
  std::vector<double> expected(bias.begin(), bias.end());
  for (double &x : expected) // the bias as stored: f16
    x = rt::halfToFloat(rt::floatToHalf(static_cast<float>(x)));
  q.apply(expected);
  std::vector<float> got = read(store, oProj.getBias());
  ASSERT_EQ(got.size(), 96u);
  for (int i = 0; i < 96; ++i)
    EXPECT_NEAR(got[i], expected[i], 1e-6) << i;
  // And column 0 of the weight likewise.
  std::vector<float> w0 = read(store, oProj.getWeight());
  mlir::FailureOr<WeightMatrix> orig =
      readWeight(store, "model.layers.0.self_attn.o_proj.weight", handle.getLoc());
  ASSERT_TRUE(mlir::succeeded(orig));
  std::vector<double> column(96);
  for (int r = 0; r < 96; ++r)
    column[r] = orig->values[r * 96];
  q.apply(column);
  for (int r = 0; r < 96; ++r)
    EXPECT_NEAR(w0[r * 96], column[r], 1e-6) << r;
}

} // namespace
