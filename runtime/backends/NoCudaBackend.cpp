//===- NoCudaBackend.cpp - createCudaBackend() where CUDA is not built ----===//
//
// Linked instead of backends/cuda when cuda.h is missing at build time, so
// callers ask for the CUDA backend the same way and get a clear error.
//
//===----------------------------------------------------------------------===//

#include "qtc/rt/Backend.h"

namespace qtc::rt {

StatusOr<std::unique_ptr<Backend>> createCudaBackend() {
  return unavailable("this qtc runtime was built without the CUDA backend "
                     "(no cuda.h or no runtime/backends/cuda at build time)");
}

} // namespace qtc::rt
