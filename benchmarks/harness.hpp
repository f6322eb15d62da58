// What the in-process benchmark harnesses share: wall-clock timing (medians with min and max over runs,
// one untimed warm-up call first), the standard 512 x 512 x 300 trunk phantom of docs/benchmarks.md, and
// sub-volumes of real scans.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "markdown_section.hpp"
#include "slicenav/phantom.hpp"
#include "stats.hpp"

namespace slicenav::bench {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
};

// Median, min and max of a non-empty list of times.
inline Timing summarize(const std::vector<double>& ms) {
  return {stats::median(ms), *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end())};
}

// "median [min-max]" with `digits` digits after the point.
inline std::string cell(const Timing& t, int digits = 1) {
  return fixed(t.median_ms, digits) + " [" + fixed(t.min_ms, digits) + "-" + fixed(t.max_ms, digits) + "]";
}

// One untimed warm-up call of `f`, then `runs` timed calls.
template <typename F>
Timing time_calls(int runs, F&& f) {
  f();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    f();
    ms.push_back(ms_since(start));
  }
  return summarize(ms);
}

// The Volume I/O section's phantom: make_phantom 512 x 512 x 300, spacing 0.8 x 0.8 x 1.0 mm, LPS, default
// noise, its most superior slice centre at `top_z_mm` (lung apex at 0).
inline Phantom trunk_phantom(double top_z_mm, std::uint64_t seed) {
  PhantomOptions options;
  options.size = {512, 512, 300};
  options.spacing = {0.8, 0.8, 1.0};
  options.top_z_mm = top_z_mm;
  options.seed = seed;
  return make_phantom(options);
}

using slicenav::slice_range;  // volume.hpp

}  // namespace slicenav::bench
