// Matching two curves sampled along z (score curves, slice embeddings, slice images): the shift that makes
// them most alike, found over every shift on one grid or coarse to fine. Internal to prealignment; the public
// entry point is match_curves (prealign.hpp).
#pragma once

#include <cstddef>
#include <vector>

#include "slicenav/prealign.hpp"

namespace slicenav::detail {

// A curve resampled to `step` along z, superior first: sample i lies at top - i * step.
struct Grid {
  double top = 0;
  std::size_t n = 0, dim = 0;
  std::vector<float> v;
};

// `values` (dim per position) linearly resampled at `step` mm from the superior end. Throws
// Error(invalid_argument), naming the curve by `name`, for empty or mismatched input or a non-finite z.
Grid resample(const std::vector<double>& z, const std::vector<float>& values, std::size_t dim, double step,
              const char* name);

// Costs of integer offsets d in [d_lo, d_hi] (moving sample i + d against fixed sample i) with at least
// min_count shared samples; NaN where there are fewer.
std::vector<double> offset_costs(const Grid& f, const Grid& m, long d_lo, long d_hi, std::size_t min_count);

// Shared samples that give min_overlap_mm at `step` (at least 1, at most either grid's length).
std::size_t min_count(double min_overlap_mm, double step, const Grid& f, const Grid& m);

// Every shift with the minimum overlap tried on one grid.
CurveShift match_grids(const Grid& f, const Grid& m, double step, double min_overlap_mm);

// Two stacks of per-slice vectors matched coarse to fine: every shift on a 4 mm grid, then a 1 mm grid
// within one coarse step (plus the V fit's half step) either side of the best. The answer's cost and
// contrast are relative to the coarse search's median shift (a cost near 1 when nothing matches).
CurveShift match_stacks(const std::vector<double>& fixed_z, const std::vector<float>& fixed_values,
                        const std::vector<double>& moving_z, const std::vector<float>& moving_values, std::size_t dim,
                        double min_overlap);

}  // namespace slicenav::detail
