// Volumes derived from a real scan for tests and benchmarks: a part of it with its position discarded,
// and the same acquisition seen as another reconstruction would show it.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

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
