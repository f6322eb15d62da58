// Volumes derived from a real scan for tests and benchmarks: a part of it with its position discarded,
// the same acquisition seen as another reconstruction would show it, the scan moved rigidly, the scan
// at another in-plane matrix size, and its whole-HU float and int16 twins.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "slicenav/rigid.hpp"
#include "slicenav/transform_files.hpp"
#include "slicenav/volume.hpp"

namespace slicenav::test {

// Slices [first, first + count) of `whole` (slice axis k) with the z origin replaced by `new_origin_z`:
// nothing but the anatomy ties it to `whole`. `truth` is the translation taking a point of `whole` to the
// same anatomy in the sub-volume (the origin change).
struct SubVolume {
  Volume volume;
  double truth = 0;
};

inline SubVolume sub_volume(const Volume& whole, std::size_t first, std::size_t count, double new_origin_z) {
  Volume part = slice_range(whole, 2, first, count);
  Geometry g = part.geometry();
  const double truth = new_origin_z - g.origin[2];
  g.origin[2] = new_origin_z;
  return {Volume(g, part.voxels_as_float(), part.source()), truth};
}

// The same voxels with the geometry moved rigidly: every voxel's world position p goes to
// R (p - centre) + centre + shift, R = Rz Rx Ry from `euler_rad` (rigid.hpp's convention). The anatomy at
// world point p of `v` lies at that point of the result, so the true fixed -> moving transform is this one.
inline Volume rigidly_moved(const Volume& v, const Vec3& euler_rad, const Vec3& centre, const Vec3& shift) {
  const Mat3 r = rotation_matrix(euler_rad);
  const auto rotate = [&r](const Vec3& p) {
    return Vec3{r[0] * p[0] + r[1] * p[1] + r[2] * p[2], r[3] * p[0] + r[4] * p[1] + r[5] * p[2],
                r[6] * p[0] + r[7] * p[1] + r[8] * p[2]};
  };
  Geometry g = v.geometry();
  const Vec3 o = rotate({g.origin[0] - centre[0], g.origin[1] - centre[1], g.origin[2] - centre[2]});
  for (std::size_t a = 0; a < 3; ++a) g.origin[a] = o[a] + centre[a] + shift[a];
  for (std::size_t axis = 0; axis < 3; ++axis) {
    const Vec3 d =
        rotate({v.geometry().direction[axis], v.geometry().direction[3 + axis], v.geometry().direction[6 + axis]});
    for (std::size_t row = 0; row < 3; ++row) g.direction[3 * row + axis] = d[row];
  }
  return Volume(g, v.voxels_as_float(), v.source());
}

// A volume rounded to whole HU as float, and its int16 twin (the storage read_volume keeps for int16 files).
inline std::pair<Volume, Volume> whole_hu_twins(const Volume& v) {
  std::vector<float> floats = v.voxels_as_float();
  std::vector<std::int16_t> int16(floats.size());
  for (std::size_t n = 0; n < floats.size(); ++n) {
    floats[n] = std::round(floats[n]);
    int16[n] = static_cast<std::int16_t>(floats[n]);
  }
  return {Volume(v.geometry(), std::move(floats), v.source()), Volume(v.geometry(), std::move(int16), v.source())};
}

// World position of the centre of `v`'s voxel grid.
inline Vec3 grid_centre(const Volume& v) {
  const Geometry& g = v.geometry();
  return g.index_to_world({(static_cast<double>(g.size[0]) - 1) / 2, (static_cast<double>(g.size[1]) - 1) / 2,
                           (static_cast<double>(g.size[2]) - 1) / 2});
}

// T(p) = R (p - centre) + centre + translation of a rigid transform (rigidly_moved's motion as one).
inline Vec3 transformed(const RigidTransform& t, const Vec3& p) {
  PointTransform r;
  r.rotation = rotation_matrix(t.rotation_rad);
  const Vec3 q = r.apply({p[0] - t.centre_mm[0], p[1] - t.centre_mm[1], p[2] - t.centre_mm[2]});
  return {q[0] + t.centre_mm[0] + t.translation_mm[0], q[1] + t.centre_mm[1] + t.translation_mm[1],
          q[2] + t.centre_mm[2] + t.translation_mm[2]};
}

// The angle, in degrees, of the rotation between two rotations (of a^T b).
inline double rotation_error_deg(const Mat3& a, const Mat3& b) {
  double trace = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < 3; ++k) trace += a[3 * k + i] * b[3 * k + i];
  }
  return std::acos(std::clamp((trace - 1) / 2, -1.0, 1.0)) * 180.0 / M_PI;
}

inline double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

// The slices of `v` (slice axis k) averaged in slabs of `k` consecutive slices, each slab at its slices'
// mean position: a thick-slice reconstruction of the same acquisition. A remainder is dropped; `v` must
// hold at least k slices.
inline Volume thick_slabs(const Volume& v, std::size_t k) {
  Geometry g = v.geometry();
  const std::size_t plane = g.size[0] * g.size[1], n = g.size[2] / k;
  std::vector<float> voxels(plane * n, 0.0f);
  const std::vector<float> stored = v.voxels_as_float();
  for (std::size_t s = 0; s < n; ++s) {
    float* to = voxels.data() + s * plane;
    for (std::size_t j = 0; j < k; ++j) {
      const float* from = stored.data() + (s * k + j) * plane;
      for (std::size_t i = 0; i < plane; ++i) to[i] += from[i] / static_cast<float>(k);
    }
  }
  g.origin = g.index_to_world({0.0, 0.0, (static_cast<double>(k) - 1.0) / 2.0});
  g.spacing[2] *= static_cast<double>(k);
  g.size[2] = n;
  return Volume(g, std::move(voxels), v.source());
}

// Every slice of `v` bilinearly resampled onto n x n pixels over the same field of view (voxel centres
// spread from the first to the last of the original's): the scan as a full-resolution acquisition of
// the same anatomy would store it, for timing at a scanner's matrix size.
inline Volume in_plane_resampled(const Volume& v, std::size_t n) {
  const Geometry& from = v.geometry();
  Geometry g = from;
  g.size[0] = g.size[1] = n;
  for (std::size_t a = 0; a < 2; ++a) {
    g.spacing[a] = from.spacing[a] * static_cast<double>(from.size[a] - 1) / static_cast<double>(n - 1);
  }
  const std::size_t ni = from.size[0], nj = from.size[1];
  std::vector<float> voxels(n * n * g.size[2]);
  const std::vector<float> stored = v.voxels_as_float();
  for (std::size_t k = 0; k < g.size[2]; ++k) {
    const float* slice = stored.data() + k * ni * nj;
    for (std::size_t j = 0; j < n; ++j) {
      const double y = static_cast<double>(j) * static_cast<double>(nj - 1) / static_cast<double>(n - 1);
      const std::size_t j0 = std::min(static_cast<std::size_t>(y), nj - 1), j1 = std::min(j0 + 1, nj - 1);
      const double fy = y - static_cast<double>(j0);
      for (std::size_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(i) * static_cast<double>(ni - 1) / static_cast<double>(n - 1);
        const std::size_t i0 = std::min(static_cast<std::size_t>(x), ni - 1), i1 = std::min(i0 + 1, ni - 1);
        const double fx = x - static_cast<double>(i0);
        const double top = (1 - fx) * slice[j0 * ni + i0] + fx * slice[j0 * ni + i1];
        const double bottom = (1 - fx) * slice[j1 * ni + i0] + fx * slice[j1 * ni + i1];
        voxels[(k * n + j) * n + i] = static_cast<float>((1 - fy) * top + fy * bottom);
      }
    }
  }
  return Volume(g, std::move(voxels), v.source());
}

}  // namespace slicenav::test
