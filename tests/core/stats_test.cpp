#include "stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

namespace slicenav::stats {
namespace {

TEST(Stats, MedianAndQuantile) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(quantile({0, 10, 20}, 0.25), 5.0);
  EXPECT_DOUBLE_EQ(quantile({0, 10, 20}, 1.5), 20.0);
}

TEST(Stats, WeightedMedianFollowsTheWeights) {
  EXPECT_DOUBLE_EQ(weighted_median({{1, 1}, {2, 1}, {3, 1}}), 2.0);
  EXPECT_DOUBLE_EQ(weighted_median({{1, 1}, {2, 1}, {30, 5}}), 30.0);
  EXPECT_DOUBLE_EQ(weighted_median({{5, 0}}), 5.0);
}

TEST(Stats, TheilSenIgnoresOutliersAndRepeatedX) {
  // y = 2x + 1 with one wild point and one repeated x.
  const std::vector<double> x{0, 1, 2, 3, 4, 5, 5};
  const std::vector<double> y{1, 3, 5, 7, 100, 11, 11};
  const double slope = theil_sen_slope(x, y);
  EXPECT_DOUBLE_EQ(slope, 2.0);
  EXPECT_DOUBLE_EQ(median_intercept(x, y, slope), 1.0);
  EXPECT_TRUE(std::isnan(theil_sen_slope({1, 1}, {2, 3})));
  EXPECT_TRUE(std::isnan(theil_sen_slope({}, {})));
}

}  // namespace
}  // namespace slicenav::stats
