// Memory mapped from a file or anonymous, unmapped when destroyed (internal to libslicenav).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <utility>

#include "slicenav/error.hpp"

namespace slicenav::detail {

// Memory mapped from a file (read only) or anonymous (writable; huge pages advised), unmapped when destroyed:
// a whole volume's bytes without a copy, without a zeroing pass and with few page faults.
class Mapping {
 public:
  // The file's bytes; Error(io) when it cannot be opened or mapped.
  static Mapping of_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(Status::io, "cannot open '" + path + "'");
    struct stat st {};
    Mapping m;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      m.size_ = static_cast<std::size_t>(st.st_size);
      m.data_ = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
    if (m.size_ > 0 && m.data_ == MAP_FAILED) fail(Status::io, "cannot read '" + path + "'");
    return m;
  }
  static Mapping anonymous(std::size_t bytes) {
    Mapping m;
    if (bytes == 0) return m;
    m.size_ = bytes;
    m.data_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m.data_ == MAP_FAILED) fail(Status::internal, "out of memory for " + std::to_string(bytes) + " bytes");
    ::madvise(m.data_, bytes, MADV_HUGEPAGE);
    return m;
  }
  Mapping() = default;
  Mapping(Mapping&& o) noexcept : data_(std::exchange(o.data_, MAP_FAILED)), size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  unsigned char* data() const { return static_cast<unsigned char*>(data_); }
  std::size_t size() const { return size_; }

 private:
  void* data_ = MAP_FAILED;
  std::size_t size_ = 0;
};

}  // namespace slicenav::detail
