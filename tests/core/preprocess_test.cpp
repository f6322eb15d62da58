#include "slicenav/preprocess.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

namespace slicenav {
namespace {

// A scan whose body moves right slice by slice: slice k holds a 40 mm block starting k * 8 mm from the left.
Volume drifting_block(std::size_t slices) {
  Geometry g;
  g.size = {64, 64, slices};
  g.spacing = {2.0, 2.0, 3.0};
  std::vector<float> voxels(g.voxel_count(), -1000.0f);
  for (std::size_t k = 0; k < slices; ++k) {
    for (std::size_t j = 20; j < 40; ++j) {
      for (std::size_t i = 4 * k; i < 4 * k + 20 && i < 64; ++i) voxels[(k * 64 + j) * 64 + i] = 40.0f;
    }
  }
  return Volume(g, voxels);
}

// 32 x 32 pixels of 4 mm: the drifting block fits the field wherever it is centred.
PreprocessOptions small_input() {
  PreprocessOptions options;
  options.image_size = 32;
  options.pixel_mm = 4.0;
  return options;
}

}  // namespace

TEST(ModelInput, ScanCentringUsesTheWholeScansBodyWhicheverSlicesAreAsked) {
  const Volume v = drifting_block(8);
  const SliceMapping mapping(v.geometry(), canonical_axis_map(v.geometry()));
  const CanonicalView view(v, mapping);
  const PreprocessOptions options = small_input();
  const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5, 6, 7};
  const SliceStack whole = model_input(view, all, options, Centring::scan);
  EXPECT_EQ(whole.pixels, preprocess(view, all, options, body_centre(view, all)).pixels);
  // A part (a chunk, or the three-slice method's three slices) gives the whole scan's pixels for its slices.
  const std::vector<std::size_t> part{2, 5};
  const SliceStack some = model_input(view, part, options, Centring::scan);
  const std::size_t pixels = options.image_size * options.image_size;
  ASSERT_EQ(some.pixels.size(), 2 * pixels);
  for (std::size_t s = 0; s < part.size(); ++s) {
    EXPECT_TRUE(std::equal(some.pixels.begin() + static_cast<std::ptrdiff_t>(s * pixels),
                           some.pixels.begin() + static_cast<std::ptrdiff_t>((s + 1) * pixels),
                           whole.pixels.begin() + static_cast<std::ptrdiff_t>(part[s] * pixels)))
        << "slice " << part[s];
  }
  EXPECT_EQ(some.canonical_slice, part);
}

TEST(ModelInput, EachSliceCentringPutsEverySlicesBodyInTheMiddle) {
  const Volume v = drifting_block(8);
  const SliceMapping mapping(v.geometry(), canonical_axis_map(v.geometry()));
  const CanonicalView view(v, mapping);
  const PreprocessOptions options = small_input();
  const std::vector<std::size_t> slices{0, 3, 7};
  const SliceStack each = model_input(view, slices, options, Centring::each_slice);
  const SliceStack scan = model_input(view, slices, options, Centring::scan);
  const std::size_t pixels = options.image_size * options.image_size;
  ASSERT_EQ(each.pixels.size(), slices.size() * pixels);
  EXPECT_EQ(each.canonical_slice, slices);
  EXPECT_EQ(each.world_z_mm, scan.world_z_mm);
  for (std::size_t s = 0; s < slices.size(); ++s) {
    // Each slice alone, centred on its own body: what the embedding and intensity prealignments compare.
    const SliceStack one = preprocess(view, {slices[s]}, options);
    EXPECT_TRUE(
        std::equal(one.pixels.begin(), one.pixels.end(), each.pixels.begin() + static_cast<std::ptrdiff_t>(s * pixels)))
        << "slice " << slices[s];
  }
  // The drifting body looks the same in every slice centred on its own, and moves across the scan-centred ones.
  EXPECT_TRUE(std::equal(each.pixels.begin(), each.pixels.begin() + static_cast<std::ptrdiff_t>(pixels),
                         each.pixels.begin() + static_cast<std::ptrdiff_t>(2 * pixels)));
  EXPECT_FALSE(std::equal(scan.pixels.begin(), scan.pixels.begin() + static_cast<std::ptrdiff_t>(pixels),
                          scan.pixels.begin() + static_cast<std::ptrdiff_t>(2 * pixels)));
  EXPECT_THROW(model_input(view, {}, options, Centring::each_slice), Error);
  EXPECT_THROW(model_input(view, {8}, options, Centring::each_slice), Error);
}

}  // namespace slicenav
