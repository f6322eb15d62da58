// Shared by the libFuzzer targets: a per-process scratch folder in which each input is written as a file, since the
// readers under test (ITK, GDCM, the model loader) read files.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace slicenav::fuzz {

// $TMPDIR/slicenav-fuzz-<target>-<pid>, made once per process and removed with it when it exits normally (a crash
// leaves it, with the input that crashed).
inline const std::filesystem::path& scratch(const char* target) {
  struct Folder {
    std::filesystem::path path;
    explicit Folder(const char* target) {
      const char* tmp = std::getenv("TMPDIR");
      path = std::filesystem::path(tmp ? tmp : "/tmp") /
             ("slicenav-fuzz-" + std::string(target) + "-" + std::to_string(getpid()));
      std::filesystem::create_directories(path);
    }
    Folder(const Folder&) = delete;
    Folder& operator=(const Folder&) = delete;
    ~Folder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Folder folder(target);
  return folder.path;
}

inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace slicenav::fuzz
