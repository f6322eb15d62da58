// NIfTI-1 and NIfTI-2 single files (.nii, .nii.gz) as slicenav reads and writes them beside ITK: the header
// fields slicenav checks itself, checks of the stored voxel data, the voxels decoded in one pass, and a writer
// (nifti_write.cpp). ITK (io.cpp) reads the geometry; the voxels of a volume never go through ITK's NIfTI reader, which
// decompresses a .nii.gz a second time, replaces non-finite floats by 0 and does not report a short file.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slicenav/volume.hpp"

namespace slicenav::detail {

// The header fields slicenav uses, in this machine's byte order.
struct NiftiHeader {
  bool swapped = false;  // big-endian file on this machine
  std::uint64_t datatype = 0;
  double vox_offset = 0;
  std::array<double, 3> pixdim{};
  bool orientation_finite = true;       // quatern_b/c/d, qoffset_x/y/z and the srow rows: finite, |value| <= 1e9
  double scl_slope = 0, scl_inter = 0;  // as stored (non-finite kept)
  bool analyze = false;                 // magic is not "n+1", "ni1", "n+2" or "ni2"
  std::array<std::int64_t, 8> dim{};
  std::int64_t qform_code = 0, sform_code = 0;
  std::array<std::array<double, 4>, 3> srow{};  // RAS
};

// The header of a .nii or .nii.gz file, or nothing when it is not one (or cannot be opened): sizeof_hdr 348
// (NIfTI-1, with dim[0] 1 to 7 in the same byte order) or 540 (NIfTI-2), in either byte order.
std::optional<NiftiHeader> read_nifti_header(const std::string& path);

// Bytes of one stored voxel of a NIfTI datatype code; 0 for a code slicenav does not read (complex, RGB,
// float128, unknown).
std::size_t nifti_datatype_bytes(std::uint64_t datatype);

// "" when a NIfTI header's pixdim is a usable spacing, else what is wrong with it. ITK refuses a zero pixdim
// with a message about direction cosines, or reads the spacing from the sform and ignores pixdim.
std::string nifti_pixdim_problem(const NiftiHeader& header, bool zero_is_a_problem = true);

class PackedVoxels;

// Voxels as a Volume keeps them: exactly one of the three is set.
struct VolumeVoxels {
  std::shared_ptr<const std::int16_t> int16;   // whole HU that fit in int16 by the stored type and scaling
  std::shared_ptr<const PackedVoxels> packed;  // the same, packed (packed_voxels.hpp)
  std::vector<float> floats;
  Volume volume(const Geometry& geometry, SourceInfo source) &&;
};

// The `voxel_count` voxels of a NIfTI file (whose header is `header`), the stored values scaled by scl_slope and
// scl_inter as ITK scales them (a slope of 0 or not finite counts as 1, an intercept that is not finite as 0;
// Analyze files are not scaled). They are kept as int16 when the stored type is an integer, the scaling whole
// numbers and every scaled value within int16 (an int16 .nii.gz unscaled is used where it was decompressed, without
// a copy), else as float: either way ITK's float values exactly. A .nii.gz is decompressed once, in memory
// (libdeflate; through zlib's streaming decoder when the voxels exceed kStreamedInflateBytes, so the compressed file
// is never held beside them, or when a stream holds more than the header and voxels), every gzip member's CRC
// checked. Throws Error(io) for a file that is truncated, damaged or not NIfTI, Error(unsupported_input) for a voxel
// type slicenav does not read, and Error(invalid_argument) for a float voxel that is not finite. Int16 voxels of
// more than `pack_above_bytes` bytes are packed slice by slice as the file is read, never all unpacked at once.
VolumeVoxels read_nifti_voxels(const std::string& path, const NiftiHeader& header,
                               const std::array<std::size_t, 3>& size, std::size_t pack_above_bytes);
constexpr std::size_t kStreamedInflateBytes = std::size_t{512} << 20;

// A NIfTI file's voxels as ITK would store them in memory: the stored type in this machine's byte order, or float
// (double for float64) with the scaling applied when the header scales.
struct NiftiRaw {
  std::string component_type;  // ITK's name ("short", "float", ...)
  std::size_t component_size = 0;
  std::vector<unsigned char> bytes;
};

// ITK's name of a datatype's stored type ("short", "float", ...; "datatype N" for one slicenav does not read).
std::string nifti_component_name(std::uint64_t datatype);

// Like read_nifti_voxels, in the stored type (crop and uncrop move these bytes).
NiftiRaw read_nifti_raw(const std::string& path, const NiftiHeader& header, std::size_t voxel_count);

// The grid an sform says (sform_code > 0, a 3D image, orthogonal axes: spacing from the column lengths), for files
// ITK 5.2 refuses: it reads an sform only with code 1 (scanner) unless a qform agrees, so nibabel's default (sform
// code 2, no qform) fails there with "No orthonormal definition found". nullopt when the sform cannot say.
std::optional<Geometry> nifti_sform_geometry(const NiftiHeader& header);

// The NIfTI datatype code of an ITK component type name ("short", "float", ...); 0 for an unknown name.
std::int16_t nifti_datatype_of(const std::string& itk_component_type);

// Whether a path names a gzip file (its name ends in .gz, in any case).
bool is_gzip_path(const std::string& path);

// Writes `file` as a single-file NIfTI-1 (nifti_write.cpp): a 352-byte header with the grid in both the sform and
// the qform (codes 1, as ITK writes them), then the voxels as stored. `components` > 1 writes a vector image
// (dim[5] = components, intent "vector"), the voxels holding one whole component after another. `compressed` writes gzip (.nii.gz) at
// `gzip_level` (0-12, see check_gzip_level in io.hpp), as concatenated members compressed in parallel. Messages name
// `path` (the output `file` becomes). Throws Error(invalid_argument) when the bytes do not fit the grid or an axis
// exceeds 32767 voxels, Error(io) when the file cannot be written in full.
void write_nifti(const std::string& file, const std::string& path, bool compressed, const Geometry& geometry,
                 std::int16_t datatype, const unsigned char* voxels, std::size_t voxel_bytes, int gzip_level,
                 std::size_t components = 1);

}  // namespace slicenav::detail
