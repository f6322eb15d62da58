// A CT volume: HU voxels on a regular grid with world geometry and source metadata.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slicenav {

namespace detail {
class PackedVoxels;  // core/src/packed_voxels.hpp
}  // namespace detail

// World coordinates are LPS millimetres (DICOM and ITK convention: +x patient left, +y posterior,
// +z superior). z is the same number in LPS and RAS.
using Vec3 = std::array<double, 3>;
// Row-major 3x3 matrix; column a is the world direction of voxel index axis a (ITK's Direction).
using Mat3 = std::array<double, 9>;

struct Geometry {
  std::array<std::size_t, 3> size{0, 0, 0};  // voxels along index axes i, j, k
  Vec3 spacing{1.0, 1.0, 1.0};               // mm between voxel centres along i, j, k
  Vec3 origin{0.0, 0.0, 0.0};                // world position of voxel (0, 0, 0)'s centre
  Mat3 direction{1, 0, 0, 0, 1, 0, 0, 0, 1};

  std::size_t voxel_count() const { return size[0] * size[1] * size[2]; }
  // World position (mm) of a (possibly fractional) voxel index.
  Vec3 index_to_world(const Vec3& index) const;
  // Fractional voxel index of a world position; the direction must be invertible.
  Vec3 world_to_index(const Vec3& world) const;
  // Throws Error(invalid_argument) naming the problem: zero size, non-finite or non-positive spacing,
  // non-finite origin, singular or non-finite direction.
  void validate() const;
};

// An axis-aligned box in world (LPS) mm.
struct WorldBox {
  Vec3 lo{0, 0, 0}, hi{0, 0, 0};
  Vec3 centre() const { return {(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2}; }
  bool contains(const Vec3& p) const {
    return p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1] && p[2] >= lo[2] && p[2] <= hi[2];
  }
  // The box scaled by `factor` about its centre along every axis.
  WorldBox enlarged(double factor) const;
  // The box's volume, mm^3 (0 for an empty box: hi below lo along some axis).
  double volume() const;
  // A box holding every point.
  static WorldBox everything() { return {{-1e300, -1e300, -1e300}, {1e300, 1e300, 1e300}}; }
};

// The common part of two boxes (empty, with volume 0, when they do not overlap).
WorldBox intersection(const WorldBox& a, const WorldBox& b);

// The box of the voxel centres from index `first` to index `last` of `grid`, inclusive: that of the eight
// corner voxels, whatever the grid's direction.
WorldBox world_bounds(const Geometry& grid, const Vec3& first, const Vec3& last);

// Where a volume came from and what was noticed while reading it.
struct SourceInfo {
  std::string path;                // file or directory read; empty for in-memory volumes
  std::string format;              // "nifti", "metaimage", "nrrd", "dicom", "memory", "phantom"
  std::string pixel_type;          // stored component type before conversion ("int16", "float32", ...)
  std::string modality;            // DICOM Modality when known ("CT", "MR", ...)
  std::string patient_position;    // DICOM PatientPosition when known ("HFS", "FFS", ...)
  std::string series_uid;          // DICOM SeriesInstanceUID when known
  std::string series_description;  // DICOM SeriesDescription when known
  std::vector<std::string> warnings;
};

// Voxels are stored x-fastest: value(i, j, k) = voxel n = i + size[0] * (j + size[1] * k). They are kept
// either as float or as 16-bit integers: a CT read from a file of whole HU that fit in int16 (the usual
// int16, uint8 or integer-scaled files) keeps them as int16, half the memory of float, and every read gives
// them as float, exactly. Int16 voxels may also be held packed (pack_voxels(); read_volume packs long scans):
// losslessly in 0.45-0.8 of their int16 memory on CT, read row by row through CanonicalView and at() without
// unpacking. Volumes are immutable: copies share the voxels.
class Volume {
 public:
  Volume() = default;
  // Validates the geometry and that voxels.size() matches it; values must be finite.
  Volume(Geometry geometry, std::vector<float> voxels, SourceInfo source = {});
  // Validates the geometry and that voxels.size() matches it.
  Volume(Geometry geometry, std::vector<std::int16_t> voxels, SourceInfo source = {});
  // geometry.voxel_count() voxels held alive by `voxels` (from allocate_voxels, or an aliasing pointer into a buffer
  // it owns); float values must be finite.
  Volume(Geometry geometry, std::shared_ptr<const float> voxels, SourceInfo source = {});
  Volume(Geometry geometry, std::shared_ptr<const std::int16_t> voxels, SourceInfo source = {});
  // Packed int16 voxels (libslicenav's readers and pack_voxels make them); every slice must have been added.
  Volume(Geometry geometry, std::shared_ptr<const detail::PackedVoxels> voxels, SourceInfo source = {});

  const Geometry& geometry() const { return geometry_; }
  const SourceInfo& source() const { return source_; }
  SourceInfo& source() { return source_; }

  std::size_t voxel_count() const {
    return float_ != nullptr || int16_ != nullptr || packed_ != nullptr ? geometry_.voxel_count() : 0;
  }
  bool empty() const { return voxel_count() == 0; }
  // The stored voxels: float_voxels() for a float volume, int16_voxels() for an int16 one, the other nullptr.
  // int16_voxels() of a packed volume unpacks it, once, into memory its voxels keep (as much as an int16 volume's):
  // code that can read rows (CanonicalView) or single voxels (at()) reads a packed volume without that.
  const float* float_voxels() const { return float_.get(); }
  const std::int16_t* int16_voxels() const;
  // Whether the voxels are held packed, and the bytes the voxels take in memory (packed, plus the unpacked copy
  // once int16_voxels() has made it).
  bool packed() const { return packed_ != nullptr; }
  std::size_t voxel_bytes() const;
  const detail::PackedVoxels* packed_voxels() const { return packed_.get(); }
  // All voxels as float, a copy; copy_as_float writes them to out[0..voxel_count()).
  std::vector<float> voxels_as_float() const;
  void copy_as_float(float* out) const;
  // The smallest and largest voxel value.
  std::array<float, 2> value_range() const;
  // Whether some voxel is below `threshold` (stops at the first).
  bool any_below(float threshold) const;

  float at(std::size_t n) const {
    return float_ != nullptr ? float_.get()[n] : int16_ != nullptr ? static_cast<float>(int16_.get()[n]) : packed_at(n);
  }
  float at(std::size_t i, std::size_t j, std::size_t k) const {
    return at(i + geometry_.size[0] * (j + geometry_.size[1] * k));
  }

 private:
  void check_count(std::size_t count) const;
  void check_finite(const float* voxels) const;
  float packed_at(std::size_t n) const;
  Geometry geometry_;
  std::shared_ptr<const float> float_;
  std::shared_ptr<const std::int16_t> int16_;
  std::shared_ptr<const detail::PackedVoxels> packed_;
  SourceInfo source_;
};

// Room for `count` voxels of type T (float or std::int16_t), not initialised, for a Volume to own: anonymous memory
// the kernel may back with huge pages, so a whole scan is first written with few page faults.
template <typename T>
std::shared_ptr<T> allocate_voxels(std::size_t count);

// Volumes of more int16 voxel bytes than this are held packed when read (ReadOptions::pack_above_bytes): a
// 512 x 512 scan of more than 512 slices.
inline constexpr std::size_t kPackAboveBytes = std::size_t{256} << 20;

// The same volume with its int16 voxels packed (a float volume, or one already packed, comes back as it is):
// losslessly, in 0.45-0.8 of the int16 memory on CT. Packing takes about 2 ns a voxel.
Volume pack_voxels(const Volume& volume);

// Slices [first, first + count) along index axis `axis` (0, 1 or 2) as a volume of their own: voxels
// copied, spacing and direction kept, the origin moved to the centre of the first kept slice, so every kept
// voxel keeps its world position, and the voxels their storage type. The source becomes "memory". Throws
// Error(invalid_argument) for an axis outside 0..2, count 0, or a range beyond the volume.
Volume slice_range(const Volume& volume, int axis, std::size_t first, std::size_t count);

}  // namespace slicenav
