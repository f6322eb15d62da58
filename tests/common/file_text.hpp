// A whole file as a string of bytes, for tests and tools that compare or mutate files.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace slicenav::test {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace slicenav::test
