// A read-only memory map of a whole file: how the CSV reader and the snapshot pass read files.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"

namespace cairn::data {

// A read-only memory map of a whole file (nothing mapped for an empty file).
class MappedFile {
 public:
  // kNotFound, kPermissionDenied, or kInvalidArgument (not a regular file), naming the path.
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      std::string message = path + ": " + std::strerror(err);
      if (err == ENOENT) return NotFound(std::move(message));
      if (err == EACCES) return Status(StatusCode::kPermissionDenied, std::move(message));
      return InvalidArgument(std::move(message));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return InvalidArgument(path + ": not a regular file");
    }
    auto file = std::unique_ptr<MappedFile>(new MappedFile());
    file->size_ = static_cast<size_t>(st.st_size);
    if (file->size_ > 0) {
      void* addr = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (addr == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return Internal(path + ": mmap: " + std::strerror(err));
      }
      ::madvise(addr, file->size_, MADV_SEQUENTIAL);
      file->data_ = static_cast<const char*>(addr);
    }
    ::close(fd);
    return file;
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  std::string_view bytes() const { return {data_ == nullptr ? "" : data_, size_}; }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace cairn::data
