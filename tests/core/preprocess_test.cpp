#include "slicenav/preprocess.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "slicenav/error.hpp"
#include "slicenav/phantom.hpp"

namespace slicenav {
namespace {

// A canonical volume of `fill` HU with a block of `block_hu` covering world x in [x0, x1) and y in
// [y0, y1) mm (voxel centres), on an axis-aligned grid with the given in-plane spacing.
CanonicalVolume block_volume(double spacing, std::size_t n, float fill, float block_hu, double x0, double x1, double y0,
                             double y1, std::size_t slices = 3) {
  Geometry g;
  g.size = {n, n, slices};
  g.spacing = {spacing, spacing, 2.0};
  std::vector<float> voxels(g.voxel_count(), fill);
  for (std::size_t k = 0; k < slices; ++k) {
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(i) * spacing, y = static_cast<double>(j) * spacing;
        if (x > x0 && x <= x1 && y > y0 && y <= y1) voxels[(k * n + j) * n + i] = block_hu;
      }
    }
  }
  return canonicalize(Volume(g, voxels));
}

TEST(Preprocess, ReadingThroughACanonicalViewEqualsCanonicalizingFirst) {
  for (const char* orientation : {"LPS", "RAI", "SLA", "IRP"}) {
    PhantomOptions o;
    o.size = {40, 36, 30};
    o.spacing = {7.0, 6.0, 8.0};
    o.orientation = orientation;
    const Volume v = make_phantom(o).volume;
    const CanonicalVolume canonical = canonicalize(v);
    const std::vector<std::size_t> slices{0, 3, 17, canonical.volume.geometry().size[2] - 1};
    PreprocessOptions options;
    options.image_size = 24;
    const SliceStack copied = preprocess(canonical, slices, options);
    const SliceStack viewed = preprocess(CanonicalView(v, canonical.mapping), slices, options);
    EXPECT_EQ(viewed.pixels, copied.pixels) << orientation;
    EXPECT_EQ(viewed.world_z_mm, copied.world_z_mm) << orientation;
  }
}

}  // namespace

TEST(Preprocess, UniformSlicesSpanTheScan) {
  EXPECT_EQ(uniform_slices(5, 10), (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  const auto chosen = uniform_slices(1000, 256);
  ASSERT_EQ(chosen.size(), 256u);
  EXPECT_EQ(chosen.front(), 0u);
  EXPECT_EQ(chosen.back(), 999u);
  for (std::size_t s = 1; s < chosen.size(); ++s) EXPECT_GT(chosen[s], chosen[s - 1]);
  EXPECT_EQ(uniform_slices(7, 1), (std::vector<std::size_t>{3}));
  EXPECT_THROW(uniform_slices(0, 4), Error);
}

TEST(Preprocess, WindowMapsToUnitRangeAndClamps) {
  PreprocessOptions options;
  options.image_size = 16;
  for (const auto& [hu, expected] :
       std::vector<std::pair<float, float>>{{0.0f, 0.0f}, {500.0f, 0.5f}, {3000.0f, 1.0f}}) {
    // 600 mm of scan covers the whole 80 mm output field: every pixel sees the same value.
    const CanonicalVolume v = block_volume(3.0, 200, hu, hu, 0, 0, 0, 0);
    const SliceStack stack = preprocess(v, {0, 2}, options);
    ASSERT_EQ(stack.pixels.size(), 2u * 16 * 16);
    for (float p : stack.pixels) ASSERT_NEAR(p, expected, 1e-5f) << hu;
  }
}

TEST(Preprocess, PhysicalScaleAndMassDoNotDependOnInputSpacing) {
  PreprocessOptions options;
  options.image_size = 64;
  for (double spacing : {0.7, 1.0, 2.5}) {
    SCOPED_TRACE(spacing);
    const std::size_t n = static_cast<std::size_t>(400.0 / spacing);
    // Background air, a 100 x 60 mm block of +1000 HU: its area is 240 output pixels of 5 x 5 mm.
    const CanonicalVolume v = block_volume(spacing, n, -1000.0f, 1000.0f, 120, 220, 150, 210);
    const SliceStack stack = preprocess(v, {1}, options);
    double mass = 0, cu = 0, cv = 0;
    for (std::size_t r = 0; r < 64; ++r) {
      for (std::size_t u = 0; u < 64; ++u) {
        const double m = (stack.pixels[r * 64 + u] + 1.0) / 2.0;
        mass += m;
        cu += m * static_cast<double>(u);
        cv += m * static_cast<double>(r);
      }
    }
    EXPECT_NEAR(mass, 240.0, 240.0 * 0.03);
    // The body (the block) is centred on the output grid.
    EXPECT_NEAR(cu / mass, 31.5, 0.5);
    EXPECT_NEAR(cv / mass, 31.5, 0.5);
  }
}

TEST(Preprocess, OutsideTheScanIsAir) {
  PreprocessOptions options;
  options.image_size = 32;
  // A 60 mm scan of soft tissue in a 160 mm output field: corners are outside the scan.
  const CanonicalVolume v = block_volume(1.0, 60, 40.0f, 40.0f, 0, 0, 0, 0);
  const SliceStack stack = preprocess(v, {0}, options);
  EXPECT_FLOAT_EQ(stack.pixels.front(), -1.0f);
  EXPECT_FLOAT_EQ(stack.pixels.back(), -1.0f);
  EXPECT_NEAR(stack.pixels[16 * 32 + 16], 0.04f, 1e-5f);
}

TEST(Preprocess, RecordsSlicePositions) {
  const CanonicalVolume v = block_volume(2.0, 40, 0.0f, 0.0f, 0, 0, 0, 0, 10);
  const SliceStack stack = preprocess(v, {0, 4, 9}, PreprocessOptions{});
  EXPECT_EQ(stack.canonical_slice, (std::vector<std::size_t>{0, 4, 9}));
  ASSERT_EQ(stack.world_z_mm.size(), 3u);
  EXPECT_DOUBLE_EQ(stack.world_z_mm[0], v.mapping.world_z(0));
  EXPECT_DOUBLE_EQ(stack.world_z_mm[2] - stack.world_z_mm[0], -18.0);
}

TEST(Preprocess, RejectsBadArguments) {
  const CanonicalVolume v = block_volume(2.0, 20, 0.0f, 0.0f, 0, 0, 0, 0, 4);
  EXPECT_THROW(preprocess(v, {}, PreprocessOptions{}), Error);
  EXPECT_THROW(preprocess(v, {4}, PreprocessOptions{}), Error);
  PreprocessOptions bad;
  bad.pixel_mm = 0.0;
  EXPECT_THROW(preprocess(v, {0}, bad), Error);
}

}  // namespace slicenav
