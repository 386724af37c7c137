//===- CudaKvSupportTest.cpp - The CUDA backend refuses host-only caches --===//
//
// The CUDA kernels read f16, fp8 (scale 1) and int8 per-token pages without
// sinks or window (qtc/rt/KvGpuSupport.h); an artifact with any other cache
// is refused at load with an error naming the cache, never run wrongly.
// The check needs no GPU.
//
//===----------------------------------------------------------------------===//

#include "backends/cuda/CudaKvSupport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace qtc::rt;
using ::testing::HasSubstr;

namespace {

Status check(fb::KvDType dtype, bool scaled,
             fb::KvGranularity keys = fb::KvGranularity::PerToken, int window = 0,
             int sinks = 0) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<float> scales = {0.5f};
  b.Finish(fb::CreateKvCacheSpecDirect(b, 1, 1, 8, 16, dtype, keys, false, false, window, sinks,
                                       scaled ? &scales : nullptr));
  return checkCudaKvCacheSupported(*flatbuffers::GetRoot<fb::KvCacheSpec>(b.GetBufferPointer()));
}

TEST(CudaKvSupport, RunsF16Fp8AndInt8PerTokenPages) {
  EXPECT_TRUE(check(fb::KvDType::F16, false).isOk());
  EXPECT_TRUE(check(fb::KvDType::F8E4M3, false).isOk());
  EXPECT_TRUE(check(fb::KvDType::Int8, false).isOk());
}

TEST(CudaKvSupport, RefusesHostOnlyCaches) {
  auto refused = [](const Status &s, const std::string &what) {
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(s.message(), HasSubstr("a KV cache of " + what + " has no CUDA kernels yet"));
    EXPECT_THAT(s.message(), HasSubstr("run it with the host backend"));
  };
  for (fb::KvDType dtype : {fb::KvDType::Int4, fb::KvDType::Int2})
    refused(check(dtype, false), std::string(fb::EnumNameKvDType(dtype)) + " pages");
  refused(check(fb::KvDType::Int8, false, fb::KvGranularity::PerChannel),
          "int8 with per-channel keys");
  refused(check(fb::KvDType::Int8, false, fb::KvGranularity::PerToken, 16),
          "int8 with an f16 window");
  refused(check(fb::KvDType::Int8, false, fb::KvGranularity::PerToken, 0, 4),
          "int8 with f16 sink tokens");
  refused(check(fb::KvDType::F8E4M3, true), "fp8 e4m3 with calibrated scales");
}

} // namespace
