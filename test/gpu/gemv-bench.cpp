//===- gemv-bench.cpp - Time the generated decode Linear kernels ----------===//
//
// For every Linear kernel in <dir>/manifest.txt (fp16, int4, int8 or fp8
// weights): one token (batch-1 decode), weights cold in L2 (rotating over
// copies whose total exceeds 4x the L2 size), random data, event timing of
// batches of launches, median over batches. Also measures the
// device-to-device copy bandwidth (bytes read plus written) that the
// results are compared with. Writes one JSON object.
//
//   gemv-bench <ptx-dir> [--tokens T] [--json out.json] [--plain-launch]
//              [--only ENTRY[,ENTRY...]]
//
// Kernels whose manifest says programmatic=1 are launched with programmatic
// stream serialization, as the runtime launches them: each call may start
// (and request its weights) while the call before it finishes.
// --plain-launch launches every kernel plainly, for comparison. --only times
// just the named entries (e.g. the defaults of a sweep, for that comparison).
//
//===----------------------------------------------------------------------===//

#include "DeviceHarness.h"
#include "qtc/rt/QuantizedRows.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

using namespace qtc;
using qtc::gpu::DeviceHarness;
using qtc::gpu::KernelArg;
using qtc::gpu::ManifestEntry;
using rt::Status;
using rt::StatusOr;
namespace abi = rt::abi;

namespace {

struct BenchResult {
  std::string entry, format;
  int n = 0, k = 0, tokens = 0, copies = 0;
  int registers = 0, localBytes = 0; // of the JIT-compiled kernel
  bool programmatic = false;         // launched with programmatic serialization
  double microseconds = 0, streamMicroseconds = 0, bytes = 0, gbps = 0, tflops = 0;
};

// Random f16 bit patterns of moderate magnitude (no inf/NaN) or random bytes.
std::vector<uint8_t> randomBytes(size_t n, bool halves, std::mt19937_64 &rng) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t r = rng();
    if (halves) // sign, exponent 0x0C..0x0F, any mantissa: |x| in [2^-3, 1)
      r = (r & 0x83FF83FF83FF83FFull) | 0x3000300030003000ull;
    std::memcpy(&v[i], &r, 8);
  }
  return v;
}

// f32 values in [0.5, 1) as bytes (fp8's per-row scales).
std::vector<uint8_t> randomFloats(size_t n, std::mt19937_64 &rng) {
  std::uniform_real_distribution<float> dist(0.5f, 1.0f);
  std::vector<uint8_t> v(n * 4);
  for (size_t i = 0; i < n; ++i) {
    float f = dist(rng);
    std::memcpy(&v[i * 4], &f, 4);
  }
  return v;
}

// What a Linear kind stores per weight and per row, and its label in the
// results ("fp16", "int4 g128", "int8 g128", "int8 channel", "fp8 channel").
struct LinearFormat {
  std::string kind, name;
  int weightBits = 16; // per input channel
  size_t scaleBytesPerRow = 0;
};

LinearFormat linearFormatOf(const ManifestEntry &m) {
  LinearFormat f;
  f.kind = m.get("kind");
  const long long k = m.getInt("k"), group = m.getInt("group");
  if (f.kind == "gemv-int4") {
    f.name = "int4 g" + m.get("group");
    f.weightBits = 4;
    f.scaleBytesPerRow = size_t(k / group) * 2;
  } else if (f.kind == "gemv-int8") {
    f.name = group == k ? "int8 channel" : "int8 g" + m.get("group");
    if (m.get("activation") == "Int8PerToken")
      f.name = "w8a8 int8 x int8";
    f.weightBits = 8;
    f.scaleBytesPerRow = size_t(k / group) * 2;
  } else if (f.kind == "gemv-fp8") {
    f.name = m.get("activation") == "Fp8PerToken" ? "fp8 e4m3 x e4m3" : "fp8 channel";
    f.weightBits = 8;
    f.scaleBytesPerRow = 4;
  } else {
    f.name = "fp16";
  }
  return f;
}

bool isLinearKind(const std::string &kind) {
  return kind == "gemv-f16" || kind == "gemv-int4" || kind == "gemv-int8" ||
         kind == "gemv-fp8";
}

StatusOr<BenchResult> benchLinear(DeviceHarness &h, const std::string &dir,
                                  const ManifestEntry &m, int tokens, bool plainLaunch,
                                  std::mt19937_64 &rng) {
  StatusOr<CUfunction> f = h.loadKernel(dir + "/" + m.get("entry") + ".ptx", m.get("entry"));
  if (!f.isOk())
    return f.status();
  BenchResult r;
  r.entry = m.get("entry");
  h.api().cuFuncGetAttribute(&r.registers, CU_FUNC_ATTRIBUTE_NUM_REGS, *f);
  h.api().cuFuncGetAttribute(&r.localBytes, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, *f);
  r.n = static_cast<int>(m.getInt("n"));
  r.k = static_cast<int>(m.getInt("k"));
  r.tokens = tokens;
  const LinearFormat format = linearFormatOf(m);
  r.format = format.name;
  const size_t weightBytes = size_t(r.n) * r.k * format.weightBits / 8;
  const size_t scaleBytes = format.scaleBytesPerRow * size_t(r.n);
  const size_t perCopy = weightBytes + scaleBytes;
  r.copies = static_cast<int>(std::max<size_t>(2, (4 * size_t(h.l2Bytes()) + perCopy - 1) / perCopy));

  std::vector<uint8_t> hostWeights = randomBytes(weightBytes, format.kind == "gemv-f16", rng);
  if (format.kind == "gemv-fp8") // no NaN codes (0x7F, 0xFF): e4m3 never stores them
    for (uint8_t &b : hostWeights)
      b = static_cast<uint8_t>((b & 0x7F) == 0x7F ? b - 1 : b);
  std::vector<uint8_t> hostScales = format.kind == "gemv-fp8"
                                        ? randomFloats(scaleBytes / 4, rng)
                                        : randomBytes(scaleBytes, true, rng);
  std::vector<CUdeviceptr> weights, scales;
  for (int c = 0; c < r.copies; ++c) {
    StatusOr<CUdeviceptr> w = h.uploadVector(hostWeights);
    if (!w.isOk())
      return w.status();
    weights.push_back(*w);
    if (scaleBytes > 0) {
      StatusOr<CUdeviceptr> s = h.uploadVector(hostScales);
      if (!s.isOk())
        return s.status();
      scales.push_back(*s);
    }
  }
  std::vector<uint8_t> hostX = randomBytes(size_t(tokens) * r.k * 2, true, rng);
  if (m.get("activation") != "None") {
    // A quantized slot (qtc/rt/QuantizedRows.h): random codes (e4m3: no NaN
    // codes), row scales 1/127.
    hostX.resize(rt::quantized_rows::slotBytes(tokens, static_cast<int>(r.k)));
    float *scales = reinterpret_cast<float *>(
        &hostX[rt::quantized_rows::scalesOffset(tokens, static_cast<int>(r.k))]);
    std::fill_n(scales, tokens, 1.0f / 127.0f);
    if (m.get("activation") == "Fp8PerToken")
      for (size_t i = 0; i < size_t(tokens) * r.k; ++i)
        hostX[i] &= 0xF7; // exponent below 15: finite, never 0x7F/0xFF
  }
  StatusOr<CUdeviceptr> x = h.uploadVector(hostX);
  StatusOr<CUdeviceptr> out = h.alloc(size_t(tokens) * r.n * 2);
  if (!x.isOk() || !out.isOk())
    return !x.isOk() ? x.status() : out.status();

  abi::LaunchExtent extent;
  extent.numRows = tokens;
  extent.outFeatures = r.n;
  abi::LaunchDims dims = abi::launchDims(abi::KernelFamily::Linear, m.tile(), extent);
  if (plainLaunch || !h.api().cuLaunchKernelEx)
    dims.programmatic = false;
  r.programmatic = dims.programmatic;
  auto launchAll = [&]() -> Status {
    for (int c = 0; c < r.copies; ++c) {
      std::vector<KernelArg> args(abi::linear::kCount);
      args[abi::linear::kX] = KernelArg::pointer(*x);
      args[abi::linear::kWeight] = KernelArg::pointer(weights[c]);
      args[abi::linear::kScales] = KernelArg::pointer(scaleBytes > 0 ? scales[c] : 0);
      args[abi::linear::kZeros] = KernelArg::pointer(0);
      args[abi::linear::kBias] = KernelArg::pointer(0);
      args[abi::linear::kResidual] = KernelArg::pointer(0);
      args[abi::linear::kOut] = KernelArg::pointer(*out);
      args[abi::linear::kNumTokens] = KernelArg::i32(tokens);
      QTC_RT_RETURN_IF_ERROR(h.launch(*f, dims, args));
    }
    return Status::ok();
  };
  for (int i = 0; i < 3; ++i) // warm-up: module load, clocks
    QTC_RT_RETURN_IF_ERROR(launchAll());
  // Stream launches include the host's launch cost when kernels are short;
  // graph replays measure the device time as a captured decode step sees it.
  std::vector<double> perLaunchUs;
  for (int rep = 0; rep < 30; ++rep) {
    StatusOr<float> ms = h.time(launchAll);
    if (!ms.isOk())
      return ms.status();
    perLaunchUs.push_back(*ms * 1e3 / r.copies);
  }
  std::sort(perLaunchUs.begin(), perLaunchUs.end());
  r.streamMicroseconds = perLaunchUs[perLaunchUs.size() / 2];
  StatusOr<float> graphMs = h.timeGraph(launchAll, 30);
  if (!graphMs.isOk())
    return graphMs.status();
  r.microseconds = *graphMs * 1e3 / r.copies;
  r.bytes = double(perCopy) + double(tokens) * r.k * 2 + double(tokens) * r.n * 2;
  r.gbps = r.bytes / (r.microseconds * 1e-6) / 1e9;
  r.tflops = 2.0 * r.n * r.k * tokens / (r.microseconds * 1e-6) / 1e12;
  return r;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gemv-bench <ptx-dir> [--tokens T] [--json out.json] "
                         "[--plain-launch] [--only ENTRY[,ENTRY...]]\n");
    return 2;
  }
  std::string dir = argv[1], jsonPath;
  int tokens = 1;
  bool plainLaunch = false;
  std::set<std::string> only;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--plain-launch") == 0)
      plainLaunch = true;
    else if (std::strcmp(argv[i], "--tokens") == 0 && i + 1 < argc)
      tokens = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc)
      jsonPath = argv[++i];
    else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      std::istringstream names(argv[++i]);
      for (std::string name; std::getline(names, name, ',');)
        if (!name.empty())
          only.insert(name);
    } else {
      std::fprintf(stderr, "gemv-bench: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  StatusOr<std::unique_ptr<DeviceHarness>> harness = DeviceHarness::create();
  if (!harness.isOk()) {
    std::fprintf(stderr, "gemv-bench: %s\n", harness.status().toString().c_str());
    return 1;
  }
  DeviceHarness &h = **harness;
  StatusOr<std::vector<ManifestEntry>> manifest = gpu::readManifest(dir);
  if (!manifest.isOk()) {
    std::fprintf(stderr, "gemv-bench: %s\n", manifest.status().toString().c_str());
    return 1;
  }
  StatusOr<double> copy = h.copyBandwidth(size_t(1) << 30, 10);
  if (!copy.isOk()) {
    std::fprintf(stderr, "gemv-bench: %s\n", copy.status().toString().c_str());
    return 1;
  }
  std::printf("device %s, L2 %d bytes, copy bandwidth %.0f GB/s (read+write)\n",
              h.deviceKey().c_str(), h.l2Bytes(), *copy);

  std::mt19937_64 rng(std::random_device{}());
  std::ostringstream json;
  json << "{\"device\": \"" << h.deviceKey() << "\", \"l2_bytes\": " << h.l2Bytes()
       << ", \"copy_gbps\": " << *copy << ", \"tokens\": " << tokens << ", \"kernels\": [";
  bool first = true;
  int failures = 0;
  std::set<std::string> unmatched = only;
  for (const ManifestEntry &m : *manifest) {
    if (!isLinearKind(m.get("kind")))
      continue;
    if (!only.empty() && !only.count(m.get("entry")))
      continue;
    unmatched.erase(m.get("entry"));
    StatusOr<BenchResult> r = benchLinear(h, dir, m, tokens, plainLaunch, rng);
    if (!r.isOk()) {
      ++failures;
      std::printf("ERROR %s: %s\n", m.get("entry").c_str(), r.status().toString().c_str());
      continue;
    }
    std::printf("%-12s %6d x %-6d %9.2f us (stream %6.2f) %7.0f GB/s %5.2f of copy %7.1f TFLOP/s %3d regs %4d B local  (%s, %d copies)\n",
                r->format.c_str(), r->n, r->k, r->microseconds, r->streamMicroseconds,
                r->gbps, r->gbps / *copy, r->tflops, r->registers, r->localBytes,
                r->entry.c_str(), r->copies);
    json << (first ? "" : ", ") << "{\"entry\": \"" << r->entry << "\", \"format\": \""
         << r->format << "\", \"n\": " << r->n << ", \"k\": " << r->k
         << ", \"split_k\": " << m.getInt("split_k") << ", \"us\": " << r->microseconds
         << ", \"us_stream\": " << r->streamMicroseconds
         << ", \"bytes\": " << r->bytes << ", \"gbps\": " << r->gbps
         << ", \"tflops\": " << r->tflops << ", \"registers\": " << r->registers
         << ", \"local_bytes\": " << r->localBytes
         << ", \"programmatic\": " << (r->programmatic ? "true" : "false")
         << ", \"fraction_of_copy\": " << r->gbps / *copy << "}";
    first = false;
  }
  json << "]}\n";
  for (const std::string &name : unmatched) {
    ++failures;
    std::printf("ERROR --only %s: no such GEMV entry in %s/manifest.txt\n", name.c_str(),
                dir.c_str());
  }
  if (!jsonPath.empty()) {
    std::ofstream out(jsonPath);
    out << json.str();
  }
  return failures == 0 ? 0 : 1;
}
