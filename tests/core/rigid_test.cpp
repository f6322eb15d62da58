// Rigid prealignment: the least-squares fit, the Euler convention, world-grid resampling, bad input, and
// the bundled model's voxel embedding on held-out real scans moved by known rotations and shifts
// (../shared/data; skipped without it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model_fixtures.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/rigid.hpp"
#include "test_data.hpp"
#include "test_support.hpp"
#include "volume_variants.hpp"

namespace slicenav {
namespace {

using test::status_of;

constexpr double kDeg = M_PI / 180.0;

TEST(Rigid, EulerAnglesRoundTripInTheElastixConvention) {
  for (const Vec3 e : {Vec3{0.1, -0.2, 0.3}, Vec3{-0.5, 0.7, -1.2}, Vec3{0.0, 0.0, 0.0}, Vec3{0.2, 3.0, -3.0}}) {
    const Vec3 back = euler_angles(rotation_matrix(e));
    for (std::size_t a = 0; a < 3; ++a) EXPECT_NEAR(back[a], e[a], 1e-12);
  }
  // Rz * Rx * Ry: a rotation about x alone turns +y towards +z.
  const Mat3 rx = rotation_matrix({M_PI / 2, 0.0, 0.0});
  EXPECT_NEAR(rx[7], 1.0, 1e-12);  // R[2][1]
  const Mat3 rz = rotation_matrix({0.0, 0.0, M_PI / 2});
  EXPECT_NEAR(rz[3], 1.0, 1e-12);  // R[1][0]: +x towards +y
}

TEST(Rigid, FitRecoversAKnownTransformAndRejectsBadInput) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-150.0, 150.0);
  PointTransform truth;
  truth.rotation = rotation_matrix({0.12, -0.08, 0.25});
  truth.translation = {12.0, -30.0, 95.0};
  std::vector<Vec3> from, to;
  for (int i = 0; i < 50; ++i) {
    from.push_back({u(rng), u(rng), u(rng)});
    to.push_back(truth.apply(from.back()));
  }
  const PointTransform fit = fit_rigid(from, to);
  for (std::size_t k = 0; k < 9; ++k) EXPECT_NEAR(fit.rotation[k], truth.rotation[k], 1e-9);
  for (std::size_t a = 0; a < 3; ++a) EXPECT_NEAR(fit.translation[a], truth.translation[a], 1e-7);
  // A zero weight removes a pair: an outlier weighted 0 does not move the fit.
  std::vector<double> weights(from.size(), 1.0);
  to[0] = {500.0, 500.0, 500.0};
  weights[0] = 0.0;
  const PointTransform weighted = fit_rigid(from, to, weights);
  for (std::size_t a = 0; a < 3; ++a) EXPECT_NEAR(weighted.translation[a], truth.translation[a], 1e-7);
  // A mirrored point set still gives a proper rotation (determinant +1).
  std::vector<Vec3> mirrored;
  for (const auto& p : from) mirrored.push_back({-p[0], p[1], p[2]});
  const Mat3& r = fit_rigid(from, mirrored).rotation;
  const double det =
      r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
  EXPECT_NEAR(det, 1.0, 1e-9);
  EXPECT_EQ(status_of([&] { fit_rigid({from[0], from[1]}, {to[0], to[1]}); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { fit_rigid(from, std::vector<Vec3>(to.begin(), to.end() - 1)); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { fit_rigid(from, to, std::vector<double>(from.size(), 0.0)); }), Status::invalid_argument);
  weights[1] = -1.0;
  EXPECT_EQ(status_of([&] { fit_rigid(from, to, weights); }), Status::invalid_argument);
}

TEST(Rigid, AsRigidTransformIsTheSameMapAboutAnyCentre) {
  PointTransform t;
  t.rotation = rotation_matrix({0.05, 0.1, -0.2});
  t.translation = {3.0, 4.0, -5.0};
  for (const Vec3 centre : {Vec3{0.0, 0.0, 0.0}, Vec3{-20.0, 150.0, -700.0}}) {
    const RigidTransform r = as_rigid_transform(t, centre);
    EXPECT_EQ(r.centre_mm, centre);
    for (const Vec3 p : {Vec3{1.0, 2.0, 3.0}, Vec3{-100.0, 40.0, -650.0}})
      EXPECT_LT(test::distance(test::transformed(r, p), t.apply(p)), 1e-9);
  }
}

TEST(Rigid, WorldGridResamplingKeepsTheAnatomyWhereItIs) {
  const Volume v = test::small_phantom("LPS", 20, 40.0, 5.0);
  const WorldGrid g = resample_to_world_grid(v, 5.0);
  // Identity direction, 10 x 10 x 5 mm voxels: grid points on the volume's voxel centres read its values.
  const Geometry& vg = v.geometry();
  for (const std::array<std::size_t, 3> ijk : {std::array<std::size_t, 3>{0, 0, 0}, {10, 20, 7}, {47, 39, 19}}) {
    const Vec3 w =
        vg.index_to_world({static_cast<double>(ijk[0]), static_cast<double>(ijk[1]), static_cast<double>(ijk[2])});
    const auto x = static_cast<std::size_t>(std::lround((w[0] - g.origin[0]) / g.spacing_mm));
    const auto y = static_cast<std::size_t>(std::lround((w[1] - g.origin[1]) / g.spacing_mm));
    const auto z = static_cast<std::size_t>(std::lround((w[2] - g.origin[2]) / g.spacing_mm));
    EXPECT_NEAR(g.values[x + g.size[0] * (y + g.size[1] * z)], v.at(ijk[0], ijk[1], ijk[2]), 1e-3);
  }
  // The same voxels moved rigidly: a grid point of the moved volume reads what the original shows at the
  // point it came from.
  const Vec3 centre{0.0, 0.0, 0.0}, shift{7.0, -3.0, 20.0};
  const Volume moved = test::rigidly_moved(v, {0.0, 0.0, 0.0}, centre, shift);
  const WorldGrid gm = resample_to_world_grid(moved, 5.0);
  EXPECT_NEAR(gm.origin[0], g.origin[0] + 7.0, 1e-9);
  EXPECT_NEAR(gm.origin[2], g.origin[2] + 20.0, 1e-9);
  EXPECT_EQ(gm.values, g.values);
  EXPECT_EQ(status_of([&] { resample_to_world_grid(v, 0.0); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { resample_to_world_grid(v, NAN); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { resample_to_world_grid(v, 0.001); }), Status::unsupported_input);
}

TEST(Rigid, BadInputSaysWhy) {
  const Model without(test::tiny_model_config(), 1);
  const Volume ct = test::small_phantom("LPS", 20, 40.0, 5.0);
  std::string message;
  EXPECT_EQ(status_of([&] { prealign_rigid(without, ct, ct); }, &message), Status::unsupported_input);
  EXPECT_NE(message.find("voxel"), std::string::npos) << message;
  EXPECT_FALSE(without.has_voxel_network());
}

// ---- Real data: the bundled model --------------------------------------------------------------------

struct RealFixture {
  Model model = Model::load(default_model_path());
};

// Held-out scans (not among the model's training cases) moved by known rotations (yaw about z, tilt about x
// and y) and shifts: the fitted transform must be that motion, within 2 degrees and 5 mm at the scan centre.
TEST(RigidRealData, KnownRotationsOfHeldOutScans) {
  SLICENAV_REQUIRE_DATA(chest_path, "ct/lidc_0002/ct.nii.gz");
  SLICENAV_REQUIRE_DATA(abdomen_path, "ct/ircad_1_17/ct.nii.gz");
  const RealFixture f;
  ASSERT_TRUE(f.model.has_voxel_network());
  struct Motion {
    Vec3 euler_deg, shift_mm;
  };
  const Motion motions[] = {{{0.0, 0.0, 12.0}, {30.0, -20.0, 60.0}}, {{8.0, -5.0, -10.0}, {-40.0, 25.0, -90.0}}};
  for (const std::string& path : {chest_path, abdomen_path}) {
    const Volume fixed = read_volume(path);
    const Vec3 centre = test::grid_centre(fixed);
    for (const auto& m : motions) {
      const Vec3 euler{m.euler_deg[0] * kDeg, m.euler_deg[1] * kDeg, m.euler_deg[2] * kDeg};
      const Volume moving = test::rigidly_moved(fixed, euler, centre, m.shift_mm);
      const RigidPrealignment r = prealign_rigid(f.model, fixed, moving);
      EXPECT_TRUE(r.shared_anatomy) << path << ": " << r.note;
      EXPECT_GT(r.confidence, 0.5) << path;
      RigidTransform truth;
      truth.rotation_rad = euler;
      truth.centre_mm = centre;
      truth.translation_mm = m.shift_mm;
      EXPECT_LT(test::rotation_error_deg(rotation_matrix(r.transform.rotation_rad), rotation_matrix(euler)), 2.0)
          << path;
      EXPECT_LT(test::distance(test::transformed(r.transform, centre), test::transformed(truth, centre)), 5.0) << path;
    }
  }
}

// A rotation beyond the range the embedding was trained on (25 degrees) never comes back confident.
TEST(RigidRealData, RotationBeyondTheRangeIsNotConfident) {
  SLICENAV_REQUIRE_DATA(path, "ct/lidc_0003/ct.nii.gz");
  const RealFixture f;
  const Volume fixed = read_volume(path);
  const Vec3 centre = test::grid_centre(fixed);
  const RigidPrealignment r =
      prealign_rigid(f.model, fixed, test::rigidly_moved(fixed, {0.0, 0.0, 40.0 * kDeg}, centre, {0.0, 0.0, 0.0}));
  EXPECT_LE(r.confidence, RigidPrealignment::kBeyondRangeConfidence);
  EXPECT_FALSE(r.note.empty());
}

// Scans that share no anatomy are refused: an extremity against a chest, a head and neck crop against an
// abdomen.
TEST(RigidRealData, NoCommonAnatomyIsRefused) {
  SLICENAV_REQUIRE_DATA(chest_path, "ct/lidc_0002/ct.nii.gz");
  SLICENAV_REQUIRE_DATA(extremity_path, "ood/ibsi_sts_001/ct.nii.gz");
  SLICENAV_REQUIRE_DATA(abdomen_path, "ct/ircad_1_17/ct.nii.gz");
  SLICENAV_REQUIRE_DATA(head_neck_path, "hn/openkbp_pt002/ct.nii.gz");
  const RealFixture f;
  const std::pair<std::string, std::string> pairs[] = {{chest_path, extremity_path}, {abdomen_path, head_neck_path}};
  for (const auto& [a, b] : pairs) {
    const RigidPrealignment r = prealign_rigid(f.model, read_volume(a), read_volume(b));
    EXPECT_TRUE(!r.shared_anatomy || r.confidence < 0.3)
        << a << " " << b << ": " << r.inliers << " of " << r.consistent;
    if (!r.shared_anatomy) {
      EXPECT_EQ(r.confidence, 0.0);
      EXPECT_FALSE(r.note.empty());
    }
  }
}

}  // namespace
}  // namespace slicenav
