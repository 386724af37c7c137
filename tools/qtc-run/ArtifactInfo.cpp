//===- ArtifactInfo.cpp - qtc-run --info: what an artifact holds ----------===//

#include "RunCommands.h"

#include "KvCacheReport.h"

#include "qtc/rt/Artifact.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace qtc::run {

namespace fb = rt::fb;
using nlohmann::json;

namespace {

std::string str(const flatbuffers::String *s) { return s ? s->str() : std::string(); }

json configJson(const fb::ModelConfig &c) {
  return {{"architecture", str(c.architecture())},
          {"vocab_size", c.vocab_size()},
          {"hidden_size", c.hidden_size()},
          {"num_layers", c.num_layers()},
          {"num_heads", c.num_heads()},
          {"num_kv_heads", c.num_kv_heads()},
          {"head_dim", c.head_dim()},
          {"intermediate_size", c.intermediate_size()},
          {"max_positions", c.max_positions()},
          {"rms_norm_eps", c.rms_norm_eps()},
          {"rope_theta", c.rope_theta()}};
}

} // namespace

rt::Status runInfo(const rt::Artifact &artifact, const RunOptions &options) {
  const fb::Artifact &root = artifact.root();
  json steps = json::array();
  for (const fb::Step *step : *root.plan()->steps())
    steps.push_back(rt::stepKindName(step->kind()));
  json targets = json::array();
  if (root.targets())
    for (const flatbuffers::String *t : *root.targets())
      targets.push_back(t->str());
  json kernels = json::array();
  if (root.kernels())
    for (const fb::Kernel *k : *root.kernels())
      kernels.push_back({{"name", str(k->name())},
                         {"target", str(k->target())},
                         {"programmatic_launch", k->programmatic_launch()}});
  // Plan.argmax_kernel_ids: target -> the kernel that picks greedy tokens on
  // the device (null: the backend picks them from the logits).
  json argmaxKernels = json::object();
  const auto *argmaxIds = root.plan()->argmax_kernel_ids();
  if (root.targets())
    for (unsigned t = 0; t < root.targets()->size(); ++t) {
      const int id = argmaxIds && t < argmaxIds->size() ? argmaxIds->Get(t) : -1;
      argmaxKernels[root.targets()->Get(t)->str()] =
          id >= 0 ? json(str(root.kernels()->Get(id)->name())) : json(nullptr);
    }
  json numerics = json::array();
  if (root.numerics())
    for (const fb::LayerNumerics *n : *root.numerics()) {
      json layer = {{"name", str(n->name())},
                    {"format", str(n->format())},
                    {"method", str(n->method())},
                    {"sqnr_db", n->sqnr_db()},
                    {"max_abs_error", n->max_abs_error()}};
      if (!std::isnan(n->output_sqnr_db()))
        layer["output_sqnr_db"] = n->output_sqnr_db();
      numerics.push_back(std::move(layer));
    }

  if (options.json) {
    json out = {{"mode", "info"},
                {"producer", str(root.producer())},
                {"recipe", str(root.recipe())},
                {"schema_version", root.schema_version()},
                {"file_bytes", artifact.fileSize()},
                {"weights_bytes", root.weights_size()},
                {"weights", weightsSource(artifact)},
                {"weights_file", root.weights_file() ? json(str(root.weights_file()->path()))
                                                     : json(nullptr)},
                {"dummy_weights", root.dummy_weights()},
                {"config", configJson(artifact.config())},
                {"steps", steps},
                {"targets", targets},
                {"kernels", kernels},
                {"argmax_kernels", argmaxKernels},
                {"kv_block_size", artifact.kvCache().block_size()},
                {"kv_dtype", fb::EnumNameKvDType(artifact.kvCache().dtype())},
                {"kv_cache", kvCacheJson(artifact.kvCache())},
                {"has_tokenizer", !artifact.tokenizerModel().empty()},
                {"numerics", numerics}};
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    return rt::Status::ok();
  }
  const fb::ModelConfig &c = artifact.config();
  std::printf("%s: %s, recipe %s, %.1f MB (weights %.1f MB)\n", artifact.name().c_str(),
              str(root.producer()).c_str(), str(root.recipe()).c_str(),
              artifact.fileSize() / 1e6, root.weights_size() / 1e6);
  // A --dummy-weights artifact opens with dummy weights only.
  if (artifact.dummyWeights())
    std::printf("weights: generated (--load-format dummy)%s\n",
                root.dummy_weights() ? "; the artifact holds none" : "");
  else if (root.weights_file())
    std::printf("weights: %s (size and checksum match)\n", artifact.weightsFilePath().c_str());
  std::printf("model: %s, vocab %d, hidden %d, %d layers, %d heads (%d KV) of %d, MLP %d\n",
              str(c.architecture()).c_str(), c.vocab_size(), c.hidden_size(), c.num_layers(),
              c.num_heads(), c.num_kv_heads(), c.head_dim(), c.intermediate_size());
  printKvCache(artifact.kvCache());
  std::printf("plan: %zu steps; kernels: %zu for %s\n", steps.size(), kernels.size(),
              targets.empty() ? "no GPU target (host only)" : targets.dump().c_str());
  for (const auto &[target, kernel] : argmaxKernels.items())
    std::printf("greedy sampling on %s: %s\n", target.c_str(),
                kernel.is_null() ? "from the logits on the host"
                                 : ("on the device, " + kernel.get<std::string>()).c_str());
  if (!numerics.empty()) {
    std::printf("%-48s %-16s %9s %10s\n", "quantized layer", "format", "SQNR dB", "max err");
    for (const json &n : numerics)
      std::printf("%-48s %-16s %9.2f %10.5f\n", n["name"].get<std::string>().c_str(),
                  n["format"].get<std::string>().c_str(), n["sqnr_db"].get<float>(),
                  n["max_abs_error"].get<float>());
  }
  return rt::Status::ok();
}

} // namespace qtc::run
