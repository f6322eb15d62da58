#include "slicenav/phantom.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "slicenav/error.hpp"
#include "slicenav/orientation.hpp"

namespace slicenav {
namespace {

// World z of the most superior and most inferior canonical slices that hold a voxel equal to `hu`.
std::pair<double, double> z_extent_of(const CanonicalVolume& c, float hu) {
  const auto& g = c.volume.geometry();
  double top = NAN, bottom = NAN;
  for (std::size_t k = 0; k < g.size[2]; ++k) {
    bool found = false;
    for (std::size_t j = 0; j < g.size[1] && !found; ++j) {
      for (std::size_t i = 0; i < g.size[0] && !found; ++i) found = c.volume.at(i, j, k) == hu;
    }
    if (found) {
      if (std::isnan(top)) top = c.mapping.world_z(static_cast<double>(k));
      bottom = c.mapping.world_z(static_cast<double>(k));
    }
  }
  return {top, bottom};
}

}  // namespace

TEST(Phantom, LandmarksMatchTheAnatomyDrawn) {
  PhantomOptions options;
  options.size = {80, 60, 341};
  options.spacing = {4.0, 4.0, 2.0};
  options.top_z_mm = 60.0;
  options.noise_hu = 0.0;
  const Phantom phantom = make_phantom(options);
  const CanonicalVolume c = canonicalize(phantom.volume);
  std::map<std::string, double> landmark;
  for (const auto& l : phantom.landmarks) landmark[l.name] = l.world_z_mm;
  ASSERT_EQ(landmark.size(), phantom.landmarks.size());

  const auto lung = z_extent_of(c, -850.0f);
  EXPECT_NEAR(lung.first, landmark.at("lung_apex"), 2.0);
  EXPECT_NEAR(lung.second, landmark.at("lung_base"), 2.0);
  const auto heart = z_extent_of(c, 40.0f);
  EXPECT_NEAR(heart.first, landmark.at("heart_top"), 2.0);
  EXPECT_NEAR(heart.second, landmark.at("heart_bottom"), 2.0);
  const auto liver = z_extent_of(c, 60.0f);
  EXPECT_NEAR(liver.first, landmark.at("liver_dome"), 2.0);
  EXPECT_NEAR(liver.second, landmark.at("liver_lower_end"), 2.0);
  EXPECT_NEAR(z_extent_of(c, 30.0f).second, landmark.at("kidney_lower_end"), 2.0);
  EXPECT_NEAR(z_extent_of(c, 10.0f).first, landmark.at("urinary_bladder_top"), 2.0);
  EXPECT_NEAR(z_extent_of(c, 650.0f).first, landmark.at("femur_head_top"), 2.0);
  EXPECT_EQ(phantom.volume.source().format, "phantom");
  EXPECT_EQ(phantom.volume.source().modality, "CT");
}

TEST(Phantom, IsDeterministicPerSeed) {
  PhantomOptions options;
  options.size = {24, 20, 30};
  const Phantom a = make_phantom(options), b = make_phantom(options);
  EXPECT_TRUE(a.volume.voxels_as_float() == b.volume.voxels_as_float());
  options.seed = 2;
  const Phantom c = make_phantom(options);
  EXPECT_FALSE(a.volume.voxels_as_float() == c.volume.voxels_as_float());
}

TEST(Phantom, NoiseHasTheRequestedSpread) {
  PhantomOptions options;
  options.size = {40, 40, 20};
  options.spacing = {20.0, 20.0, 5.0};  // wide grid: most voxels are outside the body (air)
  options.noise_hu = 25.0;
  const Phantom p = make_phantom(options);
  double sum = 0, sum2 = 0;
  std::size_t n = 0;
  for (float v : p.volume.voxels_as_float()) {
    if (v < -900.0f) {
      sum += v + 1000.0;
      sum2 += (v + 1000.0) * (v + 1000.0);
      ++n;
    }
  }
  ASSERT_GT(n, 10000u);
  const double mean = sum / static_cast<double>(n);
  EXPECT_NEAR(mean, 0.0, 1.0);
  EXPECT_NEAR(std::sqrt(sum2 / static_cast<double>(n) - mean * mean), 25.0, 1.0);
}

TEST(Phantom, TopSliceSitsAtTheRequestedZ) {
  for (const char* code : {"LPS", "LPI", "SAR"}) {
    PhantomOptions options;
    options.orientation = code;
    options.size = {30, 30, 30};
    options.top_z_mm = -123.5;
    const CanonicalVolume c = canonicalize(make_phantom(options).volume);
    EXPECT_NEAR(c.mapping.world_z(0), -123.5, 1e-9) << code;
  }
}

TEST(Phantom, RejectsBadOptions) {
  PhantomOptions options;
  options.size = {0, 10, 10};
  EXPECT_THROW(make_phantom(options), Error);
  options = PhantomOptions{};
  options.spacing = {1.0, -1.0, 1.0};
  EXPECT_THROW(make_phantom(options), Error);
  options = PhantomOptions{};
  options.orientation = "XYZ";
  EXPECT_THROW(make_phantom(options), Error);
  options = PhantomOptions{};
  options.noise_hu = -1.0;
  EXPECT_THROW(make_phantom(options), Error);
}

}  // namespace slicenav
