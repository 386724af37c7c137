//===- WeightStore.h - Weight bytes kept beside the tfm IR ------*- C++ -*-===//
//
// `tfm.weight` ops carry a name and a type only; the bytes live here. The
// store owns the memory maps of the source files and any buffers an importer
// had to create (a transposed copy, data decoded from a typed protobuf
// field), so a multi-gigabyte checkpoint costs address space, not RAM, until
// a pass reads a tensor.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_WEIGHTSTORE_H
#define QTC_IMPORT_WEIGHTSTORE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace qtc {

/// Element types a weight may have in a source file.
enum class DType : uint8_t {
  F64,
  F32,
  F16,
  BF16,
  F8E4M3FN,
  F8E5M2,
  I64,
  I32,
  I16,
  I8,
  U64,
  U32,
  U16,
  U8,
  Bool,
};

/// Bytes per element of `dtype`.
size_t dtypeByteSize(DType dtype);
/// A short lower-case name ("f16", "bf16", "i64", ...) for messages.
llvm::StringRef dtypeName(DType dtype);

/// Element type and shape of a stored tensor.
struct WeightType {
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
};

/// A read-only view of one tensor's bytes, row-major, densely packed and
/// little-endian. `data` points where the source file puts the tensor, which
/// need not be aligned to the element size (safetensors and ONNX external
/// data allow any offset): read elements with memcpy.
struct WeightRef {
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  const void *data = nullptr;
  size_t byteSize = 0;

  int64_t numElements() const;
};

/// Computes bytes [offset, offset + out.size()) of a deferred tensor (see
/// WeightStore::addDeferred); `offset` and `out.size()` are multiples of its
/// granule. Called from any thread, for any range, any number of times.
using WeightProducer =
    std::function<llvm::Error(uint64_t offset, llvm::MutableArrayRef<uint8_t> out)>;

/// A tensor whose bytes are computed when they are needed.
struct DeferredWeight {
  uint64_t byteSize = 0;
  /// Ranges asked of `produce` are multiples of this (a row's bytes).
  uint64_t granule = 1;
  WeightProducer produce;
};

/// Name -> tensor bytes. Entries view memory the store keeps alive: memory
/// maps, moved-in buffers, or copies it makes itself. Move-only; lookups are
/// safe from several threads.
class WeightStore {
public:
  WeightStore();
  ~WeightStore();
  WeightStore(WeightStore &&) noexcept;
  WeightStore &operator=(WeightStore &&) noexcept;

  /// Keeps `buffer` (normally a memory map of a source file) alive for as
  /// long as the store lives and returns a view of its bytes.
  llvm::StringRef adoptBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer);
  /// Keeps `bytes` alive for as long as the store lives and returns a view of
  /// them; used to take over a protobuf's string without copying it.
  llvm::StringRef adoptBytes(std::unique_ptr<std::string> bytes);

  /// Registers `name` viewing `ref.data`, which must point into memory the
  /// store keeps alive (see adoptBuffer/adoptBytes). Returns false if the
  /// name is already taken.
  bool add(llvm::StringRef name, WeightRef ref);

  /// Registers `name` as a tensor of `dtype` and `shape` whose bytes the
  /// store takes over: what a pass computes (a quantizer's codes and scales).
  /// Returns false if the name is taken or the byte count does not match.
  bool addOwned(llvm::StringRef name, DType dtype,
                llvm::ArrayRef<int64_t> shape, std::string bytes);

  /// Registers `name` as the [1, 0] transpose of the rank-2 tensor `source`
  /// (which must point into memory the store keeps alive). The transposed
  /// copy is made on first lookup, so importing a model whose source stores
  /// linears as [in, out] costs no memory until a pass reads the weight.
  bool addTransposed(llvm::StringRef name, WeightRef source);

  /// Registers `name` as a tensor of `dtype` and `shape` whose bytes
  /// `deferred.produce` computes on demand: a packed copy that a writer
  /// streams in pieces instead of holding it whole. Returns false if the name
  /// is taken or the byte count does not match the shape.
  bool addDeferred(llvm::StringRef name, DType dtype,
                   llvm::ArrayRef<int64_t> shape, DeferredWeight deferred);
  /// The producer of `name` if it was registered deferred and lookup() has
  /// not materialized it.
  std::optional<DeferredWeight> deferred(llvm::StringRef name) const;

  /// Tells the store the bytes of `ref` will not be read again soon: where
  /// they lie in a memory map of a source file, its pages leave this
  /// process's resident set (they come back from the file when read again).
  /// Other memory is left alone.
  void releasePages(const WeightRef &ref) const;
  /// Tells the store the bytes of `ref` are about to be read: a memory map
  /// starts reading them from the file ahead of the faults.
  void prefetchPages(const WeightRef &ref) const;

  /// The tensor registered as `name`, or nullopt. Materializes a pending
  /// transposed copy, or a deferred tensor (nullopt, with the error in
  /// `error` when given, if its producer fails).
  std::optional<WeightRef> lookup(llvm::StringRef name,
                                  std::string *error = nullptr) const;
  /// Element type and shape of `name` without touching its bytes.
  std::optional<WeightType> typeOf(llvm::StringRef name) const;
  bool contains(llvm::StringRef name) const;

  /// Names in registration order.
  llvm::ArrayRef<std::string> names() const;
  size_t size() const;

private:
  // Whether all of `ref`'s bytes lie in a memory map of a source file.
  bool inMappedSource(const WeightRef &ref) const;

  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace qtc

#endif // QTC_IMPORT_WEIGHTSTORE_H
