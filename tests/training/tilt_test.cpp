// Tilted scans and points (training/tilt.hpp), as slicenav-ape-boxes holds out head-and-neck scans tilted.
#include "tilt.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace slicenav::training {
namespace {

void expect_near(const Vec3& a, const Vec3& b, double tolerance) {
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(a[i], b[i], tolerance) << "component " << i;
}

TEST(Tilt, PositiveAnglesTakeTheAnteriorSideDown) {
  const Vec3 centre{5, -20, 100};
  // 10 mm anterior of the centre (LPS: -y) goes 10 mm down (-z) at 90 degrees; x is untouched.
  expect_near(tilt({5, -30, 100}, centre, 90), {5, -20, 90}, 1e-9);
  // 10 mm above goes 10 mm anterior.
  expect_near(tilt({7, -20, 110}, centre, 90), {7, -30, 100}, 1e-9);
  // A tilt and its opposite give the point back; distances from the centre are kept.
  const Vec3 p{12, 33, 71};
  expect_near(tilt(tilt(p, centre, 17), centre, -17), p, 1e-9);
  const Vec3 q = tilt(p, centre, 17);
  EXPECT_NEAR(std::hypot(q[1] - centre[1], q[2] - centre[2]), std::hypot(p[1] - centre[1], p[2] - centre[2]), 1e-9);
}

// A volume of -1000 with a bright block anterior of and above its centre (8 and 12 mm), on an anisotropic
// grid whose y axis runs backwards.
Volume block_volume() {
  Geometry g;
  g.size = {20, 40, 30};
  g.spacing = {1.5, 1.0, 2.0};
  g.origin = {-10, 25, -30};
  g.direction = {1, 0, 0, 0, -1, 0, 0, 0, 1};
  std::vector<std::int16_t> v(g.voxel_count(), -1000);
  for (std::size_t k = 18; k < 24; ++k) {
    for (std::size_t j = 25; j < 31; ++j) {
      for (std::size_t i = 8; i < 13; ++i) v[i + g.size[0] * (j + g.size[1] * k)] = 700;
    }
  }
  return Volume(g, std::move(v));
}

// The world centroid of the voxels, each weighted by its value above -1000.
Vec3 bright_centroid(const Volume& volume) {
  const Geometry& g = volume.geometry();
  Vec3 sum{0, 0, 0};
  double n = 0;
  for (std::size_t k = 0; k < g.size[2]; ++k) {
    for (std::size_t j = 0; j < g.size[1]; ++j) {
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const double weight = volume.at(i, j, k) + 1000.0;
        const Vec3 w = g.index_to_world({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
        for (std::size_t a = 0; a < 3; ++a) sum[a] += weight * w[a];
        n += weight;
      }
    }
  }
  EXPECT_GT(n, 0);
  return {sum[0] / n, sum[1] / n, sum[2] / n};
}

TEST(Tilt, TiltedVolumeMovesItsContentAsItsPointsMove) {
  const Volume volume = block_volume();
  const Vec3 before = bright_centroid(volume);
  const Vec3 centre = grid_centre(volume.geometry());
  for (const double degrees : {-25.0, 10.0, 30.0}) {
    const Volume t = tilted(volume, degrees, -1000);
    EXPECT_EQ(t.geometry().size, volume.geometry().size);
    EXPECT_EQ(t.geometry().direction, volume.geometry().direction);
    // The block moves where its points move (the opposite tilt would put it 5 to 14 mm away).
    expect_near(bright_centroid(t), tilt(before, centre, degrees), 0.5);
  }
  // No tilt: every voxel as it was.
  const Volume same = tilted(volume, 0, -1000);
  for (std::size_t n = 0; n < volume.voxel_count(); ++n) ASSERT_EQ(same.at(n), volume.at(n)) << "voxel " << n;
}

TEST(Tilt, VoxelsWithoutSourceGetTheOutsideValue) {
  const Volume volume = block_volume();
  const Volume t = tilted(volume, 40, 123);
  // A corner of the grid tilted back about the centre falls outside the grid: it gets the outside value.
  EXPECT_EQ(t.at(0, 0, 0), 123);
  EXPECT_EQ(t.at(volume.geometry().size[0] - 1, volume.geometry().size[1] - 1, volume.geometry().size[2] - 1), 123);
}

}  // namespace
}  // namespace slicenav::training
