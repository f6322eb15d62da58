// Small order statistics shared by the engine, training and benchmarks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

namespace slicenav::stats {

// The median (mean of the two middle values for an even count). The values must not be empty.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The p-quantile (0 <= p <= 1), linear between order statistics. The values must not be empty.
inline double quantile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double x = std::clamp(p, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto k = static_cast<std::size_t>(x);
  return k + 1 < v.size() ? v[k] + (x - static_cast<double>(k)) * (v[k + 1] - v[k]) : v.back();
}

// The weighted median of (value, weight) pairs: the smallest value whose cumulative weight reaches half the
// total. The pairs must not be empty.
inline double weighted_median(std::vector<std::pair<double, double>> v) {
  std::sort(v.begin(), v.end());
  double total = 0;
  for (const auto& p : v) total += p.second;
  double acc = 0;
  for (const auto& p : v) {
    acc += p.second;
    if (acc >= total / 2) return p.first;
  }
  return v.back().first;
}

// Theil-Sen slope of y over x: the median of the slopes between every pair of points whose x differ (by more
// than 1e-6); NaN when no two do. x and y have the same length.
inline double theil_sen_slope(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> slopes;
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (std::size_t j = i + 1; j < x.size(); ++j) {
      const double dx = x[i] - x[j];
      if (std::abs(dx) > 1e-6) slopes.push_back((y[i] - y[j]) / dx);
    }
  }
  return slopes.empty() ? std::numeric_limits<double>::quiet_NaN() : median(std::move(slopes));
}

// The intercept that goes with `slope`: the median of y - slope * x. Not empty; x and y have the same length.
inline double median_intercept(const std::vector<double>& x, const std::vector<double>& y, double slope) {
  std::vector<double> offsets(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) offsets[i] = y[i] - slope * x[i];
  return median(std::move(offsets));
}

}  // namespace slicenav::stats
