#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

#include "slicenav/error.hpp"

namespace slicenav::detail {
namespace fs = std::filesystem;

namespace {

// ".nii.gz" for "a/b.nii.gz", ".mha" for "a/b.mha", "" for "a/b".
std::string full_extension(const fs::path& path) {
  const std::string name = path.filename().string();
  for (const char* two_part : {".nii.gz", ".tar.gz"}) {
    const std::string ext(two_part);
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) return ext;
  }
  return path.extension().string();
}

}  // namespace

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  static std::atomic<unsigned> counter{0};
  const fs::path destination(path);
  fs::path directory = destination.parent_path();
  if (directory.empty()) directory = ".";
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    fail(Status::io, "cannot write '" + path + "': directory '" + directory.string() + "' does not exist");
  }
  if (::access(directory.c_str(), W_OK) != 0) {
    fail(Status::io, "cannot write '" + path + "': directory '" + directory.string() + "' is not writable");
  }
  const std::string stem = destination.filename().string();
  const std::string extension = full_extension(destination);
  const fs::path temp = directory / ("." + stem.substr(0, stem.size() - extension.size()) + ".tmp" +
                                     std::to_string(::getpid()) + "-" + std::to_string(counter++) + extension);
  try {
    write(temp.string());
    // The data must be on disk before the rename makes it the output, or a power cut could leave an empty file
    // under the output's name.
    const int fd = ::open(temp.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) fail(Status::io, "cannot write '" + path + "': the written data could not be flushed to disk");
  } catch (...) {
    fs::remove(temp, ec);
    throw;
  }
  fs::rename(temp, destination, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    fail(Status::io, "cannot write '" + path + "': " + ec.message());
  }
}

}  // namespace slicenav::detail
