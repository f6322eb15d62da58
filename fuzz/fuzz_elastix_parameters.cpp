// Fuzzes the elastix parameter-file reader (a user's parameter file given to `slicenav register`). Parsing either
// succeeds or throws the plugins' Error; what it parsed must write back to text that parses to the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "slicenav/elastix/parameters.hpp"
#include "slicenav/plugin/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using slicenav::elastix::ParameterFile;
  try {
    const ParameterFile file = ParameterFile::parse(std::string(reinterpret_cast<const char*>(data), size), "input");
    const std::string written = file.str();
    if (ParameterFile::parse(written, "written").str() != written) __builtin_trap();  // the writer's text re-reads
  } catch (const slicenav::plugin::Error&) {
  }
  return 0;
}
