// Fuzzes the volume reader on NIfTI (.nii, .nii.gz), MetaImage (.mha) and NRRD (.nrrd) files. The first input byte
// picks the format, the rest is the file. Reading either succeeds (a finite, valid volume) or throws slicenav::Error;
// anything else (a crash, a sanitizer report, another exception) is a finding. Each file is also read with every
// int16 volume packed (the path long scans take): it must succeed or fail as the plain read does, with the same
// voxels.
#include <cmath>
#include <optional>
#include <vector>

#include "fuzz_support.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"

namespace {

// The voxels read with `options`, or nothing when the reader refused the file.
std::optional<std::vector<float>> read_voxels(const std::string& path, const slicenav::ReadOptions& options) {
  try {
    return slicenav::read_volume(path, options).voxels_as_float();
  } catch (const slicenav::Error&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const char* const kNames[] = {"input.nii", "input.nii.gz", "input.mha", "input.nrrd"};
  const auto path = slicenav::fuzz::scratch("volume") / kNames[data[0] % 4];
  slicenav::fuzz::write_file(path, data + 1, size - 1);
  const std::optional<std::vector<float>> plain = read_voxels(path.string(), {});
  if (plain) {
    for (float v : *plain) {
      if (!std::isfinite(v)) __builtin_trap();  // the reader promised finite voxels
    }
  }
  slicenav::ReadOptions packing;
  packing.pack_above_bytes = 0;
  if (read_voxels(path.string(), packing) != plain) __builtin_trap();  // packed reads differ from plain ones
  return 0;
}
