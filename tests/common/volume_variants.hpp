// Volumes derived from a real scan for tests and benchmarks: the same acquisition seen as another
// reconstruction would show it.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "slicenav/volume.hpp"

namespace slicenav::test {

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
