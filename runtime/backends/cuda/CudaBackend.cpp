//===- CudaBackend.cpp - Run an artifact's plan with its PTX kernels ------===//
//
// prepare(): picks the artifact's kernels for the device's sm_XX target,
// JIT-loads them (ModuleCache keeps the SASS on disk), uploads the weights,
// allocates the f16 activation slots [maxTokensPerCall, width] and the
// KV pool (per layer K and V, [block, kv_head, slot, head_dim], or int8
// [block, kv_head] pages).
//
// forward(): one stream. The batch arrays go up in one async copy, every
// step launches its kernel by qtc/rt/KernelAbi.h, the logits rows come back
// as f16 and are widened to f32. forwardGreedy() instead launches the
// artifact's argmax_rows kernel on the logits slot and copies back one i32
// id per row (without that kernel it picks the ids from the f16 logits on
// the host, by the same rule). Decode-only batches replay a CUDA graph of
// the step launches (and of the argmax, when greedy), captured once per
// (tokens, logit rows, block-table width, greedy); QTC_CUDA_GRAPHS=0 turns
// that off. QTC_CUDA_PROFILE=1 times every step with events and prints a
// per-kind summary when the backend is destroyed.
//
//===----------------------------------------------------------------------===//

#include "BatchUpload.h"
#include "CudaDriver.h"
#include "CudaKvSupport.h"
#include "DeviceMemory.h"
#include "DeviceWeights.h"
#include "ModuleCache.h"

#include "qtc/rt/Artifact.h"
#include "qtc/rt/Backend.h"
#include "qtc/rt/BatchValidation.h"
#include "qtc/rt/Float16.h"
#include "qtc/rt/GreedyArgmax.h"
#include "qtc/rt/KernelAbi.h"
#include "qtc/rt/KvMemory.h"
#include "qtc/rt/QuantizedRows.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

namespace qtc::rt {
namespace {

namespace abi = rt::abi;
using cuda::DeviceMemory;
using cuda::DriverApi;

#define QTC_SAME_KIND(name)                                                    \
  static_assert(static_cast<uint16_t>(fb::StepKind::name) ==                   \
                    static_cast<uint16_t>(abi::KernelFamily::name),            \
                "KernelFamily must mirror fb::StepKind");
QTC_SAME_KIND(Embedding)
QTC_SAME_KIND(RmsNorm)
QTC_SAME_KIND(Linear)
QTC_SAME_KIND(RopeKvAppend)
QTC_SAME_KIND(Attention)
QTC_SAME_KIND(SwiGlu)
QTC_SAME_KIND(Add)
QTC_SAME_KIND(GatherRows)
QTC_SAME_KIND(QuantizeRows)
#undef QTC_SAME_KIND

bool envFlag(const char *name, bool fallback) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    return fallback;
  return std::strcmp(v, "0") != 0;
}

struct LoadedKernel {
  CUfunction function = nullptr;
  abi::KernelTile tile;
  std::string name;
};

struct PreparedStep {
  fb::StepKind kind = fb::StepKind::Add;
  std::vector<int> inputs, outputs;
  int layer = -1;
  CUdeviceptr weights[4] = {0, 0, 0, 0};
  const LoadedKernel *kernel = nullptr;
  const LoadedKernel *decodeKernel = nullptr;
};

class CudaBackend final : public Backend {
public:
  explicit CudaBackend(const DriverApi &api) : api_(api) {}
  ~CudaBackend() override;
  std::string name() const override { return "cuda"; }
  Status prepare(const Artifact &artifact, const BackendOptions &options) override;
  Status forward(const BatchView &batch, std::vector<float> &logits) override;
  Status forwardGreedy(const BatchView &batch, std::vector<int32_t> &ids) override;
  Status copyKvBlock(int srcBlock, int dstBlock) override;

private:
  Status openDevice(int ordinal);
  Status loadKernels(const Artifact &artifact);
  Status allocateBuffers(const Artifact &artifact);
  Status runSteps(const BatchView &batch);
  Status launch(const PreparedStep &step, const BatchView &batch);
  // Checks and uploads `batch` and queues its steps, then (greedy) the
  // argmax over the logits slot; nothing is synchronized.
  Status enqueue(const BatchView &batch, bool greedy);
  Status launchArgmax(const BatchView &batch);
  Status runWithGraph(const BatchView &batch, bool greedy);
  void dropGraphs();

  CUdeviceptr slot(int index) const { return slots_.get() + slotOffsets_[index]; }
  // Per layer the K blocks, then the V blocks (int8 pages of keys and
  // values differ in size when only one has zeros).
  CUdeviceptr kCache(int layer) const {
    return kv_.get() + layer * (kBlockBytes_ + vBlockBytes_) * options_.numKvBlocks;
  }
  CUdeviceptr vCache(int layer) const {
    return kCache(layer) + kBlockBytes_ * options_.numKvBlocks;
  }

  const DriverApi &api_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
  std::string target_;
  std::unique_ptr<cuda::ModuleCache> modules_;

  const Artifact *artifact_ = nullptr;
  BackendOptions options_;
  BatchLimits limits_;
  std::map<int, LoadedKernel> kernels_; // by Artifact.kernels index
  std::vector<PreparedStep> steps_;
  cuda::DeviceWeights weights_;
  DeviceMemory slots_;
  std::vector<size_t> slotOffsets_;
  std::vector<int> slotWidths_;
  std::vector<int> slotRows_;
  DeviceMemory kv_;
  // One block of one layer's keys / values, all kv heads.
  size_t kBlockBytes_ = 0, vBlockBytes_ = 0;
  int numLayers_ = 0, numKvHeads_ = 0;
  cuda::BatchUpload batch_;
  cuda::PinnedMemory logitsHost_;
  // Greedy sampling: the artifact's argmax_rows kernel for this target (null
  // when it has none) and its [maxTokensPerCall] i32 output, on both sides.
  const LoadedKernel *argmaxKernel_ = nullptr;
  DeviceMemory greedyIds_;
  cuda::PinnedMemory greedyIdsHost_;

  bool useGraphs_ = true;
  // By (tokens, logit rows, block-table width, greedy).
  std::map<std::tuple<int, int, int, bool>, CUgraphExec> graphs_;

  bool profile_ = false;
  std::map<std::string, std::pair<double, long>> profileMs_; // kernel -> (ms, calls)
};

CudaBackend::~CudaBackend() {
  if (context_)
    api_.cuCtxSetCurrent(context_);
  if (stream_)
    api_.cuStreamSynchronize(stream_);
  dropGraphs();
  if (profile_ && !profileMs_.empty()) {
    std::fprintf(stderr, "qtc cuda backend: time per kernel (QTC_CUDA_PROFILE)\n");
    for (const auto &[name, entry] : profileMs_)
      std::fprintf(stderr, "  %10.3f ms %8ld calls %8.2f us/call  %s\n", entry.first,
                   entry.second, 1e3 * entry.first / entry.second, name.c_str());
  }
  // Device memory and modules must go before the context is released.
  modules_.reset();
  slots_ = DeviceMemory();
  kv_ = DeviceMemory();
  weights_ = cuda::DeviceWeights();
  batch_ = cuda::BatchUpload();
  logitsHost_ = cuda::PinnedMemory();
  greedyIds_ = DeviceMemory();
  greedyIdsHost_ = cuda::PinnedMemory();
  if (stream_)
    api_.cuStreamDestroy(stream_);
  if (context_)
    api_.cuDevicePrimaryCtxRelease(device_);
}

void CudaBackend::dropGraphs() {
  for (auto &[key, exec] : graphs_)
    api_.cuGraphExecDestroy(exec);
  graphs_.clear();
}

Status CudaBackend::openDevice(int ordinal) {
  int count = 0;
  QTC_CU(api_, cuDeviceGetCount(&count));
  if (ordinal < 0 || ordinal >= count)
    return invalidArgument("cuda backend: device " + std::to_string(ordinal) + " requested, " +
                           std::to_string(count) + " present");
  QTC_CU(api_, cuDeviceGet(&device_, ordinal));
  QTC_CU(api_, cuDevicePrimaryCtxRetain(&context_, device_));
  QTC_CU(api_, cuCtxSetCurrent(context_));
  QTC_CU(api_, cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING));
  int major = 0, minor = 0;
  QTC_CU(api_, cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_));
  QTC_CU(api_, cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_));
  target_ = "sm_" + std::to_string(major) + std::to_string(minor);
  StatusOr<std::string> key = cuda::ModuleCache::deviceKey(api_, device_);
  if (!key.isOk())
    return key.status();
  modules_ = std::make_unique<cuda::ModuleCache>(api_, *key,
                                                 cuda::ModuleCache::defaultCacheDir());
  return Status::ok();
}

Status CudaBackend::loadKernels(const Artifact &artifact) {
  const fb::Artifact &root = artifact.root();
  int targetIndex = -1;
  std::string available;
  if (root.targets())
    for (unsigned i = 0; i < root.targets()->size(); ++i) {
      std::string t = root.targets()->Get(i)->str();
      available += (available.empty() ? "" : ", ") + t;
      if (t == target_)
        targetIndex = static_cast<int>(i);
    }
  if (targetIndex < 0)
    return failedPrecondition("artifact has no kernels for this GPU (" + target_ +
                              "); it targets: " + (available.empty() ? "none" : available));

  auto kernelAt = [&](const flatbuffers::Vector<int32_t> *ids, int stepIndex,
                      bool optional) -> StatusOr<const LoadedKernel *> {
    int id = ids && static_cast<int>(ids->size()) > targetIndex ? ids->Get(targetIndex) : -1;
    if (id < 0) {
      if (optional)
        return static_cast<const LoadedKernel *>(nullptr);
      return failedPrecondition("step " + std::to_string(stepIndex) + " (" +
                                stepKindName(root.plan()->steps()->Get(stepIndex)->kind()) +
                                ") has no kernel for " + target_);
    }
    auto it = kernels_.find(id);
    if (it != kernels_.end())
      return &it->second;
    const fb::Kernel *k = root.kernels()->Get(id);
    StatusOr<CUmodule> module = modules_->load(k->ptx()->str(), k->name()->str());
    if (!module.isOk())
      return module.status();
    LoadedKernel loaded;
    loaded.name = k->name()->str();
    QTC_CU(api_, cuModuleGetFunction(&loaded.function, *module, loaded.name.c_str()));
    loaded.tile.blockX = k->block_x();
    loaded.tile.blockY = k->block_y();
    loaded.tile.sharedBytes = k->shared_bytes();
    loaded.tile.tileM = k->tile_m();
    loaded.tile.tileN = k->tile_n();
    loaded.tile.splitK = k->split_k();
    loaded.tile.programmaticLaunch = k->programmatic_launch();
    if (loaded.tile.blockX <= 0 || loaded.tile.tileM <= 0 || loaded.tile.tileN <= 0)
      return dataLoss("kernel '" + loaded.name + "' has invalid launch constants");
    if (loaded.tile.sharedBytes > 48 * 1024)
      QTC_CU(api_, cuFuncSetAttribute(loaded.function,
                                      CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                      loaded.tile.sharedBytes));
    return &kernels_.emplace(id, std::move(loaded)).first->second;
  };

  const fb::Plan &plan = artifact.plan();
  kernels_.clear();
  steps_.clear();
  argmaxKernel_ = nullptr;
  for (unsigned i = 0; i < plan.steps()->size(); ++i) {
    const fb::Step *step = plan.steps()->Get(i);
    PreparedStep p;
    p.kind = step->kind();
    if (step->inputs())
      p.inputs.assign(step->inputs()->begin(), step->inputs()->end());
    if (step->outputs())
      p.outputs.assign(step->outputs()->begin(), step->outputs()->end());
    p.layer = step->layer();
    if (step->weights())
      for (unsigned w = 0; w < step->weights()->size() && w < 4; ++w)
        p.weights[w] = weights_.address(step->weights()->Get(w));
    StatusOr<const LoadedKernel *> k = kernelAt(step->kernel_ids(), static_cast<int>(i), false);
    if (!k.isOk())
      return k.status();
    p.kernel = *k;
    StatusOr<const LoadedKernel *> d =
        kernelAt(step->decode_kernel_ids(), static_cast<int>(i), true);
    if (!d.isOk())
      return d.status();
    p.decodeKernel = *d ? *d : *k;
    steps_.push_back(std::move(p));
  }
  // Optional: without it forwardGreedy picks ids from the logits on the host.
  // (The step index only names a required kernel in errors.)
  StatusOr<const LoadedKernel *> argmax =
      kernelAt(plan.argmax_kernel_ids(), /*stepIndex=*/-1, /*optional=*/true);
  if (!argmax.isOk())
    return argmax.status().withContext("the argmax_rows kernel");
  argmaxKernel_ = *argmax;
  return Status::ok();
}

Status CudaBackend::allocateBuffers(const Artifact &artifact) {
  const fb::Plan &plan = artifact.plan();
  const fb::ModelConfig &config = artifact.config();
  const fb::KvCacheSpec &kv = artifact.kvCache();

  size_t total = 0;
  slotOffsets_.clear();
  slotWidths_.clear();
  for (const fb::Slot *s : *plan.slots()) {
    slotOffsets_.push_back(total);
    slotWidths_.push_back(s->width());
    size_t bytes = static_cast<size_t>(options_.maxTokensPerCall) * s->width() * 2;
    if (s->activation() != fb::ActivationQuant::None)
      bytes = quantized_rows::slotBytes(options_.maxTokensPerCall, s->width());
    total += (bytes + 255) / 256 * 256;
  }
  StatusOr<DeviceMemory> slots = DeviceMemory::allocate(api_, total, "activation slots");
  if (!slots.isOk())
    return slots.status();
  slots_ = std::move(*slots);
  slotRows_.assign(slotWidths_.size(), 0);

  numLayers_ = kv.num_layers();
  numKvHeads_ = kv.num_kv_heads();
  // Elements [block, kv_head, slot, head_dim]; int8: [block, kv_head]
  // pages (qtc/rt/KvPage.h).
  if (kvIsInteger(kv.dtype())) {
    kBlockBytes_ = static_cast<size_t>(kv.num_kv_heads()) * kvPageLayout(kv, true).pageBytes;
    vBlockBytes_ = static_cast<size_t>(kv.num_kv_heads()) * kvPageLayout(kv, false).pageBytes;
  } else {
    kBlockBytes_ = vBlockBytes_ = static_cast<size_t>(kv.num_kv_heads()) * kv.block_size() *
                                  kv.head_dim() * kvElementBytes(kv.dtype());
  }
  StatusOr<DeviceMemory> pool = DeviceMemory::allocate(
      api_, (kBlockBytes_ + vBlockBytes_) * options_.numKvBlocks * numLayers_, "the KV cache");
  if (!pool.isOk())
    return pool.status();
  kv_ = std::move(*pool);
  // Unwritten slots are never read (attention stops at each token's
  // position), but zeroed memory keeps any such bug deterministic.
  QTC_CU(api_, cuMemsetD8Async(kv_.get(), 0, kv_.size(), stream_));

  limits_.maxTokens = options_.maxTokensPerCall;
  limits_.numKvBlocks = options_.numKvBlocks;
  limits_.blockSize = kv.block_size();
  limits_.vocabSize = config.vocab_size();
  limits_.maxPositions = config.max_positions();
  int maxBlocks = (config.max_positions() + kv.block_size() - 1) / kv.block_size();
  QTC_RT_RETURN_IF_ERROR(batch_.allocate(api_, options_.maxTokensPerCall, maxBlocks));
  StatusOr<cuda::PinnedMemory> logits = cuda::PinnedMemory::allocate(
      api_, static_cast<size_t>(options_.maxTokensPerCall) * config.vocab_size() * 2, "logits");
  if (!logits.isOk())
    return logits.status();
  logitsHost_ = std::move(*logits);
  const size_t idBytes = static_cast<size_t>(options_.maxTokensPerCall) * sizeof(int32_t);
  StatusOr<DeviceMemory> ids = DeviceMemory::allocate(api_, idBytes, "greedy token ids");
  if (!ids.isOk())
    return ids.status();
  greedyIds_ = std::move(*ids);
  StatusOr<cuda::PinnedMemory> idsHost =
      cuda::PinnedMemory::allocate(api_, idBytes, "greedy token ids");
  if (!idsHost.isOk())
    return idsHost.status();
  greedyIdsHost_ = std::move(*idsHost);
  QTC_CU(api_, cuStreamSynchronize(stream_));
  return Status::ok();
}

Status CudaBackend::prepare(const Artifact &artifact, const BackendOptions &options) {
  QTC_RT_RETURN_IF_ERROR(checkCudaKvCacheSupported(artifact.kvCache()));
  if (options.maxTokensPerCall <= 0)
    return invalidArgument("cuda backend: maxTokensPerCall must be positive");
  if (options.numKvBlocks <= 0)
    return invalidArgument("cuda backend: numKvBlocks must be positive");
  if (!context_)
    QTC_RT_RETURN_IF_ERROR(openDevice(options.deviceOrdinal));
  QTC_CU(api_, cuCtxSetCurrent(context_));
  dropGraphs();
  artifact_ = nullptr;
  options_ = options;
  useGraphs_ = envFlag("QTC_CUDA_GRAPHS", true);
  profile_ = envFlag("QTC_CUDA_PROFILE", false);
  QTC_RT_RETURN_IF_ERROR(weights_.upload(api_, artifact));
  QTC_RT_RETURN_IF_ERROR(loadKernels(artifact));
  QTC_RT_RETURN_IF_ERROR(allocateBuffers(artifact));
  artifact_ = &artifact;
  return Status::ok();
}

Status CudaBackend::launch(const PreparedStep &step, const BatchView &batch) {
  const LoadedKernel &k = batch.decodeOnly ? *step.decodeKernel : *step.kernel;
  const int in0 = step.inputs.empty() ? -1 : step.inputs[0];
  const int out0 = step.outputs.empty() ? -1 : step.outputs[0];
  int rows = in0 >= 0 ? slotRows_[in0] : batch.numTokens;
  std::vector<CUdeviceptr> pointers;
  std::vector<int> ints;
  abi::LaunchExtent extent;
  switch (step.kind) {
  case fb::StepKind::Embedding:
    rows = batch.numTokens;
    pointers = {step.weights[0], batch_.ids(), slot(out0)};
    break;
  case fb::StepKind::RmsNorm:
    pointers = {slot(in0), step.weights[0], slot(out0)};
    break;
  case fb::StepKind::Linear:
    pointers = {slot(in0), step.weights[0], step.weights[1], step.weights[2], step.weights[3],
                step.inputs.size() > 1 ? slot(step.inputs[1]) : 0, slot(out0)};
    extent.outFeatures = slotWidths_[out0];
    break;
  case fb::StepKind::RopeKvAppend:
    pointers = {slot(in0), kCache(step.layer), vCache(step.layer), batch_.positions(),
                batch_.tokenSeq(), batch_.blockTables()};
    ints = {batch.maxBlocksPerSeq};
    break;
  case fb::StepKind::Attention:
    pointers = {slot(in0), kCache(step.layer), vCache(step.layer), batch_.positions(),
                batch_.tokenSeq(), batch_.blockTables(), slot(out0)};
    ints = {batch.maxBlocksPerSeq};
    extent.numKvHeads = numKvHeads_;
    break;
  case fb::StepKind::SwiGlu:
    pointers = {slot(in0), slot(out0)};
    break;
  case fb::StepKind::Add:
    pointers = {slot(in0), slot(step.inputs[1]), slot(out0)};
    break;
  case fb::StepKind::QuantizeRows:
    pointers = {slot(in0), slot(out0)};
    break;
  case fb::StepKind::GatherRows:
    rows = batch.numLogitRows;
    pointers = {slot(in0), batch_.logitRows(), slot(out0)};
    break;
  }
  if (out0 >= 0)
    slotRows_[out0] = rows;
  extent.numRows = rows;
  abi::LaunchDims dims = abi::launchDims(static_cast<abi::KernelFamily>(step.kind), k.tile, extent);
  if (dims.empty())
    return Status::ok();

  // Kernel parameters in KernelAbi order: pointers, the row count, then the
  // kind's other integers.
  std::vector<int> scalars = {rows};
  scalars.insert(scalars.end(), ints.begin(), ints.end());
  std::vector<void *> params;
  for (CUdeviceptr &p : pointers)
    params.push_back(&p);
  for (int &v : scalars)
    params.push_back(&v);
  if (static_cast<int>(params.size()) !=
      abi::paramCount(static_cast<abi::KernelFamily>(step.kind)))
    return internalError("cuda backend: kernel '" + k.name + "' takes " +
                         std::to_string(abi::paramCount(static_cast<abi::KernelFamily>(step.kind))) +
                         " parameters, prepared " + std::to_string(params.size()));

  CUevent before = nullptr, after = nullptr;
  if (profile_ && graphs_.empty()) {
    QTC_CU(api_, cuEventCreate(&before, CU_EVENT_DEFAULT));
    QTC_CU(api_, cuEventCreate(&after, CU_EVENT_DEFAULT));
    QTC_CU(api_, cuEventRecord(before, stream_));
  }
  Status s = cuda::checkCuda(
      api_,
      cuda::launchKernel(api_, k.function, dims, stream_, params.data()), "cuLaunchKernel");
  if (!s.isOk())
    return s.withContext("launching " + k.name);
  if (before) {
    float ms = 0;
    QTC_CU(api_, cuEventRecord(after, stream_));
    QTC_CU(api_, cuEventSynchronize(after));
    QTC_CU(api_, cuEventElapsedTime(&ms, before, after));
    auto &entry = profileMs_[k.name];
    entry.first += ms;
    entry.second += 1;
    api_.cuEventDestroy(before);
    api_.cuEventDestroy(after);
  }
  return Status::ok();
}

Status CudaBackend::runSteps(const BatchView &batch) {
  for (const PreparedStep &step : steps_)
    QTC_RT_RETURN_IF_ERROR(launch(step, batch));
  return Status::ok();
}

// ids[r] = argmax of logits row r, by KernelAbi.h's argmax_rows list.
Status CudaBackend::launchArgmax(const BatchView &batch) {
  if (!argmaxKernel_)
    return internalError("cuda backend: no argmax_rows kernel to launch");
  const LoadedKernel &k = *argmaxKernel_;
  abi::LaunchExtent extent;
  extent.numRows = batch.numLogitRows;
  abi::LaunchDims dims = abi::launchDims(abi::KernelFamily::ArgmaxRows, k.tile, extent);
  if (dims.empty())
    return Status::ok();
  CUdeviceptr logits = slot(artifact_->plan().logits_slot());
  CUdeviceptr ids = greedyIds_.get();
  int rows = batch.numLogitRows;
  void *params[abi::argmax_rows::kCount];
  params[abi::argmax_rows::kX] = &logits;
  params[abi::argmax_rows::kIds] = &ids;
  params[abi::argmax_rows::kNumRows] = &rows;
  static_assert(abi::argmax_rows::kCount == 3, "argmax_rows parameters changed");

  // QTC_CUDA_PROFILE times the launch with events (profiling runs without
  // graphs, see enqueue); the events are destroyed on every path.
  CUevent before = nullptr, after = nullptr;
  auto destroyEvents = [&] {
    if (before)
      api_.cuEventDestroy(before);
    if (after)
      api_.cuEventDestroy(after);
  };
  Status s = Status::ok();
  if (profile_) {
    s = cuda::checkCuda(api_, api_.cuEventCreate(&before, CU_EVENT_DEFAULT), "cuEventCreate");
    if (s.isOk())
      s = cuda::checkCuda(api_, api_.cuEventCreate(&after, CU_EVENT_DEFAULT), "cuEventCreate");
    if (s.isOk())
      s = cuda::checkCuda(api_, api_.cuEventRecord(before, stream_), "cuEventRecord");
  }
  if (s.isOk())
    s = cuda::checkCuda(
        api_,
        cuda::launchKernel(api_, k.function, dims, stream_, params), "cuLaunchKernel");
  float ms = 0;
  if (s.isOk() && profile_) {
    s = cuda::checkCuda(api_, api_.cuEventRecord(after, stream_), "cuEventRecord");
    if (s.isOk())
      s = cuda::checkCuda(api_, api_.cuEventSynchronize(after), "cuEventSynchronize");
    if (s.isOk())
      s = cuda::checkCuda(api_, api_.cuEventElapsedTime(&ms, before, after),
                          "cuEventElapsedTime");
    if (s.isOk()) {
      auto &entry = profileMs_[k.name];
      entry.first += ms;
      entry.second += 1;
    }
  }
  destroyEvents();
  return s.isOk() ? s : s.withContext("launching " + k.name);
}

Status CudaBackend::runWithGraph(const BatchView &batch, bool greedy) {
  auto key = std::make_tuple(batch.numTokens, batch.numLogitRows, batch.maxBlocksPerSeq, greedy);
  auto it = graphs_.find(key);
  if (it == graphs_.end()) {
    if (graphs_.size() >= 64)
      dropGraphs();
    CUgraph graph = nullptr;
    QTC_CU(api_, cuStreamBeginCapture(stream_, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    Status captured = runSteps(batch);
    if (captured.isOk() && greedy)
      captured = launchArgmax(batch);
    CUresult ended = api_.cuStreamEndCapture(stream_, &graph);
    QTC_RT_RETURN_IF_ERROR(captured);
    QTC_RT_RETURN_IF_ERROR(cuda::checkCuda(api_, ended, "cuStreamEndCapture"));
    CUgraphExec exec = nullptr;
    CUresult made = api_.cuGraphInstantiate(&exec, graph, 0);
    api_.cuGraphDestroy(graph);
    QTC_RT_RETURN_IF_ERROR(cuda::checkCuda(api_, made, "cuGraphInstantiate"));
    it = graphs_.emplace(key, exec).first;
  }
  QTC_CU(api_, cuGraphLaunch(it->second, stream_));
  return Status::ok();
}

Status CudaBackend::enqueue(const BatchView &batch, bool greedy) {
  if (!artifact_)
    return failedPrecondition("cuda backend: forward before prepare");
  QTC_RT_RETURN_IF_ERROR(validateBatch(batch, limits_));
  QTC_CU(api_, cuCtxSetCurrent(context_));
  bool moved = false;
  QTC_RT_RETURN_IF_ERROR(batch_.reserve(api_, batch, moved));
  if (moved)
    dropGraphs();
  QTC_RT_RETURN_IF_ERROR(batch_.upload(api_, batch, stream_));
  if (batch.decodeOnly && useGraphs_ && !profile_)
    return runWithGraph(batch, greedy);
  QTC_RT_RETURN_IF_ERROR(runSteps(batch));
  return greedy ? launchArgmax(batch) : Status::ok();
}

Status CudaBackend::forward(const BatchView &batch, std::vector<float> &logits) {
  QTC_RT_RETURN_IF_ERROR(enqueue(batch, /*greedy=*/false));
  const int vocab = artifact_->config().vocab_size();
  const size_t count = static_cast<size_t>(batch.numLogitRows) * vocab;
  if (count > 0)
    QTC_CU(api_, cuMemcpyDtoHAsync(logitsHost_.get(), slot(artifact_->plan().logits_slot()),
                                   count * 2, stream_));
  QTC_CU(api_, cuStreamSynchronize(stream_));
  const uint16_t *halves = static_cast<const uint16_t *>(logitsHost_.get());
  logits.resize(count);
  for (size_t i = 0; i < count; ++i)
    logits[i] = halfToFloat(halves[i]);
  return Status::ok();
}

Status CudaBackend::forwardGreedy(const BatchView &batch, std::vector<int32_t> &ids) {
  if (!argmaxKernel_) {
    // No argmax kernel for this target: the same rule over the f16 logits
    // (widened exactly), on the host.
    std::vector<float> logits;
    QTC_RT_RETURN_IF_ERROR(forward(batch, logits));
    const int vocab = artifact_->config().vocab_size();
    ids.resize(static_cast<size_t>(batch.numLogitRows));
    for (int r = 0; r < batch.numLogitRows; ++r)
      ids[r] = greedyArgmax(logits.data() + static_cast<size_t>(r) * vocab, vocab);
    return Status::ok();
  }
  QTC_RT_RETURN_IF_ERROR(enqueue(batch, /*greedy=*/true));
  const size_t rows = static_cast<size_t>(batch.numLogitRows);
  if (rows > 0)
    QTC_CU(api_, cuMemcpyDtoHAsync(greedyIdsHost_.get(), greedyIds_.get(), rows * sizeof(int32_t),
                                   stream_));
  QTC_CU(api_, cuStreamSynchronize(stream_));
  const int32_t *picked = static_cast<const int32_t *>(greedyIdsHost_.get());
  const int vocab = artifact_->config().vocab_size();
  ids.assign(picked, picked + rows);
  for (size_t r = 0; r < rows; ++r)
    if (ids[r] < 0 || ids[r] >= vocab)
      return internalError("cuda backend: " + argmaxKernel_->name + " gave token " +
                           std::to_string(ids[r]) + " for logit row " + std::to_string(r) +
                           ", outside the vocabulary of " + std::to_string(vocab));
  return Status::ok();
}

Status CudaBackend::copyKvBlock(int srcBlock, int dstBlock) {
  if (!artifact_)
    return failedPrecondition("cuda backend: copyKvBlock before prepare");
  if (srcBlock < 0 || srcBlock >= options_.numKvBlocks || dstBlock < 0 ||
      dstBlock >= options_.numKvBlocks)
    return invalidArgument("copyKvBlock(" + std::to_string(srcBlock) + ", " +
                           std::to_string(dstBlock) + ") outside the " +
                           std::to_string(options_.numKvBlocks) + " blocks");
  if (srcBlock == dstBlock)
    return Status::ok();
  QTC_CU(api_, cuCtxSetCurrent(context_));
  for (int layer = 0; layer < numLayers_; ++layer)
    for (auto [base, bytes] : {std::pair{kCache(layer), kBlockBytes_},
                               std::pair{vCache(layer), vBlockBytes_}})
      QTC_CU(api_, cuMemcpyDtoDAsync(base + dstBlock * bytes, base + srcBlock * bytes, bytes,
                                     stream_));
  QTC_CU(api_, cuStreamSynchronize(stream_));
  return Status::ok();
}

} // namespace

StatusOr<std::unique_ptr<Backend>> createCudaBackend() {
  StatusOr<const cuda::DriverApi *> api = cuda::loadDriver();
  if (!api.isOk())
    return api.status();
  return std::unique_ptr<Backend>(new CudaBackend(**api));
}

} // namespace qtc::rt
