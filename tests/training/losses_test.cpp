#include "losses.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "slicenav/error.hpp"
#include "test_support.hpp"

namespace slicenav::training {
namespace {

TEST(InsertionTarget, IsATruncatedGaussianInMillimetresOverTheFramedSlots) {
  // Slots: start (z 15), 10, 5, 0, end (z -5); query at z 5, sigma 5 mm.
  const auto t = insertion_target({10, 5, 0}, 5.0, 5.0);
  ASSERT_EQ(t.size(), 5u);
  const double w[5] = {std::exp(-2.0), std::exp(-0.5), 1.0, std::exp(-0.5), std::exp(-2.0)};
  const double sum = w[0] + w[1] + w[2] + w[3] + w[4];
  for (int s = 0; s < 5; ++s) EXPECT_NEAR(t[s], w[s] / sum, 1e-6) << s;
}

TEST(InsertionTarget, OutsideTheCoverageCentresOnTheArtificialSlot) {
  const auto above = insertion_target({10, 5, 0}, 40.0, 5.0);
  const double sum = 1 + std::exp(-0.5) + std::exp(-2.0) + std::exp(-4.5) + std::exp(-8.0);
  EXPECT_NEAR(above[0], 1 / sum, 1e-6);  // centred on the start slot, one step (5 mm) above z 10
  EXPECT_NEAR(above[1] / above[0], std::exp(-0.5), 1e-5);
  const auto below = insertion_target({10, 5, 0}, -2.4, 5.0);  // within half a step: still inside
  EXPECT_GT(below[3], below[4]);
  const auto far_below = insertion_target({10, 5, 0}, -2.6, 5.0);
  EXPECT_GT(far_below[4], far_below[3]);
}

TEST(InsertionTarget, NarrowSigmaStaysFiniteAndNormalised) {
  const auto t = insertion_target({100, 50, 0}, 26.0, 0.5);
  double sum = 0;
  for (float v : t) {
    EXPECT_TRUE(std::isfinite(v));
    sum += v;
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_GT(t[2], 0.99f);  // slot z 50 is 24 mm away, z 0 is 26 mm away
}

TEST(InsertionTarget, RejectsBadInput) {
  EXPECT_EQ(test::status_of([] { insertion_target({}, 0, 5); }), Status::invalid_argument);
  EXPECT_EQ(test::status_of([] { insertion_target({0, 5}, 0, 5); }), Status::invalid_argument);
  EXPECT_EQ(test::status_of([] { insertion_target({5, 0}, 0, 0); }), Status::invalid_argument);
}

TEST(Losses, KlMatchesHandComputedValueAndIgnoresZeroTargetsAndWeightlessRows) {
  // Row 0: logits (0, ln 3) -> p = (0.25, 0.75); target (0.5, 0.5).
  const float inf = std::numeric_limits<float>::infinity();
  const auto logits = torch::tensor({0.0f, std::log(3.0f), -inf, 5.0f, 0.0f, 0.0f}).view({1, 2, 3});
  const auto targets = torch::tensor({0.5f, 0.5f, 0.0f, 1.0f, 0.0f, 0.0f}).view({1, 2, 3});
  const auto weights = torch::tensor({1.0f, 0.0f}).view({1, 2});
  const double expected = 0.5 * std::log(0.5 / 0.25) + 0.5 * std::log(0.5 / 0.75);
  EXPECT_NEAR(kl_loss(logits, targets, weights).item<double>(), expected, 1e-6);
}

TEST(Losses, EmdIsTheL1DistanceBetweenCumulativeDistributions) {
  const auto logits = torch::log(torch::tensor({0.5f, 0.5f, 0.0001f})).view({1, 1, 3});
  const auto targets = torch::tensor({0.0f, 0.0f, 1.0f}).view({1, 1, 3});
  const auto weights = torch::ones({1, 1});
  // p ~ (0.5, 0.5, 0): |CDF diff| = 0.5 + 1.0 + 0.
  EXPECT_NEAR(emd_loss(logits, targets, weights).item<double>(), 1.5, 1e-3);
  EXPECT_NEAR(emd_loss(torch::log(targets + 1e-12), targets, weights).item<double>(), 0.0, 1e-6);
}

TEST(Losses, SsbrRewardsDescendingScoresProportionalToZ) {
  const auto z = torch::tensor({10.0, 5.0, 0.0}, torch::kDouble);
  // Scores equal to z: order term softplus(-5) twice, slopes equal -> no distance term.
  EXPECT_NEAR(ssbr_loss(torch::tensor({10.0f, 5.0f, 0.0f}), z).item<double>(), std::log1p(std::exp(-5.0)), 1e-6);
  // Slopes 1 and 0.2: smooth-L1(0.8) = 0.5 * 0.64.
  const double uneven = ssbr_loss(torch::tensor({10.0f, 5.0f, 4.0f}), z).item<double>();
  EXPECT_NEAR(uneven, 0.5 * (std::log1p(std::exp(-5.0)) + std::log1p(std::exp(-1.0))) + 0.32, 1e-5);
  EXPECT_GT(ssbr_loss(torch::tensor({0.0f, 5.0f, 10.0f}), z).item<double>(), uneven);
}

}  // namespace
}  // namespace slicenav::training
