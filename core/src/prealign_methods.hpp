// What prealign.cpp shares with the methods on prepared scans (prealign_prepared.cpp). Internal to core.
#pragma once

#include <algorithm>
#include <array>

#include "slicenav/orientation.hpp"
#include "slicenav/prealign.hpp"

namespace slicenav::detail {

inline double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

// The z coverage of a scan: slice centres plus half a slice step beyond each end slice.
struct Coverage1D {
  double top = 0, bottom = 0;
  double extent() const { return top - bottom; }
};

inline Coverage1D coverage_of(const SliceMapping& m) {
  const double step = m.slice_step_mm();
  const double a = m.world_z(0.0), b = m.world_z(static_cast<double>(m.slice_count()) - 1.0);
  return {std::max(a, b) + step / 2, std::min(a, b) - step / 2};
}

// Shared z extent after moving the moving scan's coverage into the fixed frame (z - t).
inline double overlap_after(const Coverage1D& fixed, const Coverage1D& moving, double t) {
  return std::max(0.0, std::min(fixed.top, moving.top - t) - std::max(fixed.bottom, moving.bottom - t));
}

// Slice-score curves matched by L1 shift.
Prealignment by_score(const PreparedScan& fixed, const PreparedScan& moving, double min_overlap);
// The scores of the fixed scan's end slices and of the moving scan's end and middle slices.
Prealignment by_three_slices(double fixed_top_z, double fixed_top_score, double fixed_bottom_z,
                             double fixed_bottom_score, const std::array<double, 3>& moving_z,
                             const std::array<double, 3>& moving_score, double moving_extent);
Prealignment by_three_slices(const PreparedScan& fixed, const PreparedScan& moving);
// The three-slice verdict, once the overlap of the answer is known.
void judge_three_slices(Prealignment& r, double overlap, double min_overlap);
// Every slice inserted into the other scan, and a robust line through the answers.
Prealignment by_insertion(const Model& model, const PreparedScan& fixed, const PreparedScan& moving,
                          double min_overlap);
// Key slices located in both scans.
Prealignment by_key_slices(const Model& model, const PreparedScan& fixed, const PreparedScan& moving);

}  // namespace slicenav::detail
