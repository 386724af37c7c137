//===- KernelCache.h - Generated kernels reused across compiles -*- C++ -*-===//
//
// Lowering a kernel through NVVM and LLVM's NVPTX backend is most of what
// kernel generation costs; a model's layers share a handful of shapes, and
// so do successive compiles of one model. The cache keeps each lowered
// kernel (PTX and launch constants) in a file named by a content hash of
// what determines it:
//
//   - the kernel's gpu.module as the generator built it (printed MLIR),
//     which every field of the request that shapes the kernel reaches;
//   - the PTX chip and features it is lowered for;
//   - the generator and lowering code: qtc's version, LLVM's version and a
//     hash of the running executable, so a rebuilt compiler never reads
//     kernels an older one lowered.
//
// Entries are written to a temporary file beside their final name and
// renamed over it, so concurrent compiles never see a torn entry; an entry
// that fails its checks (magic, sizes, a checksum of the PTX, the entry
// name) is ignored and rewritten.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_PIPELINE_KERNELCACHE_H
#define QTC_LIB_PIPELINE_KERNELCACHE_H

#include "qtc/Artifact/ArtifactContents.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace qtc {

class KernelCache {
public:
  // A cache in `dir` (created on first store).
  explicit KernelCache(std::string dir) : dir(std::move(dir)) {}

  // The default folder: $QTC_KERNEL_CACHE_DIR, else $XDG_CACHE_HOME/qtc/kernels,
  // else ~/.cache/qtc/kernels; empty when caching is off (QTC_KERNEL_CACHE=0)
  // or no home is known.
  static std::string defaultDirectory();

  // The key of a kernel whose generator built `mlir`, lowered for `chip`
  // with `features`: 32 hex digits.
  static std::string key(llvm::StringRef mlir, llvm::StringRef chip,
                         llvm::StringRef features);

  // The kernel stored under `key` if a valid entry for `entry` is there.
  std::optional<artifact::Kernel> load(llvm::StringRef key, llvm::StringRef entry) const;
  // Stores `kernel` under `key`; false (and no entry) when the folder cannot
  // be written, which a compile shrugs off.
  bool store(llvm::StringRef key, const artifact::Kernel &kernel) const;

  // The entry file of `key`.
  std::string path(llvm::StringRef key) const;

private:
  std::string dir;
};

} // namespace qtc

#endif // QTC_LIB_PIPELINE_KERNELCACHE_H
