#include "curve_match.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "slicenav/error.hpp"

namespace slicenav {
namespace detail {
namespace {

// Calibration (docs/prealign.md): slice stacks are compared first on a 4 mm grid over every shift, then on
// a 1 mm grid within one coarse step either side of the best.
constexpr double kCoarseStepMm = 4.0;
constexpr double kFineStepMm = 1.0;
// How far either side of the best shift the cost's rise is measured.
constexpr double kContrastMm = 20.0;

// The best offset of `cost` (indexed from d_lo) refined by a V fit, as a shift in mm, plus its statistics.
CurveShift best_shift(const Grid& f, const Grid& m, const std::vector<double>& cost, long d_lo, double step) {
  CurveShift r;
  std::vector<double> valid;
  std::size_t best = 0;
  for (std::size_t k = 0; k < cost.size(); ++k) {
    if (std::isnan(cost[k])) continue;
    if (valid.empty() || cost[k] < cost[best]) best = k;
    valid.push_back(cost[k]);
  }
  if (valid.empty()) return r;
  r.found = true;
  r.shifts_tried = valid.size();
  r.cost = cost[best];
  std::nth_element(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(valid.size() / 2), valid.end());
  r.median_cost = valid[valid.size() / 2];
  const auto at = [&](long k) {
    return k < 0 || k >= static_cast<long>(cost.size()) ? std::numeric_limits<double>::quiet_NaN()
                                                        : cost[static_cast<std::size_t>(k)];
  };
  const long b = static_cast<long>(best);
  double delta = 0;
  const double lo = at(b - 1), hi = at(b + 1);
  if (!std::isnan(lo) && !std::isnan(hi)) {
    const double rise = std::max(lo, hi) - r.cost;
    if (rise > 0) delta = std::clamp((lo - hi) / (2 * rise), -0.5, 0.5);
  }
  const double d = static_cast<double>(d_lo + b) + delta;
  r.shift_mm = (m.top - f.top) - d * step;
  const long k = std::max(1L, std::lround(kContrastMm / step));
  double rise = 0;
  int sides = 0;
  for (const double c : {at(b - k), at(b + k)}) {
    if (std::isnan(c)) continue;
    rise += (c - r.cost) / (static_cast<double>(k) * step);
    ++sides;
  }
  r.contrast = sides > 0 ? rise / sides : 0.0;
  const long i0 = std::max(0L, -(d_lo + b));
  const long i1 = std::min(static_cast<long>(f.n), static_cast<long>(m.n) - (d_lo + b));
  r.overlap_mm = static_cast<double>(i1 - i0) * step;
  return r;
}

}  // namespace

Grid resample(const std::vector<double>& z, const std::vector<float>& values, std::size_t dim, double step,
              const char* name) {
  if (z.empty() || dim == 0 || values.size() != z.size() * dim) {
    fail(Status::invalid_argument, std::string(name) + " curve: " + std::to_string(z.size()) + " positions, " +
                                       std::to_string(values.size()) + " values, dim " + std::to_string(dim));
  }
  for (double x : z) {
    if (!std::isfinite(x)) fail(Status::invalid_argument, std::string(name) + " curve: non-finite z");
  }
  const bool descending = z.front() >= z.back();
  const auto row = [&](std::size_t k) { return values.data() + (descending ? k : z.size() - 1 - k) * dim; };
  Grid g;
  g.dim = dim;
  g.top = std::max(z.front(), z.back());
  const double extent = std::abs(z.front() - z.back());
  const double spacing = z.size() > 1 ? extent / static_cast<double>(z.size() - 1) : 1.0;
  g.n = static_cast<std::size_t>(std::floor(extent / step + 1e-9)) + 1;
  g.v.resize(g.n * dim);
  for (std::size_t i = 0; i < g.n; ++i) {
    const double p =
        z.size() > 1 ? std::min(static_cast<double>(i) * step / spacing, static_cast<double>(z.size() - 1)) : 0.0;
    const auto k = std::min(static_cast<std::size_t>(p), z.size() - 1);
    const double f = p - static_cast<double>(k);
    const float* a = row(k);
    const float* b = row(std::min(k + 1, z.size() - 1));
    for (std::size_t d = 0; d < dim; ++d) g.v[i * dim + d] = static_cast<float>((1 - f) * a[d] + f * b[d]);
  }
  return g;
}

std::vector<double> offset_costs(const Grid& f, const Grid& m, long d_lo, long d_hi, std::size_t min_count) {
  std::vector<double> cost(static_cast<std::size_t>(d_hi - d_lo + 1), std::numeric_limits<double>::quiet_NaN());
  for (long d = d_lo; d <= d_hi; ++d) {
    const long i0 = std::max(0L, -d);
    const long i1 = std::min(static_cast<long>(f.n), static_cast<long>(m.n) - d);
    if (i1 - i0 < static_cast<long>(min_count)) continue;
    double sum = 0;
    const std::size_t count = static_cast<std::size_t>(i1 - i0) * f.dim;
    const float* a = f.v.data() + static_cast<std::size_t>(i0) * f.dim;
    const float* b = m.v.data() + static_cast<std::size_t>(i0 + d) * f.dim;
    for (std::size_t k = 0; k < count; ++k) sum += std::abs(a[k] - b[k]);
    cost[static_cast<std::size_t>(d - d_lo)] = sum / static_cast<double>(count);
  }
  return cost;
}

std::size_t min_count(double min_overlap_mm, double step, const Grid& f, const Grid& m) {
  const auto want = static_cast<std::size_t>(std::ceil(min_overlap_mm / step - 1e-9));
  return std::max<std::size_t>(1, std::min({want, f.n, m.n}));
}

CurveShift match_grids(const Grid& f, const Grid& m, double step, double min_overlap_mm) {
  const long d_lo = -(static_cast<long>(f.n) - 1), d_hi = static_cast<long>(m.n) - 1;
  return best_shift(f, m, offset_costs(f, m, d_lo, d_hi, min_count(min_overlap_mm, step, f, m)), d_lo, step);
}

CurveShift match_stacks(const std::vector<double>& fixed_z, const std::vector<float>& fixed_values,
                        const std::vector<double>& moving_z, const std::vector<float>& moving_values, std::size_t dim,
                        double min_overlap) {
  const Grid fc = resample(fixed_z, fixed_values, dim, kCoarseStepMm, "fixed");
  const Grid mc = resample(moving_z, moving_values, dim, kCoarseStepMm, "moving");
  const CurveShift coarse = match_grids(fc, mc, kCoarseStepMm, min_overlap);
  if (!coarse.found) return coarse;
  const Grid ff = resample(fixed_z, fixed_values, dim, kFineStepMm, "fixed");
  const Grid mf = resample(moving_z, moving_values, dim, kFineStepMm, "moving");
  const double d_centre = ((mf.top - ff.top) - coarse.shift_mm) / kFineStepMm;
  const long reach = std::lround(1.5 * kCoarseStepMm / kFineStepMm);
  const long d_lo = std::max(std::lround(d_centre) - reach, -(static_cast<long>(ff.n) - 1));
  const long d_hi = std::min(std::lround(d_centre) + reach, static_cast<long>(mf.n) - 1);
  CurveShift fine;
  if (d_lo <= d_hi) {
    fine = best_shift(ff, mf, offset_costs(ff, mf, d_lo, d_hi, min_count(min_overlap, kFineStepMm, ff, mf)), d_lo,
                      kFineStepMm);
  }
  CurveShift s = fine.found ? fine : coarse;
  s.shifts_tried = coarse.shifts_tried;
  s.median_cost = coarse.median_cost;
  s.contrast = coarse.median_cost > 0 ? coarse.contrast / coarse.median_cost : 0.0;
  s.cost = coarse.median_cost > 0 ? s.cost / coarse.median_cost : 1.0;
  return s;
}

}  // namespace detail

CurveShift match_curves(const std::vector<double>& fixed_z, const std::vector<float>& fixed_values,
                        const std::vector<double>& moving_z, const std::vector<float>& moving_values, std::size_t dim,
                        double step_mm, double min_overlap_mm) {
  if (!std::isfinite(step_mm) || step_mm <= 0) {
    fail(Status::invalid_argument, "curve step must be finite and > 0, got " + std::to_string(step_mm));
  }
  if (!std::isfinite(min_overlap_mm) || min_overlap_mm < 0) {
    fail(Status::invalid_argument, "minimum overlap must be finite and >= 0, got " + std::to_string(min_overlap_mm));
  }
  const detail::Grid f = detail::resample(fixed_z, fixed_values, dim, step_mm, "fixed");
  const detail::Grid m = detail::resample(moving_z, moving_values, dim, step_mm, "moving");
  return detail::match_grids(f, m, step_mm, min_overlap_mm);
}

}  // namespace slicenav
