//===- ModuleCache.cpp - PTX to loaded modules, with a SASS cache on disk -===//

#include "ModuleCache.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace qtc::rt::cuda {
namespace {

// FNV-1a, 64 bit: a cache key, not a security boundary. Hand-written to keep
// the runtime free of a hashing dependency; the key also holds the PTX size.
uint64_t fnv1a(const std::string &text, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

bool readFile(const std::string &path, std::vector<char> &bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !bytes.empty();
}

// Written under a temporary name and renamed: a concurrent reader sees the
// old file or the whole new one.
void writeFileAtomically(const std::string &path, const std::vector<char> &bytes) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out)
      return;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
      return;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    std::remove(tmp.c_str());
}

} // namespace

ModuleCache::ModuleCache(const DriverApi &api, std::string deviceKey,
                         std::string cacheDir)
    : api_(api), deviceKey_(std::move(deviceKey)), cacheDir_(std::move(cacheDir)) {}

ModuleCache::~ModuleCache() {
  for (CUmodule m : modules_)
    api_.cuModuleUnload(m);
}

std::string ModuleCache::defaultCacheDir() {
  if (const char *dir = std::getenv("QTC_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/qtc";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/qtc";
  return "";
}

StatusOr<std::string> ModuleCache::deviceKey(const DriverApi &api, CUdevice device) {
  char name[256] = {};
  QTC_CU(api, cuDeviceGetName(name, sizeof(name) - 1, device));
  int major = 0, minor = 0, driver = 0;
  QTC_CU(api, cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
  QTC_CU(api, cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
  QTC_CU(api, cuDriverGetVersion(&driver));
  std::ostringstream key;
  key << name << " sm_" << major << minor << " driver " << driver;
  return key.str();
}

std::string ModuleCache::pathFor(const std::string &ptx) const {
  char name[64];
  std::snprintf(name, sizeof(name), "%016llx-%zx.cubin",
                static_cast<unsigned long long>(fnv1a(ptx, fnv1a(deviceKey_))),
                ptx.size());
  return cacheDir_ + "/" + name;
}

StatusOr<std::vector<char>> ModuleCache::compile(const std::string &ptx,
                                                 const std::string &what) {
  char errorLog[8192] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {errorLog, reinterpret_cast<void *>(sizeof(errorLog))};
  CUlinkState link = nullptr;
  QTC_CU(api_, cuLinkCreate(2, options, values, &link));
  auto fail = [&](CUresult r, const char *call) {
    Status s = checkCuda(api_, r, call);
    api_.cuLinkDestroy(link);
    return Status(s.code(), "JIT of kernel '" + what + "': " + s.message() +
                                (errorLog[0] ? std::string(": ") + errorLog : ""));
  };
  CUresult r = api_.cuLinkAddData(link, CU_JIT_INPUT_PTX,
                                  const_cast<char *>(ptx.c_str()), ptx.size() + 1,
                                  what.c_str(), 0, nullptr, nullptr);
  if (r != CUDA_SUCCESS)
    return fail(r, "cuLinkAddData");
  void *cubin = nullptr;
  size_t size = 0;
  r = api_.cuLinkComplete(link, &cubin, &size);
  if (r != CUDA_SUCCESS)
    return fail(r, "cuLinkComplete");
  // The image belongs to the link state: copy it out before destroying it.
  std::vector<char> image(static_cast<char *>(cubin), static_cast<char *>(cubin) + size);
  api_.cuLinkDestroy(link);
  return image;
}

StatusOr<CUmodule> ModuleCache::load(const std::string &ptx, const std::string &what) {
  std::string path = cacheDir_.empty() ? std::string() : pathFor(ptx);
  std::vector<char> image;
  CUmodule module = nullptr;
  if (!path.empty() && readFile(path, image) &&
      api_.cuModuleLoadData(&module, image.data()) == CUDA_SUCCESS) {
    ++hits_;
    modules_.push_back(module);
    return module;
  }
  ++misses_;
  StatusOr<std::vector<char>> compiled = compile(ptx, what);
  if (!compiled.isOk())
    return compiled.status();
  QTC_CU(api_, cuModuleLoadData(&module, compiled->data()));
  modules_.push_back(module);
  std::error_code ec;
  if (!path.empty() && (std::filesystem::create_directories(cacheDir_, ec) || !ec))
    writeFileAtomically(path, *compiled);
  return module;
}

} // namespace qtc::rt::cuda
