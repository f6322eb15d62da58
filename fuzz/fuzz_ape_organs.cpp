// Fuzzes the reader of a model's organ templates (the "ape_organs" metadata section, checked when a model file is
// loaded and by Model::set_metadata_section).
#include <string>

#include "slicenav/ape.hpp"
#include "slicenav/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const std::vector<slicenav::ApeOrgan> organs =
        slicenav::ape_organs_from_json(std::string(reinterpret_cast<const char*>(data), size));
    // Organs that read must write and read again to the same text.
    const std::string text = slicenav::ape_organs_to_json(organs);
    if (slicenav::ape_organs_to_json(slicenav::ape_organs_from_json(text)) != text) __builtin_trap();
  } catch (const slicenav::Error&) {
  }
  return 0;
}
