// Canonical slice geometry.
//
// Every algorithm downstream sees axial slices in one fixed anatomical order, whatever the file's axis
// order, flips or patient position:
//   canonical i: patient right -> left      (world +x, LPS)
//   canonical j: anterior -> posterior      (world +y, LPS)
//   canonical k: superior -> inferior       (world -z): slice 0 is the most superior (head end)
// In "to" letters this is LPI. Sagittal or coronal acquisitions are resliced to axial exactly, by axis
// permutation (no interpolation), with a warning. Direction cosines within max_obliquity_deg of the
// nearest world axis are tolerated (a warning above 1 degree); beyond it canonicalize() fails.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "slicenav/error.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

// Canonical axis a reads original index axis `axis[a]`, reversed when `flip[a]`.
struct AxisMap {
  std::array<int, 3> axis{0, 1, 2};
  std::array<bool, 3> flip{false, false, false};
};

// Converts between canonical and original voxel indices and world z. Fractional indices are allowed.
class SliceMapping {
 public:
  SliceMapping() = default;
  SliceMapping(const Geometry& original, const AxisMap& map);

  const AxisMap& axes() const { return map_; }
  const Geometry& original_geometry() const { return original_; }
  std::size_t slice_count() const { return original_.size[static_cast<std::size_t>(map_.axis[2])]; }
  // Distance between canonical slices along world z, mm (> 0).
  double slice_step_mm() const;

  Vec3 original_index(const Vec3& canonical) const;
  Vec3 canonical_index(const Vec3& original) const;
  // Index along the original slice axis (the original axis that became canonical k).
  double original_slice(double canonical_slice) const;
  double canonical_slice(double original_slice) const;
  // World z (mm, superior positive) of the centre of a canonical slice.
  double world_z(double canonical_slice) const;
  // Fractional canonical slice whose centre lies at world z.
  double canonical_slice_at_z(double world_z_mm) const;

 private:
  double axis_coordinate(int canonical_axis, double value) const;

  Geometry original_;
  AxisMap map_;
  double z0_ = 0.0;   // world z of canonical slice 0
  double dz_ = -1.0;  // world z change per canonical slice (< 0)
};

struct CanonicalizeOptions {
  double max_obliquity_deg = 15.0;
};

struct CanonicalVolume {
  Volume volume;         // voxels in canonical order; geometry keeps exact world positions
  SliceMapping mapping;  // back to the original grid
};

// Axis map that takes `geometry` to canonical order; throws Error(unsupported_input) when an axis is
// more oblique than allowed or two index axes point along the same world axis.
AxisMap canonical_axis_map(const Geometry& geometry, const CanonicalizeOptions& options = {});
// Largest angle (degrees) between an index axis and its nearest world axis.
double obliquity_deg(const Geometry& geometry);
// Three "to" letters of the index axes' nearest world directions, e.g. "LPS" for DICOM axial HFS.
std::string orientation_code(const Geometry& geometry);

// Checks that `geometry` can be canonicalized (throws like canonical_axis_map) and returns what a user
// should know about it: a sagittal or coronal acquisition resliced by permutation, obliquity above 1 degree.
// read_volume() appends these to SourceInfo::warnings.
std::vector<std::string> orientation_warnings(const Geometry& geometry, const CanonicalizeOptions& options = {});

// The volume's voxels reordered to canonical order (a copy, in the same storage type), with the mapping back.
// Source info is kept.
CanonicalVolume canonicalize(const Volume& volume, const CanonicalizeOptions& options = {});

// Canonical-order access to a volume's voxels without copying them (a 512x512x300 copy costs about half a
// second). Borrows the voxels: the volume must outlive the view.
class CanonicalView {
 public:
  // Reads `volume` (the original grid that `mapping` was made for) through the mapping's axis map. Throws
  // Error(invalid_argument) when the volume's size is not the mapping's original size.
  CanonicalView(const Volume& volume, const SliceMapping& mapping);
  // Reads an already canonical volume as it is.
  explicit CanonicalView(const CanonicalVolume& canonical);

  const std::array<std::size_t, 3>& size() const { return size_; }   // canonical i, j, k
  const std::array<double, 3>& spacing() const { return spacing_; }  // mm along canonical i, j, k
  const SliceMapping& mapping() const { return mapping_; }
  // Canonical row (0..size()[0] - 1, j, k) into out[0..size()[0]): as float, or as the stored int16 (an int16 volume
  // only, whose whole HU convert exactly; asked of a float volume it throws Error(internal)).
  template <typename Out>
  void row(std::size_t j, std::size_t k, Out* out) const {
    static_assert(std::is_same_v<Out, float> || std::is_same_v<Out, std::int16_t>, "rows are float or int16");
    if constexpr (std::is_same_v<Out, std::int16_t>) {
      if (float_ != nullptr) fail(Status::internal, "int16 rows asked of a volume stored as float");
    }
    if (float_ != nullptr) {
      copy_row(float_, j, k, out);
    } else if (int16_ != nullptr) {
      copy_row(int16_, j, k, out);
    } else {
      packed_row(j, k, out);
    }
  }
  float at(std::size_t i, std::size_t j, std::size_t k) const {
    const std::int64_t n = offset(j, k) + static_cast<std::int64_t>(i) * step_[0];
    return float_ != nullptr ? float_[n] : int16_ != nullptr ? static_cast<float>(int16_[n]) : packed_at(n);
  }

 private:
  template <typename T, typename Out>
  void copy_row(const T* stored, std::size_t j, std::size_t k, Out* out) const {
    const T* src = stored + offset(j, k);
    if (step_[0] == 1) {
      std::copy(src, src + size_[0], out);
    } else {
      for (std::size_t i = 0; i < size_[0]; ++i)
        out[i] = static_cast<Out>(src[static_cast<std::int64_t>(i) * step_[0]]);
    }
  }
  // A packed volume's row: one stored row unpacked when the canonical x axis is the stored one, else voxel by voxel.
  template <typename Out>
  void packed_row(std::size_t j, std::size_t k, Out* out) const;
  float packed_at(std::int64_t n) const;
  std::int64_t offset(std::size_t j, std::size_t k) const {
    return base_ + static_cast<std::int64_t>(j) * step_[1] + static_cast<std::int64_t>(k) * step_[2];
  }
  const float* float_ = nullptr;  // the volume's voxels: one of the three is set
  const std::int16_t* int16_ = nullptr;
  const detail::PackedVoxels* packed_ = nullptr;
  std::array<std::size_t, 2> stored_plane_{};  // the stored grid's size along i and j (packed volumes)
  std::array<std::size_t, 3> size_{};
  std::array<double, 3> spacing_{};
  std::array<std::int64_t, 3> step_{};
  std::int64_t base_ = 0;
  SliceMapping mapping_;
};

}  // namespace slicenav
