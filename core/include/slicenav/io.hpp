// Reading and writing CT volumes: NIfTI (.nii, .nii.gz), MetaImage (.mha, .mhd), NRRD (.nrrd, .nhdr) and
// DICOM series directories. ITK does the decoding; no ITK type appears here.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "slicenav/progress.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

struct ReadOptions {
  // DICOM directories only: read this SeriesInstanceUID. Empty: the directory's only CT series.
  std::string series_uid;
  Progress progress;  // reported before the voxels are read and, for DICOM, after every slice
  // A volume of more int16 voxel bytes than this is held packed (Volume::packed()): a NIfTI file's voxels are
  // packed slice by slice as they are read, so a long scan is never all unpacked in memory; other formats' once
  // read. 0 packs every int16 volume; SIZE_MAX none.
  std::size_t pack_above_bytes = kPackAboveBytes;
};

// Reads a file (format from its extension) or a DICOM series directory. Voxels become float HU
// (DICOM rescale slope/intercept applied). Throws Error:
//   not_found          the path does not exist
//   unsupported_input  unknown extension, not 3D, more than one component, several CT series, no CT series
//   io                 unreadable or truncated file
//   invalid_argument   non-finite voxels, zero or negative spacing
// Non-fatal findings (non-CT modality, gantry tilt, uneven slice spacing, one slice) go to source().warnings.
Volume read_volume(const std::string& path, const ReadOptions& options = {});

// The gzip level of the .nii.gz files slicenav writes (write_volume, write_raw_image, and so crop_file and
// uncrop_file), given to each call: from 0 (no compression, the fastest write and the largest file) to 12
// (libdeflate's smallest and slowest). The default, kDefaultGzipLevel = 1, suits intermediate files: a 512 x 512
// x 300 CT in about 1.2 s on 2 cores, about 10 % larger than gzip -6 (docs/benchmarks.md). .mha and .nrrd
// files are written by ITK at its own setting.
inline constexpr int kDefaultGzipLevel = 1;
// Throws Error(invalid_argument) for a level outside 0-12.
void check_gzip_level(int level);

enum class PixelType {
  automatic,  // int16 when every voxel is an integer in int16 range, else float32
  int16,      // values are rounded and must fit int16
  float32,
};

// Writes .nii, .nii.gz, .mha or .nrrd (single-file formats) atomically: the data goes to a temporary file in the same
// directory, which is renamed over `path` only when complete. Throws Error(unsupported_input) for an
// unknown or two-file extension (.mhd, .nhdr), Error(invalid_argument) when int16 is forced on values
// outside its range, Error(io)
// when the directory is not writable.
// Error(invalid_argument) for a gzip level outside 0-12.
void write_volume(const Volume& volume, const std::string& path, PixelType pixel_type = PixelType::automatic,
                  int gzip_level = kDefaultGzipLevel);

// An image file's voxels exactly as stored (any scalar component type), with its grid. Crop and uncrop
// (crop.hpp) move these bytes without converting them.
struct RawImage {
  Geometry geometry;
  std::string component_type;        // ITK's name of the stored type ("short", "unsigned_char", "float", ...)
  std::size_t component_size = 0;    // bytes per voxel
  std::vector<unsigned char> bytes;  // voxel_count() * component_size, x fastest
};

// Reads a .nii, .nii.gz, .mha, .mhd, .nrrd or .nhdr file as stored. Throws like read_volume (no DICOM).
RawImage read_raw_image(const std::string& path);
// Writes a raw image atomically in its own component type, like write_volume. Throws
// Error(invalid_argument) when the bytes do not match the geometry or the type is unknown.
void write_raw_image(const RawImage& image, const std::string& path, int gzip_level = kDefaultGzipLevel);

// The format read_volume would use for a path ("nifti", "metaimage", "nrrd", "dicom"), or "" if none.
std::string format_for_path(const std::string& path);

}  // namespace slicenav
