// Fuzzes the crop-record reader (the JSON that uncrop trusts to paste a prediction back).
#include <string>

#include "slicenav/crop.hpp"
#include "slicenav/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const slicenav::CropRecord record =
        slicenav::CropRecord::from_json(std::string(reinterpret_cast<const char*>(data), size));
    // A record that reads back must write and read again to the same text.
    const std::string text = record.to_json();
    if (slicenav::CropRecord::from_json(text).to_json() != text) __builtin_trap();
  } catch (const slicenav::Error&) {
  }
  return 0;
}
