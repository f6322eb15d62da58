// APE's self-supervised objective: overlapping patch pairs and their shared points, patch sampling at world
// positions, the coordinates that find those points in a patch, the augmentation's range, and the loss.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ape_objective.hpp"

namespace slicenav::training {
namespace {

TEST(ApeObjective, PatchPairsOverlapAndTheirPointsLieInBoth) {
  std::mt19937_64 rng(4);
  const ApePatchOptions o;
  for (int trial = 0; trial < 200; ++trial) {
    const Vec3 centre{10.0 * trial, -50.0, 300.0};
    const ApePatchPair pair = sample_patch_pair(centre, o, rng);
    ASSERT_EQ(pair.points.size(), static_cast<std::size_t>(o.points));
    for (const ApePatch* p : {&pair.a, &pair.b}) {
      EXPECT_EQ(p->size, o.size);
      EXPECT_DOUBLE_EQ(p->spacing[0], p->spacing[1]);
      EXPECT_GE(p->spacing[0], o.min_xy_mm);
      EXPECT_LE(p->spacing[0], o.max_xy_mm);
      EXPECT_GE(p->spacing[2], o.min_z_mm);
      EXPECT_LE(p->spacing[2], o.max_z_mm);
    }
    // A is centred on `centre`.
    for (std::size_t a = 0; a < 3; ++a) EXPECT_NEAR((pair.a.origin[a] + pair.a.last()[a]) / 2, centre[a], 1e-9);
    for (const Vec3& w : pair.points) {
      for (const ApePatch* p : {&pair.a, &pair.b}) {
        for (std::size_t a = 0; a < 3; ++a) {
          ASSERT_GE(w[a], p->origin[a] - 1e-9);
          ASSERT_LE(w[a], p->last()[a] + 1e-9);
        }
      }
    }
  }
}

// A scan whose HU value is its world x (mm), on a 4 mm grid from (-200, -200, -160) to (200, 196, 236).
ApeScan ramp_scan() {
  ApeScan s;
  s.spacing_mm = 4.0;
  s.origin = {-200.0, -200.0, -160.0};
  s.hu = (torch::arange(101, torch::kFloat) * 4.0 - 200.0).reshape({1, 1, 1, 1, 101}).expand({1, 1, 100, 100, 101}).clone();
  return s;
}

TEST(ApeObjective, PatchesReadTheScanAtTheirWorldPositionsAndAirOutside) {
  const ApeScan scan = ramp_scan();
  ApePatch p;
  p.origin = {-31.0, -20.0, 20.0};
  p.spacing = {3.5, 4.0, 5.0};
  p.size = {8, 4, 4};
  const torch::Tensor v = sample_patch(scan, p);
  ASSERT_EQ(v.sizes().vec(), (std::vector<std::int64_t>{1, 1, 4, 4, 8}));
  for (std::int64_t i = 0; i < 8; ++i) EXPECT_NEAR(v[0][0][1][2][i].item<double>(), -31.0 + 3.5 * i, 1e-3);
  p.origin = {300.0, 0.0, 0.0};  // beyond the scan's last x (200 mm)
  EXPECT_NEAR(sample_patch(scan, p).max().item<double>(), -1000.0, 1e-3);
}

TEST(ApeObjective, PatchGridFindsEachPointWhereThePatchHoldsIt) {
  const ApeScan scan = ramp_scan();
  std::mt19937_64 rng(1);
  const ApePatchPair pair = sample_patch_pair({0.0, 0.0, 40.0}, ApePatchOptions{}, rng);
  for (const ApePatch* p : {&pair.a, &pair.b}) {
    const torch::Tensor values = torch::nn::functional::grid_sample(
        sample_patch(scan, *p), patch_grid(*p, pair.points),
        torch::nn::functional::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(true));
    const torch::Tensor flat = values.reshape({-1});
    for (std::size_t i = 0; i < pair.points.size(); ++i) {
      ASSERT_NEAR(flat[static_cast<std::int64_t>(i)].item<double>(), pair.points[i][0], 1e-2) << i;
    }
  }
}

TEST(ApeObjective, AugmentationKeepsTheShapeAndABoundedRange) {
  std::mt19937_64 rng(9);
  const torch::Tensor hu = torch::rand({1, 1, 8, 12, 16}) * 3000 - 1500;
  for (int trial = 0; trial < 50; ++trial) {
    const torch::Tensor x = augment_patch(hu, rng);
    ASSERT_EQ(x.sizes(), hu.sizes());
    ASSERT_TRUE(torch::isfinite(x).all().item<bool>());
    ASSERT_LE(x.abs().max().item<double>(), 1.5 + 1e-6);
  }
}

TEST(ApeObjective, LossIsZeroForEmbeddingsThatAreTheNormalisedPositions) {
  torch::manual_seed(3);
  const torch::Tensor positions = torch::rand({64, 3}, torch::kDouble) * torch::tensor({300.0, 200.0, 800.0}, torch::kDouble);
  const torch::Tensor centred = positions - positions.mean(0, true);
  const torch::Tensor unit = (centred / (centred.pow(2).sum(1).mean() / 3.0).sqrt()).to(torch::kFloat);
  // Any rotation and shift of the normalised positions is a perfect embedding.
  const torch::Tensor q = std::get<0>(torch::linalg::qr(torch::randn({3, 3})));
  const torch::Tensor perfect = torch::matmul(unit, q) + 0.7;
  double dist = -1, equiv = -1;
  const torch::Tensor positions_f = positions.to(torch::kFloat);
  EXPECT_NEAR(ape_loss(perfect, perfect, positions_f, 1.0, &dist, &equiv).item<double>(), 0.0, 1e-3);
  EXPECT_NEAR(dist, 0.0, 1e-3);
  EXPECT_DOUBLE_EQ(equiv, 0.0);
  // Scaled embeddings miss the distances; B displaced from A costs lambda * |a - b|^2 on top.
  ape_loss(perfect * 2.0, perfect * 2.0, positions_f, 1.0, &dist, &equiv);
  EXPECT_GT(dist, 0.1);
  const torch::Tensor shifted = perfect + torch::tensor({0.1f, 0.0f, 0.0f});
  const double with = ape_loss(perfect, shifted, positions_f, 1.0, &dist, &equiv).item<double>();
  EXPECT_NEAR(equiv, 0.01, 1e-5);
  EXPECT_NEAR(with, dist + equiv, 1e-6);
  EXPECT_NEAR(ape_loss(perfect, shifted, positions_f, 0.0).item<double>(), dist, 1e-6);
  // The loss trains: gradients flow to both views.
  const torch::Tensor a = perfect.clone().requires_grad_(true), b = (perfect * 1.5).requires_grad_(true);
  ape_loss(a, b, positions_f, 1.0).backward();
  EXPECT_GT(a.grad().abs().sum().item<double>(), 0.0);
  EXPECT_GT(b.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace slicenav::training
