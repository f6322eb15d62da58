// Fuzzes the model loader (container, metadata JSON, atlas, templates and weights checked against the architecture).
#include "fuzz_support.hpp"
#include "slicenav/error.hpp"
#include "slicenav/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = slicenav::fuzz::scratch("model") / "input.snm";
  slicenav::fuzz::write_file(path, data, size);
  try {
    slicenav::Model::load(path.string());
  } catch (const slicenav::Error&) {
  }
  return 0;
}
