#include "slicenav/orientation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "slicenav/error.hpp"
#include "slicenav/phantom.hpp"
#include "volume_variants.hpp"

namespace slicenav {
namespace {

// All 48 orientation codes: 6 axis permutations x 8 sign combinations.
std::vector<std::string> all_codes() {
  const std::string positive = "LPS", negative = "RAI";
  std::vector<int> perm{0, 1, 2};
  std::vector<std::string> codes;
  do {
    for (int signs = 0; signs < 8; ++signs) {
      std::string code;
      for (int a = 0; a < 3; ++a) code += (signs >> a) & 1 ? negative[perm[a]] : positive[perm[a]];
      codes.push_back(code);
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  return codes;
}

// A noise-free phantom whose grid covers the same world points whatever the file's axis order:
// world x has 20 voxels of 16 mm, y 14 of 16 mm, z 24 of 25 mm (binary-exact arithmetic).
PhantomOptions options_for(const std::string& code) {
  const std::size_t world_size[3] = {20, 14, 24};
  const double world_spacing[3] = {16.0, 16.0, 25.0};
  PhantomOptions options;
  options.orientation = code;
  options.noise_hu = 0.0;
  options.top_z_mm = 50.0;
  const Mat3 d = direction_from_code(code);
  for (int a = 0; a < 3; ++a) {
    for (int w = 0; w < 3; ++w) {
      if (d[3 * w + a] != 0.0) {
        options.size[a] = world_size[w];
        options.spacing[a] = world_spacing[w];
      }
    }
  }
  return options;
}

Mat3 rotation_about_x(double degrees) {
  const double r = degrees * 3.14159265358979323846 / 180.0, c = std::cos(r), s = std::sin(r);
  return {1, 0, 0, 0, c, -s, 0, s, c};
}

}  // namespace

TEST(Orientation, CodeNamesWhereIndexAxesPoint) {
  Geometry g;
  EXPECT_EQ(orientation_code(g), "LPS");
  g.direction = {-1, 0, 0, 0, -1, 0, 0, 0, 1};
  EXPECT_EQ(orientation_code(g), "RAS");
  g.direction = direction_from_code("SLA");
  EXPECT_EQ(orientation_code(g), "SLA");
  EXPECT_THROW(direction_from_code("LLS"), Error);
  EXPECT_THROW(direction_from_code("LP"), Error);
  EXPECT_THROW(direction_from_code("LPX"), Error);
}

TEST(Orientation, All48AxisOrdersGiveTheSameCanonicalVolume) {
  const CanonicalVolume reference = canonicalize(make_phantom(options_for("LPS")).volume);
  const Geometry& rg = reference.volume.geometry();
  EXPECT_EQ(rg.size, (std::array<std::size_t, 3>{20, 14, 24}));
  EXPECT_EQ(rg.direction, (Mat3{1, 0, 0, 0, 1, 0, 0, 0, -1}));
  EXPECT_DOUBLE_EQ(reference.mapping.world_z(0), 50.0);
  const auto codes = all_codes();
  ASSERT_EQ(codes.size(), 48u);
  for (const std::string& code : codes) {
    SCOPED_TRACE(code);
    const Volume original = make_phantom(options_for(code)).volume;
    ASSERT_EQ(orientation_code(original.geometry()), code);
    const CanonicalVolume canonical = canonicalize(original);
    const Geometry& cg = canonical.volume.geometry();
    EXPECT_EQ(cg.size, rg.size);
    EXPECT_EQ(cg.spacing, rg.spacing);
    EXPECT_EQ(cg.direction, rg.direction);
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(cg.origin[a], rg.origin[a], 1e-9);
    EXPECT_TRUE(canonical.volume.voxels_as_float() == reference.volume.voxels_as_float());

    const SliceMapping& m = canonical.mapping;
    EXPECT_EQ(m.slice_count(), 24u);
    EXPECT_DOUBLE_EQ(m.slice_step_mm(), 25.0);
    for (double c : {0.0, 7.0, 23.0, 11.5}) {
      EXPECT_NEAR(m.world_z(c), 50.0 - 25.0 * c, 1e-9);
      EXPECT_NEAR(m.canonical_slice_at_z(m.world_z(c)), c, 1e-9);
      EXPECT_NEAR(m.canonical_slice(m.original_slice(c)), c, 1e-12);
    }
    // Canonical voxels read the original voxels the mapping names, at the same world position.
    for (const Vec3& ci : {Vec3{0, 0, 0}, Vec3{19, 13, 23}, Vec3{3, 9, 17}, Vec3{12, 2, 5}}) {
      const Vec3 oi = m.original_index(ci);
      const Vec3 back = m.canonical_index(oi);
      for (int a = 0; a < 3; ++a) EXPECT_DOUBLE_EQ(back[a], ci[a]);
      const auto o = [&](int a) { return static_cast<std::size_t>(oi[a]); };
      EXPECT_EQ(original.at(o(0), o(1), o(2)),
                canonical.volume.at(static_cast<std::size_t>(ci[0]), static_cast<std::size_t>(ci[1]),
                                    static_cast<std::size_t>(ci[2])));
      const Vec3 wo = original.geometry().index_to_world(oi), wc = cg.index_to_world(ci);
      for (int a = 0; a < 3; ++a) EXPECT_NEAR(wo[a], wc[a], 1e-9);
      EXPECT_NEAR(m.world_z(ci[2]), wc[2], 1e-9);
      // The original slice index is the slice axis component of the original index.
      EXPECT_DOUBLE_EQ(m.original_slice(ci[2]), oi[static_cast<std::size_t>(m.axes().axis[2])]);
    }
  }
}


// The same for packed int16 voxels, read through the view without being unpacked: rows of a stored x axis, flipped
// or not, are unpacked rows; rows along another stored axis are read voxel by voxel.
TEST(Orientation, Int16AndPackedVolumesReadAndCanonicalizeLikeTheirFloatTwins) {
  for (const std::string& code : all_codes()) {
    SCOPED_TRACE(code);
    const auto [floats, int16] = test::whole_hu_twins(make_phantom(options_for(code)).volume);
    ASSERT_NE(int16.int16_voxels(), nullptr);
    ASSERT_EQ(int16.float_voxels(), nullptr);
    const Volume packed = pack_voxels(int16);
    ASSERT_TRUE(packed.packed());
    const std::size_t packed_bytes = packed.voxel_bytes();
    const SliceMapping mapping(floats.geometry(), canonical_axis_map(floats.geometry()));
    const CanonicalView a(floats, mapping), b(int16, mapping), c(packed, mapping);
    std::vector<float> row_a(a.size()[0]), row_b(b.size()[0]), row_c(c.size()[0]);
    std::vector<std::int16_t> stored_b(b.size()[0]), stored_c(c.size()[0]);
    for (std::size_t k = 0; k < a.size()[2]; ++k) {
      for (std::size_t j = 0; j < a.size()[1]; ++j) {
        a.row(j, k, row_a.data());
        b.row(j, k, row_b.data());
        c.row(j, k, row_c.data());
        ASSERT_EQ(row_a, row_b) << "row " << j << " of slice " << k;
        ASSERT_EQ(row_a, row_c) << "packed row " << j << " of slice " << k;
        b.row(j, k, stored_b.data());
        c.row(j, k, stored_c.data());
        ASSERT_EQ(stored_b, stored_c) << "packed int16 row " << j << " of slice " << k;
        for (std::size_t i = 0; i < a.size()[0]; i += 3) {
          ASSERT_EQ(b.at(i, j, k), row_a[i]);
          ASSERT_EQ(c.at(i, j, k), row_a[i]);
        }
      }
    }
    EXPECT_EQ(static_cast<float>(stored_b[0]), b.at(0, a.size()[1] - 1, a.size()[2] - 1));
    EXPECT_THROW(a.row(0, 0, stored_b.data()), Error);  // int16 rows of a float volume
    const CanonicalVolume canonical_floats = canonicalize(floats), canonical_int16 = canonicalize(int16);
    EXPECT_NE(canonical_int16.volume.int16_voxels(), nullptr);  // stays int16
    EXPECT_EQ(canonical_int16.volume.voxels_as_float(), canonical_floats.volume.voxels_as_float());
    EXPECT_EQ(canonicalize(packed).volume.voxels_as_float(), canonical_floats.volume.voxels_as_float());
    EXPECT_EQ(packed.voxel_bytes(), packed_bytes);  // read without an unpacked copy
  }
}

TEST(Orientation, SagittalAndCoronalAcquisitionsAreReslicedWithAWarning) {
  const auto sagittal = orientation_warnings(Geometry{{4, 4, 4}, {1, 1, 1}, {0, 0, 0}, direction_from_code("PSL")});
  ASSERT_EQ(sagittal.size(), 1u);
  EXPECT_NE(sagittal[0].find("sagittal"), std::string::npos);
  const auto coronal = orientation_warnings(Geometry{{4, 4, 4}, {1, 1, 1}, {0, 0, 0}, direction_from_code("LIA")});
  ASSERT_EQ(coronal.size(), 1u);
  EXPECT_NE(coronal[0].find("coronal"), std::string::npos);
  EXPECT_TRUE(orientation_warnings(Geometry{{4, 4, 4}, {1, 1, 1}, {0, 0, 0}, direction_from_code("RAS")}).empty());
}

TEST(Orientation, SmallObliquityIsToleratedAndLargeIsAnError) {
  Geometry g;
  g.size = {8, 8, 8};
  g.direction = rotation_about_x(0.5);
  EXPECT_TRUE(orientation_warnings(g).empty());
  g.direction = rotation_about_x(5.0);
  EXPECT_NEAR(obliquity_deg(g), 5.0, 1e-9);
  const auto warnings = orientation_warnings(g);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("oblique by 5"), std::string::npos) << warnings[0];
  const CanonicalVolume tilted = canonicalize(Volume(g, std::vector<float>(512, 1.0f)));
  EXPECT_LT(tilted.mapping.slice_step_mm(), 1.0);
  EXPECT_NEAR(tilted.mapping.slice_step_mm(), std::cos(5.0 * 3.14159265358979323846 / 180.0), 1e-12);

  g.direction = rotation_about_x(30.0);
  try {
    canonical_axis_map(g);
    FAIL() << "30 degrees accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::unsupported_input);
    EXPECT_NE(std::string(e.what()).find("oblique"), std::string::npos) << e.what();
  }
  CanonicalizeOptions lenient;
  lenient.max_obliquity_deg = 40.0;
  EXPECT_NO_THROW(canonical_axis_map(g, lenient));
}

TEST(Orientation, OneSliceVolumeHasAMapping) {
  Geometry g;
  g.size = {5, 4, 1};
  g.spacing = {1, 1, 2.5};
  g.origin = {0, 0, -12.0};
  const CanonicalVolume c = canonicalize(Volume(g, std::vector<float>(20, 0.0f)));
  EXPECT_EQ(c.mapping.slice_count(), 1u);
  EXPECT_DOUBLE_EQ(c.mapping.world_z(0), -12.0);
  EXPECT_DOUBLE_EQ(c.mapping.original_slice(0), 0.0);
}

}  // namespace slicenav
