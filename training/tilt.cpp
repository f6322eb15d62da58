#include "tilt.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sampling.hpp"

namespace slicenav::training {

Vec3 grid_centre(const Geometry& grid) {
  return grid.index_to_world({(static_cast<double>(grid.size[0]) - 1) / 2, (static_cast<double>(grid.size[1]) - 1) / 2,
                              (static_cast<double>(grid.size[2]) - 1) / 2});
}

Vec3 tilt(const Vec3& point, const Vec3& centre, double degrees) {
  const double t = degrees * std::acos(-1.0) / 180, c = std::cos(t), s = std::sin(t);
  const double y = point[1] - centre[1], z = point[2] - centre[2];
  return {point[0], centre[1] + c * y - s * z, centre[2] + s * y + c * z};
}

Volume tilted(const Volume& volume, double degrees, float outside) {
  const Geometry& g = volume.geometry();
  const Vec3 centre = grid_centre(g);
  // Each voxel's source index is affine in its index: its world position tilted back, on the grid.
  const auto source = [&](const Vec3& index) { return g.world_to_index(tilt(g.index_to_world(index), centre, -degrees)); };
  const Vec3 s0 = source({0, 0, 0});
  std::array<Vec3, 3> step{};
  for (std::size_t a = 0; a < 3; ++a) {
    Vec3 e{0, 0, 0};
    e[a] = 1;
    const Vec3 s1 = source(e);
    for (std::size_t b = 0; b < 3; ++b) step[a][b] = s1[b] - s0[b];
  }
  const auto& n = g.size;
  std::vector<std::int16_t> out(g.voxel_count());
  std::size_t o = 0;
  for (std::size_t k = 0; k < n[2]; ++k) {
    for (std::size_t j = 0; j < n[1]; ++j) {
      for (std::size_t i = 0; i < n[0]; ++i, ++o) {
        Vec3 q;
        for (std::size_t b = 0; b < 3; ++b) {
          q[b] = s0[b] + step[0][b] * static_cast<double>(i) + step[1][b] * static_cast<double>(j) +
                 step[2][b] * static_cast<double>(k);
        }
        const double v = std::round(detail::value_at_index(volume, q, outside));
        out[o] = static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
      }
    }
  }
  return Volume(g, std::move(out), volume.source());
}

}  // namespace slicenav::training
