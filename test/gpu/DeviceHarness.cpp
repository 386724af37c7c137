//===- DeviceHarness.cpp - Run single generated kernels on the GPU --------===//

#include "DeviceHarness.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

using qtc::rt::Status;
using qtc::rt::StatusOr;

namespace qtc::gpu {

std::string ManifestEntry::get(const std::string &key) const {
  auto it = fields.find(key);
  return it == fields.end() ? std::string() : it->second;
}
long long ManifestEntry::getInt(const std::string &key) const {
  std::string v = get(key);
  return v.empty() ? 0 : std::stoll(v);
}
double ManifestEntry::getDouble(const std::string &key) const {
  std::string v = get(key);
  return v.empty() ? 0.0 : std::stod(v);
}
rt::abi::KernelTile ManifestEntry::tile() const {
  rt::abi::KernelTile t;
  t.blockX = static_cast<int>(getInt("block_x"));
  t.blockY = 1;
  t.sharedBytes = static_cast<int>(getInt("shared_bytes"));
  t.tileM = static_cast<int>(getInt("tile_m"));
  t.tileN = static_cast<int>(getInt("tile_n"));
  t.splitK = static_cast<int>(getInt("split_k"));
  t.programmaticLaunch = getInt("programmatic") != 0;
  return t;
}

StatusOr<std::vector<ManifestEntry>> readManifest(const std::string &dir) {
  std::ifstream in(dir + "/manifest.txt");
  if (!in)
    return rt::notFound("cannot read " + dir + "/manifest.txt");
  std::vector<ManifestEntry> entries;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    ManifestEntry e;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      size_t eq = word.find('=');
      if (eq != std::string::npos)
        e.fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

StatusOr<std::unique_ptr<DeviceHarness>> DeviceHarness::create() {
  StatusOr<const rt::cuda::DriverApi *> api = rt::cuda::loadDriver();
  if (!api.isOk())
    return api.status();
  std::unique_ptr<DeviceHarness> h(new DeviceHarness(**api));
  const rt::cuda::DriverApi &d = **api;
  QTC_CU(d, cuDeviceGet(&h->device_, 0));
  QTC_CU(d, cuDevicePrimaryCtxRetain(&h->context_, h->device_));
  QTC_CU(d, cuCtxSetCurrent(h->context_));
  QTC_CU(d, cuStreamCreate(&h->stream_, CU_STREAM_NON_BLOCKING));
  QTC_CU(d, cuDeviceGetAttribute(&h->l2Bytes_, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, h->device_));
  StatusOr<std::string> key = rt::cuda::ModuleCache::deviceKey(d, h->device_);
  if (!key.isOk())
    return key.status();
  h->deviceKey_ = *key;
  h->modules_ = std::make_unique<rt::cuda::ModuleCache>(
      d, h->deviceKey_, rt::cuda::ModuleCache::defaultCacheDir());
  return h;
}

DeviceHarness::~DeviceHarness() {
  api_.cuCtxSynchronize();
  for (CUdeviceptr p : allocations_)
    api_.cuMemFree(p);
  modules_.reset();
  if (stream_)
    api_.cuStreamDestroy(stream_);
  if (context_)
    api_.cuDevicePrimaryCtxRelease(device_);
}

StatusOr<CUdeviceptr> DeviceHarness::alloc(size_t bytes, unsigned char fill) {
  CUdeviceptr p = 0;
  QTC_CU(api_, cuMemAlloc(&p, std::max<size_t>(bytes, 16)));
  allocations_.push_back(p);
  QTC_CU(api_, cuMemsetD8Async(p, fill, std::max<size_t>(bytes, 16), stream_));
  return p;
}

Status DeviceHarness::upload(CUdeviceptr dst, const void *src, size_t bytes) {
  QTC_CU(api_, cuStreamSynchronize(stream_));
  QTC_CU(api_, cuMemcpyHtoD(dst, src, bytes));
  return Status::ok();
}

Status DeviceHarness::download(void *dst, CUdeviceptr src, size_t bytes) {
  QTC_CU(api_, cuStreamSynchronize(stream_));
  QTC_CU(api_, cuMemcpyDtoH(dst, src, bytes));
  return Status::ok();
}

StatusOr<CUfunction> DeviceHarness::loadKernel(const std::string &ptxPath,
                                               const std::string &entry) {
  std::ifstream in(ptxPath, std::ios::binary);
  if (!in)
    return rt::notFound("cannot read " + ptxPath);
  std::string ptx((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  StatusOr<CUmodule> module = modules_->load(ptx, entry);
  if (!module.isOk())
    return module.status();
  CUfunction f = nullptr;
  QTC_CU(api_, cuModuleGetFunction(&f, *module, entry.c_str()));
  return f;
}

Status DeviceHarness::launch(CUfunction f, const rt::abi::LaunchDims &dims,
                             const std::vector<KernelArg> &args) {
  if (dims.empty())
    return Status::ok();
  // As the CUDA backend does at load: more than 48 KB of dynamic shared
  // memory must be allowed per function.
  int &limit = sharedLimits_[f];
  if (dims.sharedBytes > 48 * 1024 && limit < static_cast<int>(dims.sharedBytes)) {
    QTC_CU(api_, cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                    static_cast<int>(dims.sharedBytes)));
    limit = static_cast<int>(dims.sharedBytes);
  }
  std::vector<void *> params;
  params.reserve(args.size());
  for (const KernelArg &a : args)
    params.push_back(a.isPointer ? static_cast<void *>(const_cast<CUdeviceptr *>(&a.ptr))
                                 : static_cast<void *>(const_cast<int *>(&a.value)));
  return rt::cuda::checkCuda(
      api_, rt::cuda::launchKernel(api_, f, dims, stream_, params.data()), "cuLaunchKernel");
}

Status DeviceHarness::synchronize() {
  QTC_CU(api_, cuStreamSynchronize(stream_));
  return Status::ok();
}

StatusOr<float> DeviceHarness::time(const std::function<Status()> &work) {
  CUevent start = nullptr, stop = nullptr;
  QTC_CU(api_, cuEventCreate(&start, CU_EVENT_DEFAULT));
  QTC_CU(api_, cuEventCreate(&stop, CU_EVENT_DEFAULT));
  Status s = Status::ok();
  float ms = 0;
  auto run = [&]() -> Status {
    QTC_CU(api_, cuEventRecord(start, stream_));
    QTC_RT_RETURN_IF_ERROR(work());
    QTC_CU(api_, cuEventRecord(stop, stream_));
    QTC_CU(api_, cuEventSynchronize(stop));
    QTC_CU(api_, cuEventElapsedTime(&ms, start, stop));
    return Status::ok();
  };
  s = run();
  api_.cuEventDestroy(start);
  api_.cuEventDestroy(stop);
  if (!s.isOk())
    return s;
  return ms;
}

StatusOr<float> DeviceHarness::timeGraph(const std::function<Status()> &work,
                                         int reps) {
  CUgraph graph = nullptr;
  CUgraphExec exec = nullptr;
  QTC_CU(api_, cuStreamBeginCapture(stream_, CU_STREAM_CAPTURE_MODE_RELAXED));
  Status captured = work();
  CUresult ended = api_.cuStreamEndCapture(stream_, &graph);
  QTC_RT_RETURN_IF_ERROR(captured);
  QTC_RT_RETURN_IF_ERROR(rt::cuda::checkCuda(api_, ended, "cuStreamEndCapture"));
  Status s = rt::cuda::checkCuda(api_, api_.cuGraphInstantiate(&exec, graph, 0),
                                 "cuGraphInstantiate");
  std::vector<float> times;
  for (int i = 0; s.isOk() && i < reps + 2; ++i) {
    StatusOr<float> ms = time([&]() -> Status {
      QTC_CU(api_, cuGraphLaunch(exec, stream_));
      return Status::ok();
    });
    if (!ms.isOk())
      s = ms.status();
    else if (i >= 2) // warm-up
      times.push_back(*ms);
  }
  if (exec)
    api_.cuGraphExecDestroy(exec);
  api_.cuGraphDestroy(graph);
  if (!s.isOk())
    return s;
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

StatusOr<double> DeviceHarness::copyBandwidth(size_t bytes, int reps) {
  StatusOr<CUdeviceptr> src = alloc(bytes, 0x3C), dst = alloc(bytes, 0);
  if (!src.isOk())
    return src.status();
  if (!dst.isOk())
    return dst.status();
  std::vector<double> gbps;
  for (int i = 0; i < reps + 2; ++i) {
    StatusOr<float> ms = time([&]() -> Status {
      QTC_CU(api_, cuMemcpyDtoDAsync(*dst, *src, bytes, stream_));
      return Status::ok();
    });
    if (!ms.isOk())
      return ms.status();
    if (i >= 2) // warm-up
      gbps.push_back(2.0 * static_cast<double>(bytes) / (*ms * 1e-3) / 1e9);
  }
  std::sort(gbps.begin(), gbps.end());
  return gbps[gbps.size() / 2];
}

} // namespace qtc::gpu
