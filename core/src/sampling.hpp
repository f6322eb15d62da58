// A volume's value between its voxels.
#pragma once

#include <algorithm>
#include <cstddef>

#include "slicenav/volume.hpp"

namespace slicenav::detail {

// The volume's value at a continuous voxel index (voxel centres at whole numbers): trilinear between the
// eight voxels around it, the outer voxels' values up to half a voxel beyond them, `outside` farther away.
inline float value_at_index(const Volume& volume, const Vec3& index, float outside) {
  const auto& n = volume.geometry().size;
  for (std::size_t a = 0; a < 3; ++a) {
    if (!(index[a] >= -0.5 && index[a] <= static_cast<double>(n[a]) - 0.5)) return outside;
  }
  const double cx = std::clamp(index[0], 0.0, static_cast<double>(n[0] - 1)),
               cy = std::clamp(index[1], 0.0, static_cast<double>(n[1] - 1)),
               cz = std::clamp(index[2], 0.0, static_cast<double>(n[2] - 1));
  const auto i = static_cast<std::size_t>(cx), j = static_cast<std::size_t>(cy), k = static_cast<std::size_t>(cz);
  const std::size_t i1 = std::min(i + 1, n[0] - 1), j1 = std::min(j + 1, n[1] - 1), k1 = std::min(k + 1, n[2] - 1);
  const double fx = cx - static_cast<double>(i), fy = cy - static_cast<double>(j), fz = cz - static_cast<double>(k);
  const auto v = [&](std::size_t x, std::size_t y, std::size_t z) { return static_cast<double>(volume.at(x, y, z)); };
  const double c00 = v(i, j, k) * (1 - fx) + v(i1, j, k) * fx;
  const double c10 = v(i, j1, k) * (1 - fx) + v(i1, j1, k) * fx;
  const double c01 = v(i, j, k1) * (1 - fx) + v(i1, j, k1) * fx;
  const double c11 = v(i, j1, k1) * (1 - fx) + v(i1, j1, k1) * fx;
  return static_cast<float>((c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz);
}

}  // namespace slicenav::detail
