// Locating the real CT data (../shared/data or $SLICENAV_DATA) from tests and benchmarks.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#ifndef SLICENAV_DEFAULT_DATA_DIR
#  define SLICENAV_DEFAULT_DATA_DIR ""
#endif

namespace slicenav::test {

// The data directory, or "" when neither $SLICENAV_DATA nor the configured default exists.
inline std::string data_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("SLICENAV_DATA"); env != nullptr && *env != '\0') {
    return fs::is_directory(env) ? std::string(env) : std::string();
  }
  const std::string fallback = SLICENAV_DEFAULT_DATA_DIR;
  return !fallback.empty() && fs::is_directory(fallback) ? fallback : std::string();
}

// Absolute path of a file or directory under the data directory, or "" when absent.
inline std::string data_path(const std::string& relative) {
  const std::string root = data_dir();
  if (root.empty()) return {};
  const std::filesystem::path path = std::filesystem::path(root) / relative;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

}  // namespace slicenav::test

// Skips the current GoogleTest test with a message when a data path is absent.
#define SLICENAV_REQUIRE_DATA(var, relative)                     \
  const std::string var = ::slicenav::test::data_path(relative); \
  if (var.empty())                                               \
  GTEST_SKIP() << "real data '" << (relative)                    \
               << "' not found: set SLICENAV_DATA "              \
                  "or place the data in ../shared/data"
