// Fuzzes the volume reader on NIfTI (.nii, .nii.gz), MetaImage (.mha) and NRRD (.nrrd) files. The first input byte
// picks the format, the rest is the file. Reading either succeeds (a finite, valid volume) or throws slicenav::Error;
// anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cmath>

#include "fuzz_support.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const char* const kNames[] = {"input.nii", "input.nii.gz", "input.mha", "input.nrrd"};
  const auto path = slicenav::fuzz::scratch("volume") / kNames[data[0] % 4];
  slicenav::fuzz::write_file(path, data + 1, size - 1);
  try {
    const slicenav::Volume volume = slicenav::read_volume(path.string());
    for (float v : volume.voxels_as_float()) {
      if (!std::isfinite(v)) __builtin_trap();  // the reader promised finite voxels
    }
  } catch (const slicenav::Error&) {
  }
  return 0;
}
