//===- MappedFile.h - Read-only memory map of a file ----------------------===//
//
// Artifacts are mapped, not read: weights go from the page cache straight to
// the backend, and a 7B model's file never needs a second copy in memory.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SRC_MAPPEDFILE_H
#define QTC_RT_SRC_MAPPEDFILE_H

#include "qtc/rt/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace qtc::rt {

class MappedFile {
public:
  MappedFile() = default;
  MappedFile(MappedFile &&other) noexcept;
  MappedFile &operator=(MappedFile &&other) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  // kNotFound when the file cannot be opened; an empty file maps to size 0.
  static StatusOr<MappedFile> open(const std::string &path);

  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }

private:
  void reset();

  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

} // namespace qtc::rt

#endif // QTC_RT_SRC_MAPPEDFILE_H
