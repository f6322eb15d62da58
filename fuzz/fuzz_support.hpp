// Shared by the libFuzzer targets: a per-process scratch folder in which each input is written as a file, since the
// readers under test (ITK, GDCM, the model loader) read files.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace slicenav::fuzz {

// $TMPDIR/slicenav-fuzz-<target>-<pid>, made once per process.
inline const std::filesystem::path& scratch(const char* target) {
  static const std::filesystem::path dir = [&] {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path d = std::filesystem::path(tmp ? tmp : "/tmp") /
                              ("slicenav-fuzz-" + std::string(target) + "-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace slicenav::fuzz
