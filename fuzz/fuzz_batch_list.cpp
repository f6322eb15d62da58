// Fuzzes the batch list reader of the command-line tool (one image or DICOM folder per line).
#include <stdexcept>

#include "batch.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = slicenav::fuzz::scratch("batch") / "cases.txt";
  slicenav::fuzz::write_file(path, data, size);
  try {
    for (const auto& c : slicenav::cli::list_batch_cases(path.string())) {
      if (c.name.empty()) __builtin_trap();  // every case needs a name for its output
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
