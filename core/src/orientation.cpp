#include "slicenav/orientation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "packed_voxels.hpp"
#include "slicenav/error.hpp"

namespace slicenav {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kObliquityWarningDeg = 1.0;

// World axis (0 = x, 1 = y, 2 = z) nearest to index axis `a`, and the cosine of the angle to it.
std::pair<int, double> nearest_world_axis(const Geometry& g, int a) {
  int best = 0;
  for (int w = 1; w < 3; ++w) {
    if (std::abs(g.direction[3 * w + a]) > std::abs(g.direction[3 * best + a])) best = w;
  }
  return {best, g.direction[3 * best + a]};
}

double angle_deg(double cosine) { return std::acos(std::min(1.0, std::abs(cosine))) * 180.0 / kPi; }

}  // namespace

double obliquity_deg(const Geometry& geometry) {
  double worst = 0.0;
  for (int a = 0; a < 3; ++a) worst = std::max(worst, angle_deg(nearest_world_axis(geometry, a).second));
  return worst;
}

std::string orientation_code(const Geometry& geometry) {
  static const char* positive = "LPS";
  static const char* negative = "RAI";
  std::string code;
  for (int a = 0; a < 3; ++a) {
    const auto [w, cosine] = nearest_world_axis(geometry, a);
    code += cosine >= 0 ? positive[w] : negative[w];
  }
  return code;
}

AxisMap canonical_axis_map(const Geometry& geometry, const CanonicalizeOptions& options) {
  AxisMap map;
  std::array<int, 3> taken{-1, -1, -1};
  for (int a = 0; a < 3; ++a) {
    const auto [w, cosine] = nearest_world_axis(geometry, a);
    const double angle = angle_deg(cosine);
    if (angle > options.max_obliquity_deg) {
      std::ostringstream msg;
      msg << "volume is oblique: index axis "
          << "ijk"[a] << " is " << angle << " degrees from the nearest world axis (tolerance "
          << options.max_obliquity_deg << " degrees); reslice it to an axis-aligned grid first";
      fail(Status::unsupported_input, msg.str());
    }
    if (taken[w] >= 0) {
      fail(Status::unsupported_input, std::string("volume direction matrix is degenerate: index axes ") +
                                          "ijk"[taken[w]] + " and " + "ijk"[a] + " both point along world " + "xyz"[w]);
    }
    taken[w] = a;
    map.axis[w] = a;
    // Canonical i runs to +x (left), j to +y (posterior), k to -z (inferior).
    map.flip[w] = (w == 2) ? cosine > 0 : cosine < 0;
  }
  return map;
}

SliceMapping::SliceMapping(const Geometry& original, const AxisMap& map) : original_(original), map_(map) {
  const Vec3 centre{(static_cast<double>(original_.size[map_.axis[0]]) - 1.0) / 2.0,
                    (static_cast<double>(original_.size[map_.axis[1]]) - 1.0) / 2.0, 0.0};
  z0_ = original_.index_to_world(original_index(centre))[2];
  dz_ = original_.index_to_world(original_index({centre[0], centre[1], 1.0}))[2] - z0_;
}

double SliceMapping::slice_step_mm() const { return -dz_; }

// Along canonical axis c, index x of original axis a = axis[c] corresponds to `last - x` when flipped:
// the map and its inverse differ only in which side is indexed by c.
double SliceMapping::axis_coordinate(int c, double value) const {
  const double last = static_cast<double>(original_.size[map_.axis[c]]) - 1.0;
  return map_.flip[c] ? last - value : value;
}

Vec3 SliceMapping::original_index(const Vec3& canonical) const {
  Vec3 original{};
  for (int c = 0; c < 3; ++c) original[map_.axis[c]] = axis_coordinate(c, canonical[c]);
  return original;
}

Vec3 SliceMapping::canonical_index(const Vec3& original) const {
  Vec3 canonical{};
  for (int c = 0; c < 3; ++c) canonical[c] = axis_coordinate(c, original[map_.axis[c]]);
  return canonical;
}

double SliceMapping::original_slice(double canonical_slice) const { return axis_coordinate(2, canonical_slice); }

double SliceMapping::canonical_slice(double original_slice) const { return axis_coordinate(2, original_slice); }

double SliceMapping::world_z(double canonical_slice) const { return z0_ + dz_ * canonical_slice; }

double SliceMapping::canonical_slice_at_z(double world_z_mm) const { return (world_z_mm - z0_) / dz_; }

std::vector<std::string> orientation_warnings(const Geometry& geometry, const CanonicalizeOptions& options) {
  const AxisMap map = canonical_axis_map(geometry, options);
  std::vector<std::string> warnings;
  if (map.axis[2] != 2) {
    // The file's slice axis k runs along world x (sagittal slices) or y (coronal slices).
    const char* plane = map.axis[0] == 2 ? "sagittal" : "coronal";
    warnings.push_back(std::string("volume was acquired in ") + plane + " slices (file axis " + "ijk"[map.axis[2]] +
                       " runs along z): resliced to axial by axis permutation, no interpolation");
  }
  const double oblique = obliquity_deg(geometry);
  if (oblique > kObliquityWarningDeg) {
    std::ostringstream msg;
    msg.precision(3);
    msg << "volume is oblique by " << oblique << " degrees: treated as axis-aligned (world z of a slice is "
        << "taken at its centre)";
    warnings.push_back(msg.str());
  }
  return warnings;
}

CanonicalView::CanonicalView(const Volume& volume, const SliceMapping& mapping)
    : float_(volume.float_voxels()),
      int16_(volume.packed() ? nullptr : volume.int16_voxels()),
      packed_(volume.packed_voxels()),
      stored_plane_{volume.geometry().size[0], volume.geometry().size[1]},
      mapping_(mapping) {
  const Geometry& g = volume.geometry();
  if (g.size != mapping.original_geometry().size) {
    fail(Status::invalid_argument, "canonical view: the volume's size differs from the slice mapping's");
  }
  const AxisMap& map = mapping.axes();
  const std::array<std::int64_t, 3> stride{1, static_cast<std::int64_t>(g.size[0]),
                                           static_cast<std::int64_t>(g.size[0] * g.size[1])};
  for (int c = 0; c < 3; ++c) {
    const int a = map.axis[c];
    size_[c] = g.size[a];
    spacing_[c] = g.spacing[a];
    step_[c] = map.flip[c] ? -stride[a] : stride[a];
    if (map.flip[c]) base_ += static_cast<std::int64_t>(g.size[a] - 1) * stride[a];
  }
}

CanonicalView::CanonicalView(const CanonicalVolume& canonical)
    : float_(canonical.volume.float_voxels()),
      int16_(canonical.volume.packed() ? nullptr : canonical.volume.int16_voxels()),
      packed_(canonical.volume.packed_voxels()),
      stored_plane_{canonical.volume.geometry().size[0], canonical.volume.geometry().size[1]},
      mapping_(canonical.mapping) {
  const Geometry& g = canonical.volume.geometry();
  size_ = g.size;
  spacing_ = g.spacing;
  step_ = {1, static_cast<std::int64_t>(g.size[0]), static_cast<std::int64_t>(g.size[0] * g.size[1])};
}

template <typename Out>
void CanonicalView::packed_row(std::size_t j, std::size_t k, Out* out) const {
  const std::int64_t n = offset(j, k);
  if (step_[0] == 1 || step_[0] == -1) {  // canonical x is the stored x: the row is a stored row
    const auto first = static_cast<std::size_t>(step_[0] == 1 ? n : n - static_cast<std::int64_t>(size_[0] - 1));
    const std::size_t plane = stored_plane_[0] * stored_plane_[1];
    packed_->row((first / stored_plane_[0]) % stored_plane_[1], first / plane, out);
    if (step_[0] == -1) std::reverse(out, out + size_[0]);
    return;
  }
  for (std::size_t i = 0; i < size_[0]; ++i) out[i] = static_cast<Out>(packed_at(n + static_cast<std::int64_t>(i) * step_[0]));
}
template void CanonicalView::packed_row<float>(std::size_t, std::size_t, float*) const;
template void CanonicalView::packed_row<std::int16_t>(std::size_t, std::size_t, std::int16_t*) const;

float CanonicalView::packed_at(std::int64_t n) const { return packed_->at(static_cast<std::size_t>(n)); }

CanonicalVolume canonicalize(const Volume& volume, const CanonicalizeOptions& options) {
  const Geometry& g = volume.geometry();
  SliceMapping mapping(g, canonical_axis_map(g, options));
  const CanonicalView view(volume, mapping);

  Geometry canonical;
  for (int c = 0; c < 3; ++c) {
    const int a = mapping.axes().axis[c];
    canonical.size[c] = g.size[a];
    canonical.spacing[c] = g.spacing[a];
    const double sign = mapping.axes().flip[c] ? -1.0 : 1.0;
    for (int r = 0; r < 3; ++r) canonical.direction[3 * r + c] = sign * g.direction[3 * r + a];
  }
  canonical.origin = g.index_to_world(mapping.original_index({0.0, 0.0, 0.0}));

  // Reordered in the stored type, so an int16 volume stays int16.
  const auto reorder = [&](auto tag) {
    using T = decltype(tag);
    const std::shared_ptr<T> voxels = allocate_voxels<T>(g.voxel_count());
    T* dst = voxels.get();
    for (std::size_t k = 0; k < canonical.size[2]; ++k) {
      for (std::size_t j = 0; j < canonical.size[1]; ++j, dst += canonical.size[0]) view.row(j, k, dst);
    }
    return voxels;
  };
  if (volume.float_voxels() != nullptr) {
    return {Volume(canonical, std::shared_ptr<const float>(reorder(float{})), volume.source()), mapping};
  }
  return {Volume(canonical, std::shared_ptr<const std::int16_t>(reorder(std::int16_t{})), volume.source()), mapping};
}

}  // namespace slicenav
