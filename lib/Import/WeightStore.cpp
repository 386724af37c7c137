//===- WeightStore.cpp - Weight bytes kept beside the tfm IR --------------===//

#include "qtc/Import/WeightStore.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#endif

using namespace qtc;

size_t qtc::dtypeByteSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
  case DType::U64:
    return 8;
  case DType::F32:
  case DType::I32:
  case DType::U32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
  case DType::U16:
    return 2;
  case DType::F8E4M3FN:
  case DType::F8E5M2:
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  return 0;
}

llvm::StringRef qtc::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return "f64";
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F8E4M3FN:
    return "f8E4M3FN";
  case DType::F8E5M2:
    return "f8E5M2";
  case DType::I64:
    return "i64";
  case DType::I32:
    return "i32";
  case DType::I16:
    return "i16";
  case DType::I8:
    return "i8";
  case DType::U64:
    return "u64";
  case DType::U32:
    return "u32";
  case DType::U16:
    return "u16";
  case DType::U8:
    return "u8";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

int64_t WeightRef::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

namespace {
struct Entry {
  WeightRef ref;
  // Set for entries registered with addTransposed until the copy exists:
  // `ref` then still describes the [rows, cols] source.
  bool transposePending = false;
  // Set for entries registered with addDeferred until lookup materializes
  // them into `owned`.
  std::optional<DeferredWeight> deferred;
  std::unique_ptr<uint8_t[]> owned;
};

// Transposes a rows x cols matrix of `Bytes`-wide elements in 32x32 tiles so
// both the reads and the writes stay within a few cache lines.
template <size_t Bytes>
void transposeTiled(const uint8_t *src, uint8_t *dst, int64_t rows,
                    int64_t cols) {
  constexpr int64_t kTile = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c)
          std::memcpy(dst + (c * rows + r) * Bytes,
                      src + (r * cols + c) * Bytes, Bytes);
    }
  }
}

void transpose2D(const WeightRef &source, uint8_t *dst) {
  auto *src = static_cast<const uint8_t *>(source.data);
  int64_t rows = source.shape[0], cols = source.shape[1];
  switch (dtypeByteSize(source.dtype)) {
  case 1:
    return transposeTiled<1>(src, dst, rows, cols);
  case 2:
    return transposeTiled<2>(src, dst, rows, cols);
  case 4:
    return transposeTiled<4>(src, dst, rows, cols);
  default:
    return transposeTiled<8>(src, dst, rows, cols);
  }
}
} // namespace

struct WeightStore::Impl {
  std::mutex mutex;
  llvm::StringMap<Entry> entries;
  std::vector<std::string> order;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffers;
  // [begin, end) of the buffers that are memory maps, for releasePages.
  std::vector<std::pair<const char *, const char *>> mapped;
  std::vector<std::unique_ptr<std::string>> strings;
};

WeightStore::WeightStore() : impl(std::make_unique<Impl>()) {}
WeightStore::~WeightStore() = default;
WeightStore::WeightStore(WeightStore &&) noexcept = default;
WeightStore &WeightStore::operator=(WeightStore &&) noexcept = default;

llvm::StringRef
WeightStore::adoptBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  llvm::StringRef bytes = buffer->getBuffer();
  std::lock_guard<std::mutex> lock(impl->mutex);
  if (buffer->getBufferKind() == llvm::MemoryBuffer::MemoryBuffer_MMap)
    impl->mapped.emplace_back(bytes.begin(), bytes.end());
  impl->buffers.push_back(std::move(buffer));
  return bytes;
}

llvm::StringRef WeightStore::adoptBytes(std::unique_ptr<std::string> bytes) {
  llvm::StringRef view(*bytes);
  std::lock_guard<std::mutex> lock(impl->mutex);
  impl->strings.push_back(std::move(bytes));
  return view;
}

bool WeightStore::addOwned(llvm::StringRef name, DType dtype,
                           llvm::ArrayRef<int64_t> shape, std::string bytes) {
  WeightRef ref;
  ref.dtype = dtype;
  ref.shape.assign(shape.begin(), shape.end());
  if (static_cast<size_t>(ref.numElements()) * dtypeByteSize(dtype) !=
      bytes.size())
    return false;
  llvm::StringRef view = adoptBytes(std::make_unique<std::string>(std::move(bytes)));
  ref.data = view.data();
  ref.byteSize = view.size();
  return add(name, std::move(ref));
}

bool WeightStore::add(llvm::StringRef name, WeightRef ref) {
  std::lock_guard<std::mutex> lock(impl->mutex);
  Entry entry;
  entry.ref = std::move(ref);
  if (!impl->entries.try_emplace(name, std::move(entry)).second)
    return false;
  impl->order.push_back(name.str());
  return true;
}

bool WeightStore::addTransposed(llvm::StringRef name, WeightRef source) {
  if (source.shape.size() != 2)
    return false;
  std::lock_guard<std::mutex> lock(impl->mutex);
  Entry entry;
  entry.ref = std::move(source);
  entry.transposePending = true;
  if (!impl->entries.try_emplace(name, std::move(entry)).second)
    return false;
  impl->order.push_back(name.str());
  return true;
}

bool WeightStore::addDeferred(llvm::StringRef name, DType dtype,
                              llvm::ArrayRef<int64_t> shape,
                              DeferredWeight deferred) {
  WeightRef ref;
  ref.dtype = dtype;
  ref.shape.assign(shape.begin(), shape.end());
  ref.byteSize = deferred.byteSize;
  if (static_cast<uint64_t>(ref.numElements()) * dtypeByteSize(dtype) !=
          deferred.byteSize ||
      deferred.granule == 0 || deferred.byteSize % deferred.granule != 0 ||
      !deferred.produce)
    return false;
  std::lock_guard<std::mutex> lock(impl->mutex);
  Entry entry;
  entry.ref = std::move(ref);
  entry.deferred = std::move(deferred);
  if (!impl->entries.try_emplace(name, std::move(entry)).second)
    return false;
  impl->order.push_back(name.str());
  return true;
}

std::optional<DeferredWeight>
WeightStore::deferred(llvm::StringRef name) const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  auto it = impl->entries.find(name);
  if (it == impl->entries.end())
    return std::nullopt;
  return it->second.deferred;
}

bool WeightStore::inMappedSource(const WeightRef &ref) const {
  const char *begin = static_cast<const char *>(ref.data);
  const char *end = begin + ref.byteSize;
  std::lock_guard<std::mutex> lock(impl->mutex);
  return llvm::any_of(impl->mapped, [&](const auto &range) {
    return begin >= range.first && end <= range.second;
  });
}

void WeightStore::releasePages(const WeightRef &ref) const {
#if defined(__unix__) || defined(__APPLE__)
  if (!inMappedSource(ref))
    return;
  // Whole pages inside the tensor only: a page it shares with a neighbour
  // may still be wanted.
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = reinterpret_cast<uintptr_t>(ref.data);
  uintptr_t first = (begin + page - 1) & ~(page - 1);
  uintptr_t last = (begin + ref.byteSize) & ~(page - 1);
  // A read-only file mapping: dropped pages are read from the file again.
  if (last > first)
    ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
#else
  (void)ref;
#endif
}

void WeightStore::prefetchPages(const WeightRef &ref) const {
#if defined(__unix__) || defined(__APPLE__)
  if (!inMappedSource(ref))
    return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = reinterpret_cast<uintptr_t>(ref.data);
  uintptr_t first = begin & ~(page - 1);
  uintptr_t end = begin + ref.byteSize;
  if (end > first)
    ::madvise(reinterpret_cast<void *>(first), end - first, MADV_WILLNEED);
#else
  (void)ref;
#endif
}

std::optional<WeightRef> WeightStore::lookup(llvm::StringRef name,
                                             std::string *error) const {
  std::optional<DeferredWeight> pending;
  {
    std::lock_guard<std::mutex> lock(impl->mutex);
    auto it = impl->entries.find(name);
    if (it == impl->entries.end())
      return std::nullopt;
    pending = it->second.deferred;
  }
  if (pending) {
    // Produced outside the lock: a producer reads other entries.
    std::unique_ptr<uint8_t[]> bytes(new uint8_t[std::max<uint64_t>(pending->byteSize, 1)]);
    if (llvm::Error e = pending->produce(0, {bytes.get(), pending->byteSize})) {
      std::string message = llvm::toString(std::move(e));
      if (error)
        *error = std::move(message);
      return std::nullopt;
    }
    std::lock_guard<std::mutex> lock(impl->mutex);
    Entry &entry = impl->entries.find(name)->second;
    if (entry.deferred) {
      entry.owned = std::move(bytes);
      entry.ref.data = entry.owned.get();
      entry.deferred.reset();
    }
  }
  std::lock_guard<std::mutex> lock(impl->mutex);
  auto it = impl->entries.find(name);
  Entry &entry = it->second;
  if (entry.transposePending) {
    entry.owned.reset(new uint8_t[entry.ref.byteSize]);
    transpose2D(entry.ref, entry.owned.get());
    std::swap(entry.ref.shape[0], entry.ref.shape[1]);
    entry.ref.data = entry.owned.get();
    entry.transposePending = false;
  }
  return entry.ref;
}

std::optional<WeightType> WeightStore::typeOf(llvm::StringRef name) const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  auto it = impl->entries.find(name);
  if (it == impl->entries.end())
    return std::nullopt;
  const Entry &entry = it->second;
  WeightType type{entry.ref.dtype, entry.ref.shape};
  if (entry.transposePending)
    std::swap(type.shape[0], type.shape[1]);
  return type;
}

bool WeightStore::contains(llvm::StringRef name) const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->entries.count(name) != 0;
}

llvm::ArrayRef<std::string> WeightStore::names() const { return impl->order; }

size_t WeightStore::size() const { return impl->order.size(); }
