//===- ScratchDirectory.h - A temporary folder for one test -----*- C++ -*-===//

#ifndef QTC_TEST_UNIT_IMPORT_SCRATCHDIRECTORY_H
#define QTC_TEST_UNIT_IMPORT_SCRATCHDIRECTORY_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace qtc::test {

/// A fresh directory, removed with its contents when the object dies.
class ScratchDirectory {
public:
  ScratchDirectory() {
    llvm::SmallString<128> created;
    if (!llvm::sys::fs::createUniqueDirectory("qtc-import-test", created))
      path = std::string(created);
  }
  ~ScratchDirectory() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
  ScratchDirectory(const ScratchDirectory &) = delete;
  ScratchDirectory &operator=(const ScratchDirectory &) = delete;

  const std::string &get() const { return path; }

  /// `name` inside the directory.
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<256> joined(path);
    llvm::sys::path::append(joined, name);
    return std::string(joined);
  }

  /// Writes `bytes` to `name` inside the directory; returns its path.
  std::string write(llvm::StringRef name, llvm::StringRef bytes) const {
    std::string target = file(name);
    std::error_code ec;
    llvm::raw_fd_ostream os(target, ec);
    os << bytes;
    return target;
  }

private:
  std::string path;
};

} // namespace qtc::test

#endif // QTC_TEST_UNIT_IMPORT_SCRATCHDIRECTORY_H
