// Small order statistics shared by the engine, training and benchmarks.
#pragma once

#include <algorithm>
#include <cstddef>
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

}  // namespace slicenav::stats
