// Hand-made NIfTI-1 files for tests of damaged and unusual input: the writer refuses what these hold on purpose
// (non-finite voxels, zero spacing, a byte-swapped header, other voxel types, scaled values).
#pragma once

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace slicenav::test {

struct NiftiFile {
  std::array<std::int16_t, 3> size{4, 3, 2};
  std::array<float, 3> spacing{1.0f, 1.0f, 2.0f};
  std::vector<float> voxels = std::vector<float>(24, -1000.0f);  // stored as `datatype` (cast)
  bool big_endian = false;
  std::int16_t datatype = 16;  // NIfTI code: 2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 512 uint16
  float scl_slope = 1.0f, scl_inter = 0.0f;
};

// The bytes of a single-file .nii: a 348-byte header, 4 empty extension bytes, the voxels.
inline std::string nifti_bytes(const NiftiFile& f) {
  std::string out(352, '\0');
  const auto put = [&](std::size_t at, const void* value, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(value);
    for (std::size_t i = 0; i < n; ++i) out[at + i] = static_cast<char>(b[f.big_endian ? n - 1 - i : i]);
  };
  const std::int32_t sizeof_hdr = 348;
  put(0, &sizeof_hdr, 4);
  const std::int16_t dim[8] = {3, f.size[0], f.size[1], f.size[2], 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) put(40 + 2 * i, &dim[i], 2);
  const std::int16_t bitpix = f.datatype == 2                        ? 8
                              : f.datatype == 4 || f.datatype == 512 ? 16
                              : f.datatype == 64                     ? 64
                                                                     : 32;
  const std::int16_t sform_code = 1;
  put(70, &f.datatype, 2);
  put(72, &bitpix, 2);
  const float pixdim[8] = {1.0f, f.spacing[0], f.spacing[1], f.spacing[2], 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) put(76 + 4 * i, &pixdim[i], 4);
  const float vox_offset = 352;
  put(108, &vox_offset, 4);
  put(112, &f.scl_slope, 4);
  put(116, &f.scl_inter, 4);
  out[123] = 2;  // xyzt_units: mm
  put(254, &sform_code, 2);
  const float srow[3][4] = {{f.spacing[0], 0, 0, 0}, {0, f.spacing[1], 0, 0}, {0, 0, f.spacing[2], 0}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) put(280 + 16 * r + 4 * c, &srow[r][c], 4);
  std::memcpy(&out[344], "n+1\0", 4);
  const auto append = [&](auto v) {
    const std::size_t at = out.size();
    out.resize(at + sizeof v);
    put(at, &v, sizeof v);
  };
  for (float v : f.voxels) {
    switch (f.datatype) {
      case 2: append(static_cast<std::uint8_t>(v)); break;
      case 4: append(static_cast<std::int16_t>(v)); break;
      case 8: append(static_cast<std::int32_t>(v)); break;
      case 64: append(static_cast<double>(v)); break;
      case 512: append(static_cast<std::uint16_t>(v)); break;
      default: append(v); break;
    }
  }
  return out;
}

// gzip-compresses `bytes` into `path` (a .nii.gz).
inline void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

}  // namespace slicenav::test
