// Volumes derived from a real scan for tests and benchmarks: a part of it with its position discarded,
// the same acquisition seen as another reconstruction would show it, and the scan moved rigidly.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "slicenav/rigid.hpp"
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
  return {Volume(g, part.voxels(), part.source()), truth};
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
    const Vec3 d = rotate({v.geometry().direction[axis], v.geometry().direction[3 + axis], v.geometry().direction[6 + axis]});
    for (std::size_t row = 0; row < 3; ++row) g.direction[3 * row + axis] = d[row];
  }
  return Volume(g, v.voxels(), v.source());
}

// The slices of `v` (slice axis k) averaged in slabs of `k` consecutive slices, each slab at its slices'
// mean position: a thick-slice reconstruction of the same acquisition. A remainder is dropped; `v` must
// hold at least k slices.
inline Volume thick_slabs(const Volume& v, std::size_t k) {
  Geometry g = v.geometry();
  const std::size_t plane = g.size[0] * g.size[1], n = g.size[2] / k;
  std::vector<float> voxels(plane * n, 0.0f);
  for (std::size_t s = 0; s < n; ++s) {
    float* to = voxels.data() + s * plane;
    for (std::size_t j = 0; j < k; ++j) {
      const float* from = v.voxels().data() + (s * k + j) * plane;
      for (std::size_t i = 0; i < plane; ++i) to[i] += from[i] / static_cast<float>(k);
    }
  }
  g.origin = g.index_to_world({0.0, 0.0, (static_cast<double>(k) - 1.0) / 2.0});
  g.spacing[2] *= static_cast<double>(k);
  g.size[2] = n;
  return Volume(g, std::move(voxels), v.source());
}

}  // namespace slicenav::test
