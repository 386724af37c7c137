//===- KernelCache.cpp - Generated kernels reused across compiles ---------===//
//
// An entry is one file: the line "qtc-kernel-cache 1", a line of JSON (entry
// name, launch constants, PTX size and XXH3-64), then the PTX.
//
//===----------------------------------------------------------------------===//

#include "KernelCache.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <cstdlib>

using namespace qtc;

namespace {

constexpr llvm::StringLiteral kMagic = "qtc-kernel-cache 1\n";

// A hash of the running compiler's executable, computed once: kernels are a
// function of its code (generators, lowering pipeline), which a version
// string alone does not pin down in a developer's build.
llvm::StringRef executableHash() {
  static const std::string hash = [] {
    std::string path = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> bytes =
        llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!bytes)
      return std::string("unknown-executable");
    return llvm::utohexstr(llvm::xxh3_64bits(llvm::arrayRefFromStringRef((*bytes)->getBuffer())));
  }();
  return hash;
}

std::string hex128(llvm::XXH128_hash_t h) {
  std::string s = llvm::utohexstr(h.high64, /*LowerCase=*/true, 16);
  s += llvm::utohexstr(h.low64, /*LowerCase=*/true, 16);
  return s;
}

} // namespace

std::string KernelCache::defaultDirectory() {
  if (std::optional<std::string> off = llvm::sys::Process::GetEnv("QTC_KERNEL_CACHE"))
    if (*off == "0" || llvm::StringRef(*off).equals_insensitive("off"))
      return "";
  if (std::optional<std::string> dir = llvm::sys::Process::GetEnv("QTC_KERNEL_CACHE_DIR"))
    return *dir;
  llvm::SmallString<256> path;
  if (std::optional<std::string> xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME");
      xdg && !xdg->empty())
    path = *xdg;
  else if (!llvm::sys::path::home_directory(path))
    return "";
  else
    llvm::sys::path::append(path, ".cache");
  llvm::sys::path::append(path, "qtc", "kernels");
  return std::string(path);
}

std::string KernelCache::key(llvm::StringRef mlir, llvm::StringRef chip,
                             llvm::StringRef features) {
  std::string what;
  llvm::raw_string_ostream os(what);
  os << kMagic << "qtc " << QTC_VERSION << "\nLLVM " << LLVM_VERSION_STRING << "\nexecutable "
     << executableHash() << "\nchip " << chip << "\nfeatures " << features << "\n"
     << mlir;
  return hex128(llvm::xxh3_128bits(llvm::arrayRefFromStringRef(os.str())));
}

std::string KernelCache::path(llvm::StringRef key) const {
  llvm::SmallString<256> p(dir);
  llvm::sys::path::append(p, key.take_front(2), key.str() + ".kernel");
  return std::string(p);
}

std::optional<artifact::Kernel> KernelCache::load(llvm::StringRef key,
                                                  llvm::StringRef entry) const {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path(key), /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!file)
    return std::nullopt;
  llvm::StringRef bytes = (*file)->getBuffer();
  if (!bytes.consume_front(kMagic))
    return std::nullopt;
  auto [headerLine, ptx] = bytes.split('\n');
  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerLine);
  if (!header) {
    llvm::consumeError(header.takeError());
    return std::nullopt;
  }
  const llvm::json::Object *h = header->getAsObject();
  if (!h)
    return std::nullopt;
  auto integer = [&](llvm::StringRef field) -> std::optional<int64_t> {
    return h->getInteger(field);
  };
  std::optional<llvm::StringRef> name = h->getString("entry");
  std::optional<llvm::StringRef> checksum = h->getString("ptx_xxh3");
  std::optional<int64_t> size = integer("ptx_bytes");
  if (!name || *name != entry || !checksum || !size ||
      static_cast<uint64_t>(*size) != ptx.size() ||
      *checksum != llvm::utohexstr(llvm::xxh3_64bits(llvm::arrayRefFromStringRef(ptx))))
    return std::nullopt;
  artifact::Kernel kernel;
  kernel.name = name->str();
  kernel.ptx = ptx.str();
  std::optional<int64_t> blockX = integer("block_x"), blockY = integer("block_y"),
                         shared = integer("shared_bytes"), tileM = integer("tile_m"),
                         tileN = integer("tile_n"), splitK = integer("split_k");
  std::optional<bool> programmatic = h->getBoolean("programmatic_launch");
  if (!blockX || !blockY || !shared || !tileM || !tileN || !splitK || !programmatic)
    return std::nullopt;
  kernel.blockX = *blockX;
  kernel.blockY = *blockY;
  kernel.sharedBytes = *shared;
  kernel.tileM = *tileM;
  kernel.tileN = *tileN;
  kernel.splitK = *splitK;
  kernel.programmaticLaunch = *programmatic;
  return kernel;
}

bool KernelCache::store(llvm::StringRef key, const artifact::Kernel &kernel) const {
  std::string target = path(key);
  if (llvm::sys::fs::create_directories(llvm::sys::path::parent_path(target)))
    return false;
  llvm::json::Object header{
      {"entry", kernel.name},
      {"block_x", kernel.blockX},
      {"block_y", kernel.blockY},
      {"shared_bytes", kernel.sharedBytes},
      {"tile_m", kernel.tileM},
      {"tile_n", kernel.tileN},
      {"split_k", kernel.splitK},
      {"programmatic_launch", kernel.programmaticLaunch},
      {"ptx_bytes", static_cast<int64_t>(kernel.ptx.size())},
      {"ptx_xxh3", llvm::utohexstr(llvm::xxh3_64bits(llvm::arrayRefFromStringRef(kernel.ptx)))}};
  // Written beside the entry and renamed over it: a concurrent compile
  // reads the old entry, the new one or none, never a torn one.
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(target + ".tmp-%%%%%%");
  if (!temp) {
    llvm::consumeError(temp.takeError());
    return false;
  }
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    os << kMagic << llvm::json::Value(std::move(header)) << "\n" << kernel.ptx;
    os.flush();
    if (os.has_error()) {
      os.clear_error();
      llvm::consumeError(temp->discard());
      return false;
    }
  }
  if (llvm::Error e = temp->keep(target)) {
    llvm::consumeError(std::move(e));
    return false;
  }
  return true;
}
