//===- CudaKvSupportTest.cpp - The CUDA backend refuses host-only caches --===//
//
// The CUDA kernels read f16 and fp8 (scale 1) caches only; an artifact with
// an integer cache or calibrated fp8 scales is refused at load with an error
// naming the cache, never run wrongly. The check needs no GPU.
//
//===----------------------------------------------------------------------===//

#include "backends/cuda/CudaKvSupport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace qtc::rt;
using ::testing::HasSubstr;

namespace {

Status check(fb::KvDType dtype, bool scaled) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<float> scales = {0.5f};
  b.Finish(fb::CreateKvCacheSpecDirect(b, 1, 1, 8, 16, dtype, fb::KvGranularity::PerToken, false,
                                       false, 0, 0, scaled ? &scales : nullptr));
  return checkCudaKvCacheSupported(*flatbuffers::GetRoot<fb::KvCacheSpec>(b.GetBufferPointer()));
}

TEST(CudaKvSupport, RefusesIntegerAndCalibratedCaches) {
  EXPECT_TRUE(check(fb::KvDType::F16, false).isOk());
  EXPECT_TRUE(check(fb::KvDType::F8E4M3, false).isOk());
  for (fb::KvDType dtype : {fb::KvDType::Int8, fb::KvDType::Int4, fb::KvDType::Int2}) {
    Status s = check(dtype, false);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(s.message(), HasSubstr(std::string("a KV cache of ") +
                                       fb::EnumNameKvDType(dtype) + " has no CUDA kernels yet"));
    EXPECT_THAT(s.message(), HasSubstr("run it with the host backend"));
  }
  EXPECT_THAT(check(fb::KvDType::F8E4M3, true).message(),
              HasSubstr("F8E4M3 with calibrated scales has no CUDA kernels yet"));
}

} // namespace
