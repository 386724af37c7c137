//===- MappedFile.cpp - Read-only memory map of a file --------------------===//

#include "MappedFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qtc::rt {

MappedFile::MappedFile(MappedFile &&other) noexcept
    : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
  if (this != &other) {
    reset();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() {
  if (data_ && size_)
    munmap(const_cast<uint8_t *>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

StatusOr<MappedFile> MappedFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return notFound("cannot open '" + path + "': " + std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0) {
    std::string error = std::strerror(errno);
    ::close(fd);
    return notFound("cannot stat '" + path + "': " + error);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return invalidArgument("'" + path + "' is not a regular file");
  }
  MappedFile file;
  file.size_ = static_cast<size_t>(info.st_size);
  if (file.size_ == 0) {
    ::close(fd);
    return file;
  }
  void *mapped = mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
  std::string error = mapped == MAP_FAILED ? std::strerror(errno) : "";
  ::close(fd);
  if (mapped == MAP_FAILED) {
    file.size_ = 0;
    return internalError("cannot map '" + path + "': " + error);
  }
  file.data_ = static_cast<const uint8_t *>(mapped);
  return file;
}

} // namespace qtc::rt
