#include "nifti.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <type_traits>
#include <utility>

#include "memory_map.hpp"
#include "packed_voxels.hpp"
#include "slicenav/error.hpp"

namespace slicenav::detail {
namespace fs = std::filesystem;
namespace {

// The header of a .nii or .nii.gz file (zlib reads plain files through), or nothing when it is not one.
std::optional<NiftiHeader> read_header(gzFile file) {
  unsigned char header[540] = {};
  const int got = gzread(file, header, sizeof header);
  if (got < 348) return std::nullopt;
  const auto field = [&](std::size_t at, std::size_t n, bool big) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(header[at + (big ? n - 1 - i : i)]) << (8 * i);
    return v;
  };
  const auto float_at = [&](std::size_t at, bool big) {
    const auto bits = static_cast<std::uint32_t>(field(at, 4, big));
    float v = 0;
    std::memcpy(&v, &bits, 4);
    return static_cast<double>(v);
  };
  const auto double_at = [&](std::size_t at, bool big) {
    const std::uint64_t bits = field(at, 8, big);
    double v = 0;
    std::memcpy(&v, &bits, 8);
    return v;
  };
  NiftiHeader h;
  const std::uint64_t size = field(0, 4, false);
  h.swapped = size != 348 && size != 540;
  const std::uint64_t own_size = field(0, 4, h.swapped);
  // The NIfTI library picks the byte order from dim[0] (1 to 7) before sizeof_hdr: a header whose dim[0] reads
  // right only in the other order is read by it in that order, so it is not the header checked here.
  const auto dim0 = static_cast<std::int16_t>(field(40, 2, h.swapped));
  if (own_size == 348 && (dim0 < 1 || dim0 > 7)) return std::nullopt;
  // Orientation values ITK multiplies and decomposes in float: beyond this it overflows to NaN and aborts.
  constexpr double kMaxOrientationValue = 1e9;
  const auto usable = [&](double v) { return std::isfinite(v) && std::abs(v) <= kMaxOrientationValue; };
  // Where the two versions keep each field, and how wide their numbers are.
  struct Layout {
    std::size_t datatype, vox_offset, pixdim, orientation, orientation_end, scl, dim, dim_width, qform_code, sform_code,
        code_width, srow, real_width;
    const char* magic[2];
    std::size_t magic_at;
  };
  static constexpr Layout kNifti1{70, 108, 80, 256, 328, 112, 40, 2, 252, 254, 2, 280, 4, {"n+1", "ni1"}, 344};
  static constexpr Layout kNifti2{12, 168, 112, 352, 496, 176, 16, 8, 344, 348, 4, 400, 8, {"n+2", "ni2"}, 4};
  if (own_size != 348 && !(own_size == 540 && got == 540)) return std::nullopt;
  const Layout& l = own_size == 348 ? kNifti1 : kNifti2;
  const auto real_at = [&](std::size_t at) {
    return l.real_width == 4 ? float_at(at, h.swapped) : double_at(at, h.swapped);
  };
  const auto signed_at = [&](std::size_t at, std::size_t width) {
    const std::uint64_t v = field(at, width, h.swapped);
    const std::uint64_t sign = std::uint64_t{1} << (8 * width - 1);
    return static_cast<std::int64_t>(width == 8 ? v : (v ^ sign) - sign);  // sign-extended
  };
  h.datatype = field(l.datatype, 2, h.swapped);
  // NIfTI-1 keeps vox_offset as a float, NIfTI-2 as an integer.
  h.vox_offset = l.real_width == 4 ? real_at(l.vox_offset) : static_cast<double>(signed_at(l.vox_offset, 8));
  for (std::size_t a = 0; a < 3; ++a) h.pixdim[a] = real_at(l.pixdim + l.real_width * a);
  for (std::size_t at = l.orientation; at < l.orientation_end; at += l.real_width) {
    h.orientation_finite = h.orientation_finite && usable(real_at(at));
  }
  h.scl_slope = real_at(l.scl);
  h.scl_inter = real_at(l.scl + l.real_width);
  h.analyze =
      std::memcmp(header + l.magic_at, l.magic[0], 4) != 0 && std::memcmp(header + l.magic_at, l.magic[1], 4) != 0;
  for (std::size_t d = 0; d < 8; ++d) h.dim[d] = signed_at(l.dim + l.dim_width * d, l.dim_width);
  h.qform_code = signed_at(l.qform_code, l.code_width);
  h.sform_code = signed_at(l.sform_code, l.code_width);
  for (std::size_t r = 0; r < 3; ++r) {
    for (std::size_t c = 0; c < 4; ++c) h.srow[r][c] = real_at(l.srow + l.real_width * (4 * r + c));
  }
  return h;
}

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

GzFile open_gzip(const std::string& path) { return GzFile(gzopen(path.c_str(), "rb"), gzclose); }

[[noreturn]] void damaged_stream(const std::string& path) {
  fail(Status::io, "cannot read '" + path + "': the compressed file is truncated or damaged");
}

// Reads `bytes` bytes of a file through zlib (a plain file is read as it is); false when it ends first.
bool read_fully(gzFile file, unsigned char* out, std::size_t bytes) {
  while (bytes > 0) {
    const int n = gzread(file, out, static_cast<unsigned>(std::min<std::size_t>(bytes, 1u << 30)));
    if (n <= 0) return false;
    out += n;
    bytes -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads the rest of a stream to its end, so a damaged gzip member after the voxels is still caught by its CRC.
void read_to_end(gzFile file, const std::string& path) {
  std::vector<unsigned char> rest(1 << 20);
  int n = 1;
  while (n > 0) n = gzread(file, rest.data(), static_cast<unsigned>(rest.size()));
  int error = Z_OK;
  gzerror(file, &error);
  if (n < 0 || (error != Z_OK && error != Z_STREAM_END)) damaged_stream(path);
}

// The first `needed` bytes of a gzip stream through zlib, then the rest of the stream read to its end.
Mapping inflate_with_zlib(const std::string& path, std::size_t needed) {
  GzFile file = open_gzip(path);
  if (!file) fail(Status::io, "cannot read '" + path + "'");
  Mapping out = Mapping::anonymous(needed);
  if (!read_fully(file.get(), out.data(), needed)) damaged_stream(path);
  read_to_end(file.get(), path);
  return out;
}

bool is_gzip(const Mapping& file) { return file.size() >= 2 && file.data()[0] == 0x1f && file.data()[1] == 0x8b; }

// Refuses a file that cannot hold the `needed` bytes of header, extensions and voxels before any room is made for
// them: a plain file shorter than that, or a gzip file too small to expand to it (deflate expands at most 1032-fold).
void check_file_holds(const std::string& path, const Mapping& file, std::size_t needed) {
  constexpr std::size_t kMaxDeflateRatio = 1032;
  if (!is_gzip(file) && file.size() < needed) fail(Status::io, "cannot read '" + path + "': the file is truncated");
  if (is_gzip(file) && (file.size() < 18 || needed / kMaxDeflateRatio > file.size())) damaged_stream(path);
}

// The first `needed` bytes (header, extensions, voxels) of a gzip file's stream, decompressed in memory by
// libdeflate, member by member, each member's CRC and size checked; check_file_holds has passed.
Mapping inflate(const std::string& path, const Mapping& packed, std::size_t needed) {
  const unsigned char* in = packed.data();
  const std::size_t tail = packed.size() - 4;
  const std::size_t isize = in[tail] | (in[tail + 1] << 8) | (in[tail + 2] << 16) | (std::size_t(in[tail + 3]) << 24);
  // Room for data after the voxels when the (last) member's size field says there is some.
  constexpr std::size_t kMaxTrailingBytes = std::size_t{64} << 20;
  const std::size_t capacity = isize > needed && isize - needed <= kMaxTrailingBytes ? isize : needed;
  Mapping out = Mapping::anonymous(capacity);
  const std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> decompressor(
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  if (!decompressor) fail(Status::internal, "cannot read '" + path + "': out of memory for the decompressor");
  std::size_t in_at = 0, out_at = 0;
  // Members until the input ends or what follows is not a gzip member (zero padding some writers add).
  while (packed.size() - in_at >= 18 && in[in_at] == 0x1f && in[in_at + 1] == 0x8b) {
    if (out_at == capacity) return inflate_with_zlib(path, needed);  // more members after the voxels
    std::size_t in_used = 0, out_used = 0;
    const libdeflate_result r =
        libdeflate_gzip_decompress_ex(decompressor.get(), in + in_at, packed.size() - in_at, out.data() + out_at,
                                      capacity - out_at, &in_used, &out_used);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE) return inflate_with_zlib(path, needed);  // more data after the voxels
    if (r != LIBDEFLATE_SUCCESS) damaged_stream(path);
    in_at += in_used;
    out_at += out_used;
  }
  if (out_at < needed) damaged_stream(path);
  return out;
}

// Stored voxel n of type T, in this machine's byte order; a float that is not finite is refused.
template <typename T>
T stored_value(const unsigned char* data, std::size_t n, bool swapped, const std::string& path) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, data + n * sizeof(T), sizeof(T));
  if (swapped) std::reverse(bytes, bytes + sizeof(T));
  T v;
  std::memcpy(&v, bytes, sizeof(T));
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) {
      fail(Status::invalid_argument, "'" + path + "' holds a non-finite voxel value (NaN or infinity) at voxel " +
                                         std::to_string(n) + ": CT values must be finite");
    }
  }
  return v;
}

// Stored voxels of type T as float, scaled as ITK scales them: integers become float first, then
// value * slope + intercept in double precision.
template <typename T>
void convert(const unsigned char* data, std::size_t count, bool swapped, bool rescale, double slope, double inter,
             const std::string& path, float* out) {
  for (std::size_t n = 0; n < count; ++n) {
    const T v = stored_value<T>(data, n, swapped, path);
    if constexpr (std::is_same_v<T, double>) {
      out[n] = static_cast<float>(rescale ? v * slope + inter : v);
    } else {
      const auto f = static_cast<float>(v);
      out[n] = rescale ? static_cast<float>(static_cast<double>(f) * slope + inter) : f;
    }
  }
}
}  // namespace

std::optional<NiftiHeader> read_nifti_header(const std::string& path) {
  GzFile file = open_gzip(path);
  return file ? read_header(file.get()) : std::nullopt;
}

std::size_t nifti_datatype_bytes(std::uint64_t datatype) {
  switch (datatype) {
    case 2:
    case 256: return 1;  // uint8, int8
    case 4:
    case 512: return 2;  // int16, uint16
    case 8:
    case 768:
    case 16: return 4;  // int32, uint32, float32
    case 64:
    case 1024:
    case 1280: return 8;  // float64, int64, uint64
    default: return 0;
  }
}

std::string nifti_pixdim_problem(const NiftiHeader& header, bool zero_is_a_problem) {
  const NiftiHeader* h = &header;
  for (int a = 0; a < 3; ++a) {
    if ((zero_is_a_problem && h->pixdim[a] == 0.0) || !std::isfinite(h->pixdim[a])) {
      std::ostringstream msg;
      msg << "voxel spacing " << h->pixdim[a] << " mm along axis "
          << "ijk"[a] << " (pixdim[" << a + 1 << "])";
      return msg.str();
    }
  }
  return {};
}

namespace {

// The scaling ITK applies to a NIfTI file's stored values.
struct Scaling {
  bool rescale = false;
  double slope = 1, inter = 0;
  double applied(double value) const { return rescale ? value * slope + inter : value; }
};

Scaling scaling_of(const NiftiHeader& h) {
  Scaling s;
  // nifti1_io sets a slope or intercept that is not finite to 0; ITK then takes a zero slope as 1.
  s.slope = std::isfinite(h.scl_slope) ? h.scl_slope : 0.0;
  s.inter = std::isfinite(h.scl_inter) ? h.scl_inter : 0.0;
  constexpr double eps = std::numeric_limits<double>::epsilon();
  if (std::abs(s.slope) < eps) s.slope = 1.0;
  if (h.analyze) s.slope = 1.0, s.inter = 0.0;
  s.rescale = std::abs(s.slope - 1.0) > eps || std::abs(s.inter) > eps;
  return s;
}

// Whether scaling keeps every integer whole (slope and intercept whole numbers, or no scaling).
bool whole_scaling(const Scaling& s) {
  return !s.rescale || (s.slope == std::round(s.slope) && s.inter == std::round(s.inter));
}

// A NIfTI file's stored voxels, decoded (a .nii.gz inflated) but not converted, and the scaling ITK applies.
struct StoredVoxels {
  Mapping file, stream;
  const unsigned char* data = nullptr;  // voxel_count values of the header's datatype, in the file's byte order
  std::size_t width = 0;
  Scaling scaling;
};

// The byte offset of a NIfTI file's voxels in its stream, once the header's datatype, offset and voxel count are
// known to be usable.
std::size_t checked_voxel_offset(const std::string& path, const NiftiHeader& h, std::size_t voxel_count) {
  const std::size_t width = nifti_datatype_bytes(h.datatype);
  if (width == 0) {
    fail(Status::unsupported_input, "'" + path + "' stores its voxels as NIfTI datatype " + std::to_string(h.datatype) +
                                        ", which slicenav does not read: CT volumes are integer or float scalars");
  }
  if (!std::isfinite(h.vox_offset) || h.vox_offset < 0 || h.vox_offset > 1e12) {
    fail(Status::io,
         "cannot read '" + path + "': its NIfTI header's vox_offset is not a usable offset (damaged header)");
  }
  const auto offset = static_cast<std::size_t>(h.vox_offset);
  if (voxel_count > (std::numeric_limits<std::size_t>::max() - offset) / width) {
    fail(Status::io,
         "cannot read '" + path + "': its header claims " + std::to_string(voxel_count) + " voxels (damaged header)");
  }
  return offset;
}

constexpr double kExactInFloat = 16777216.0;  // 2^24: larger integers are not exact after ITK's float step

// Whether a stored integer, scaled, is exact through ITK's float step and within int16.
bool scaled_value_fits_int16(double value, const Scaling& s) {
  const double scaled = s.applied(value);
  return std::abs(value) <= kExactInFloat && scaled >= std::numeric_limits<std::int16_t>::min() &&
         scaled <= std::numeric_limits<std::int16_t>::max();
}

StoredVoxels stored_voxels(const std::string& path, const NiftiHeader& h, std::size_t voxel_count) {
  StoredVoxels v;
  const std::size_t offset = checked_voxel_offset(path, h, voxel_count);
  v.width = nifti_datatype_bytes(h.datatype);
  const std::size_t bytes = voxel_count * v.width;
  v.file = Mapping::of_file(path);
  const bool compressed = is_gzip(v.file);
  check_file_holds(path, v.file, offset + bytes);
  if (compressed && offset + bytes > kStreamedInflateBytes) {
    v.file = Mapping();  // never touched beyond its first bytes: zlib reads the file in pieces
    v.stream = inflate_with_zlib(path, offset + bytes);
  } else if (compressed) {
    v.stream = inflate(path, v.file, offset + bytes);
    v.file = Mapping();  // the compressed bytes are not needed again: unmapped before the conversion's buffer exists
  }
  v.data = (compressed ? v.stream.data() : v.file.data()) + offset;
  v.scaling = scaling_of(h);
  return v;
}

// Whether a NIfTI file's stored integers of type T, scaled, are whole numbers within int16 (so int16 holds the float
// values ITK gives exactly): scaling by whole numbers, and every scaled value in range (one pass over the voxels,
// skipped for unscaled 8- and 16-bit signed types and 8-bit unsigned ones).
template <typename T>
bool scaled_fits_int16(const StoredVoxels& v, std::size_t count, bool swapped, const std::string& path) {
  if (!whole_scaling(v.scaling)) return false;
  if (!v.scaling.rescale && (std::is_same_v<T, std::int16_t> || sizeof(T) == 1)) return true;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t n = 0; n < count; ++n) {
    const auto value = static_cast<double>(stored_value<T>(v.data, n, swapped, path));
    lo = std::min(lo, value);
    hi = std::max(hi, value);
  }
  // Scaling is monotonic: the smallest and largest values fit when every value does.
  return count > 0 && scaled_value_fits_int16(lo, v.scaling) && scaled_value_fits_int16(hi, v.scaling);
}

// The voxels of a file that scaled_fits_int16, as int16. An unscaled int16 stream in this machine's byte order is
// used where it was decompressed (the volume then owns that memory); any other is converted.
template <typename T>
std::shared_ptr<const std::int16_t> int16_voxels(StoredVoxels&& v, std::size_t count, bool swapped,
                                                 const std::string& path) {
  if (std::is_same_v<T, std::int16_t> && !v.scaling.rescale && !swapped && v.stream.size() > 0 &&
      reinterpret_cast<std::uintptr_t>(v.data) % alignof(std::int16_t) == 0) {
    const auto stream = std::make_shared<Mapping>(std::move(v.stream));
    return std::shared_ptr<const std::int16_t>(stream, reinterpret_cast<const std::int16_t*>(v.data));
  }
  const std::shared_ptr<std::int16_t> stored = allocate_voxels<std::int16_t>(count);
  std::int16_t* dst = stored.get();
  for (std::size_t n = 0; n < count; ++n) {
    const auto value = static_cast<double>(stored_value<T>(v.data, n, swapped, path));
    dst[n] = static_cast<std::int16_t>(v.scaling.applied(value));
  }
  return stored;
}

// The voxels of a NIfTI file of stored integers T, packed slice by slice as the file is read (zlib inflates a
// .nii.gz and reads a .nii as it is), so no more than one slice of them is ever unpacked; nullptr when a scaled
// value is not a whole number within int16 (they are then read as float). The rest of a gzip stream is read
// to its end, so every member's CRC is checked.
template <typename T>
std::shared_ptr<const PackedVoxels> packed_voxels(const std::string& path, const NiftiHeader& h,
                                                  const std::array<std::size_t, 3>& size) {
  const std::size_t count = size[0] * size[1] * size[2];
  const std::size_t offset = checked_voxel_offset(path, h, count);
  const Scaling scaling = scaling_of(h);
  if (!whole_scaling(scaling)) return nullptr;
  check_file_holds(path, Mapping::of_file(path), offset + count * sizeof(T));
  GzFile file = open_gzip(path);
  if (!file) fail(Status::io, "cannot read '" + path + "'");
  std::vector<unsigned char> stored(std::max(offset, size[0] * size[1] * sizeof(T)));
  const auto truncated = [&] {
    int error = Z_OK;
    gzerror(file.get(), &error);
    if (gzdirect(file.get()) && error == Z_OK) fail(Status::io, "cannot read '" + path + "': the file is truncated");
    damaged_stream(path);
  };
  if (!read_fully(file.get(), stored.data(), offset)) truncated();
  constexpr bool kAlwaysFits = std::is_same_v<T, std::int16_t> || sizeof(T) == 1;
  const auto packed = std::make_shared<PackedVoxels>(size);
  std::vector<std::int16_t> slice(size[0] * size[1]);
  for (std::size_t k = 0; k < size[2]; ++k) {
    if (!read_fully(file.get(), stored.data(), slice.size() * sizeof(T))) truncated();
    for (std::size_t n = 0; n < slice.size(); ++n) {
      const T v = stored_value<T>(stored.data(), n, h.swapped, path);
      if (kAlwaysFits && !scaling.rescale) {
        slice[n] = static_cast<std::int16_t>(v);
        continue;
      }
      const auto value = static_cast<double>(v);
      if (!scaled_value_fits_int16(value, scaling)) return nullptr;
      slice[n] = static_cast<std::int16_t>(scaling.applied(value));
    }
    packed->add_slice(slice.data());
  }
  read_to_end(file.get(), path);
  return packed;
}

// Calls f(T{}) with the stored type of a datatype nifti_datatype_bytes accepts.
template <typename F>
void with_stored_type(std::uint64_t datatype, F&& f) {
  switch (datatype) {
    case 2: f(std::uint8_t{}); break;
    case 256: f(std::int8_t{}); break;
    case 4: f(std::int16_t{}); break;
    case 512: f(std::uint16_t{}); break;
    case 8: f(std::int32_t{}); break;
    case 768: f(std::uint32_t{}); break;
    case 1024: f(std::int64_t{}); break;
    case 1280: f(std::uint64_t{}); break;
    case 16: f(float{}); break;
    default: f(double{}); break;  // 64, the only other type of nifti_datatype_bytes
  }
}

// ITK's name of a stored type.
template <typename T>
const char* itk_component_name() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return "unsigned_char";
  if constexpr (std::is_same_v<T, std::int8_t>) return "char";
  if constexpr (std::is_same_v<T, std::int16_t>) return "short";
  if constexpr (std::is_same_v<T, std::uint16_t>) return "unsigned_short";
  if constexpr (std::is_same_v<T, std::int32_t>) return "int";
  if constexpr (std::is_same_v<T, std::uint32_t>) return "unsigned_int";
  if constexpr (std::is_same_v<T, std::int64_t>) return "long_long";
  if constexpr (std::is_same_v<T, std::uint64_t>) return "unsigned_long_long";
  if constexpr (std::is_same_v<T, float>) return "float";
  return "double";
}

}  // namespace

std::string nifti_component_name(std::uint64_t datatype) {
  if (nifti_datatype_bytes(datatype) == 0) return "datatype " + std::to_string(datatype);
  std::string name;
  with_stored_type(datatype, [&](auto tag) { name = itk_component_name<decltype(tag)>(); });
  return name;
}

std::int16_t nifti_datatype_of(const std::string& itk_component_type) {
  // ITK names 8-byte integers "long" on this platform, as well as "long_long".
  const std::string name = itk_component_type == "long"            ? "long_long"
                           : itk_component_type == "unsigned_long" ? "unsigned_long_long"
                                                                   : itk_component_type;
  for (const std::int16_t code : {2, 256, 4, 512, 8, 768, 1024, 1280, 16, 64}) {
    if (nifti_component_name(static_cast<std::uint64_t>(code)) == name) return code;
  }
  return 0;
}

Volume VolumeVoxels::volume(const Geometry& geometry, SourceInfo source) && {
  if (packed != nullptr) return Volume(geometry, std::move(packed), std::move(source));
  if (int16 != nullptr) return Volume(geometry, std::move(int16), std::move(source));
  return Volume(geometry, std::move(floats), std::move(source));
}

VolumeVoxels read_nifti_voxels(const std::string& path, const NiftiHeader& header,
                               const std::array<std::size_t, 3>& size, std::size_t pack_above_bytes) {
  const std::size_t voxel_count = size[0] * size[1] * size[2];
  VolumeVoxels out;
  if (voxel_count * sizeof(std::int16_t) > pack_above_bytes && nifti_datatype_bytes(header.datatype) != 0) {
    with_stored_type(header.datatype, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_integral_v<T>) out.packed = packed_voxels<T>(path, header, size);
    });
    if (out.packed != nullptr) return out;
  }
  StoredVoxels v = stored_voxels(path, header, voxel_count);
  with_stored_type(header.datatype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      if (scaled_fits_int16<T>(v, voxel_count, header.swapped, path)) {
        out.int16 = int16_voxels<T>(std::move(v), voxel_count, header.swapped, path);
        return;
      }
    }
    out.floats.resize(voxel_count);
    convert<T>(v.data, voxel_count, header.swapped, v.scaling.rescale, v.scaling.slope, v.scaling.inter, path,
               out.floats.data());
  });
  return out;
}

NiftiRaw read_nifti_raw(const std::string& path, const NiftiHeader& header, std::size_t voxel_count) {
  const StoredVoxels v = stored_voxels(path, header, voxel_count);
  NiftiRaw raw;
  with_stored_type(header.datatype, [&](auto tag) {
    using T = decltype(tag);
    if (v.scaling.rescale && !std::is_same_v<T, double>) {  // ITK reads scaled voxels as float
      raw.component_type = "float";
      raw.component_size = sizeof(float);
      raw.bytes.resize(voxel_count * sizeof(float));
      convert<T>(v.data, voxel_count, header.swapped, true, v.scaling.slope, v.scaling.inter, path,
                 reinterpret_cast<float*>(raw.bytes.data()));
      return;
    }
    raw.component_type = itk_component_name<T>();
    raw.component_size = sizeof(T);
    raw.bytes.resize(voxel_count * sizeof(T));
    for (std::size_t n = 0; n < voxel_count; ++n) {
      T value = stored_value<T>(v.data, n, header.swapped, path);
      if constexpr (std::is_same_v<T, double>) {
        value = v.scaling.applied(value);
      }
      std::memcpy(raw.bytes.data() + n * sizeof(T), &value, sizeof(T));
    }
  });
  return raw;
}

std::optional<Geometry> nifti_sform_geometry(const NiftiHeader& h) {
  if (h.sform_code <= 0 || h.dim[0] < 3 || h.dim[0] > 7) return std::nullopt;
  for (int a = 4; a <= h.dim[0]; ++a) {
    if (h.dim[a] != 1) return std::nullopt;
  }
  Geometry g;
  for (int a = 0; a < 3; ++a) {
    if (h.dim[a + 1] < 1) return std::nullopt;
    g.size[a] = static_cast<std::size_t>(h.dim[a + 1]);
  }
  std::array<std::array<double, 3>, 3> columns{};  // LPS
  for (int c = 0; c < 3; ++c) {
    double norm = 0;
    for (int r = 0; r < 3; ++r) {
      columns[c][r] = (r < 2 ? -1.0 : 1.0) * h.srow[r][c];
      norm += columns[c][r] * columns[c][r];
    }
    norm = std::sqrt(norm);
    if (!(norm > 0) || !std::isfinite(norm)) return std::nullopt;
    g.spacing[c] = norm;
    for (int r = 0; r < 3; ++r) g.direction[3 * r + c] = columns[c][r] / norm;
  }
  // Orthogonal axes only: a sheared sform has no rigid reading.
  constexpr double kMaxCosine = 1e-4;
  for (int a = 0; a < 3; ++a) {
    for (int b = a + 1; b < 3; ++b) {
      double dot = 0;
      for (int r = 0; r < 3; ++r) dot += g.direction[3 * r + a] * g.direction[3 * r + b];
      if (std::abs(dot) > kMaxCosine) return std::nullopt;
    }
  }
  g.origin = {-h.srow[0][3], -h.srow[1][3], h.srow[2][3]};
  return g;
}
}  // namespace slicenav::detail
