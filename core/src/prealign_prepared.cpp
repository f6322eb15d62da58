// The z-prealignment methods that work on prepared scans: slice-score curves, three slices, insertion and key
// slices (prealign.hpp; the stack methods and auto are in prealign.cpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "curve_match.hpp"
#include "prealign_methods.hpp"
#include "slicenav/error.hpp"
#include "stats.hpp"

namespace slicenav::detail {
namespace {

// ---- Calibration (docs/prealign.md: chosen on the held-out real scans of ../shared/data as a whole) ----

// Score curves are compared on a 1 mm grid (slice stacks: detail::match_stacks, curve_match.hpp).
constexpr double kScoreStepMm = 1.0;
// Score method: anatomy is shared when the mean score difference at the best shift is small (atlas mm) and
// the cost rises away from it (atlas mm per mm; a flat score curve cannot place a shift).
constexpr double kScoreSharedCostMm = 15.0;
constexpr double kScoreCostScaleMm = 15.0;
constexpr double kMinScoreContrast = 0.25;
constexpr double kFullScoreContrast = 0.6;
// anatomy is shared when at least this share of the slices that should land inside the other scan do.
constexpr double kInlierMm = 15.0;
constexpr double kInsertionSharedShare = 0.4;
constexpr std::size_t kMinInliers = 3;
// Key-slice method: anatomy is shared when at least this many key slices lie inside both scans; the
// confidence grows with their number (full at kFullKeySlices) and falls with how much their shifts
// disagree (median absolute deviation, mm; two patients' key slices are never all the same distance apart).
constexpr std::size_t kMinSharedKeySlices = 2;
// A key slice located this close to either end slice of a scan (or two slice steps, if more) does not vote:
// locate() puts a key slice that lies beyond a scan at its end as readily as inside it (short scans showed
// several key slices piled on their end slices).
constexpr double kKeySliceEndMarginMm = 10.0;
constexpr double kFullKeySlices = 4.0;
constexpr double kKeySliceSpreadScaleMm = 30.0;
// Three-slice method: it cannot check itself, and the end slices' scores are often biased (docs/prealign.md),
// so its answers stay below the low-confidence line of 0.3.
constexpr double kThreeSliceConfidence = 0.25;

double plausible_slope(double slope) {
  return slope >= Recognition::kMinRecognisedSlope && slope <= 2.0 * AnatomicalMap::kMaxSlope;
}

// ---- Shared pieces ------------------------------------------------------------------------------------

std::vector<float> as_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// The slice scores' line score = a + b z, from two (z, score) points; slope 1 when they coincide.
struct Line {
  double intercept = 0, slope = 1;
  bool plausible = false;
};

Line line_through(double z0, double s0, double z1, double s1) {
  Line l;
  if (std::abs(z0 - z1) > 1e-6) l.slope = (s0 - s1) / (z0 - z1);
  l.plausible = plausible_slope(l.slope);
  if (!l.plausible) l.slope = 1.0;
  l.intercept = s0 - l.slope * z0;
  return l;
}

// Whether each scan's slice scores rise superiorly (recognise()), written into the result.
void note_recognition(const PreparedScan& fixed, const PreparedScan& moving, Prealignment& r) {
  r.fixed_recognised = recognise(fixed).recognised;
  r.moving_recognised = recognise(moving).recognised;
}

std::string unrecognised_note(const Prealignment& r) {
  if (r.fixed_recognised && r.moving_recognised) return "";
  return std::string("the model does not recognise the ") +
         (!r.fixed_recognised && !r.moving_recognised ? "fixed or the moving"
          : !r.fixed_recognised                       ? "fixed"
                                                      : "moving") +
         " scan's anatomy (its slice scores do not rise superiorly)";
}

// z from the scans' score lines alone (through each scan's end slices): the moving scan's centre placed
// where the fixed scan's line gives its score. Used by the three-slice method and as the answer of last
// resort when the other learned methods find nothing.
double line_shift(const Line& fixed, double moving_centre_z, double moving_centre_score) {
  return moving_centre_z - (moving_centre_score - fixed.intercept) / fixed.slope;
}

double line_shift(const PreparedScan& fixed, const PreparedScan& moving) {
  const auto& fz = fixed.slices.world_z_mm;
  const Line line = line_through(fz.front(), fixed.score.front(), fz.back(), fixed.score.back());
  const std::size_t c = (moving.slice_count() - 1) / 2;
  return line_shift(line, moving.slices.world_z_mm[c], moving.score[c]);
}

// ---- Methods on prepared scans ----------------------------------------------------------------------

}  // namespace

Prealignment by_score(const PreparedScan& fixed, const PreparedScan& moving, double min_overlap) {
  Prealignment r;
  r.method = PrealignMethod::score;
  note_recognition(fixed, moving, r);
  const CurveShift s = match_curves(fixed.slices.world_z_mm, as_float(fixed.score), moving.slices.world_z_mm,
                                    as_float(moving.score), 1, kScoreStepMm, min_overlap);
  r.samples = s.shifts_tried;
  if (!s.found) {
    r.translation_mm[2] = line_shift(fixed, moving);
    r.note = "no shift gives the minimum overlap";
    return r;
  }
  r.translation_mm[2] = s.shift_mm;
  r.cost = s.cost;
  r.contrast = s.contrast;
  const bool recognised = r.fixed_recognised && r.moving_recognised;
  r.shared_anatomy = recognised && s.cost <= kScoreSharedCostMm && s.contrast >= kMinScoreContrast;
  r.confidence = recognised ? std::exp(-s.cost / kScoreCostScaleMm) *
                                  clamp01((s.contrast - kMinScoreContrast) / (kFullScoreContrast - kMinScoreContrast))
                            : 0.0;
  if (!recognised) {
    r.note = unrecognised_note(r);
  } else if (s.cost > kScoreSharedCostMm) {
    r.note = "the score curves differ by " + std::to_string(static_cast<int>(std::lround(s.cost))) +
             " atlas mm at their best shift: no common anatomy";
  } else if (s.contrast < kMinScoreContrast) {
    r.note = "the scores hardly change over the shared part: the shift is not determined";
  }
  return r;
}

Prealignment by_three_slices(double fixed_top_z, double fixed_top_score, double fixed_bottom_z,
                             double fixed_bottom_score, const std::array<double, 3>& moving_z,
                             const std::array<double, 3>& moving_score, double moving_extent) {
  // moving_* = top, centre, bottom slice.
  Prealignment r;
  r.method = PrealignMethod::three_slice;
  r.samples = 3;
  const Line fixed = line_through(fixed_top_z, fixed_top_score, fixed_bottom_z, fixed_bottom_score);
  const Line moving = line_through(moving_z[0], moving_score[0], moving_z[2], moving_score[2]);
  const bool fixed_judged = std::abs(fixed_top_z - fixed_bottom_z) >= Recognition::kMinJudgedExtentMm;
  r.fixed_recognised = !fixed_judged || fixed.plausible;
  r.moving_recognised = moving_extent < Recognition::kMinJudgedExtentMm || moving.plausible;
  r.contrast = fixed.slope;
  r.translation_mm[2] = line_shift(fixed, moving_z[1], moving_score[1]);
  r.note = unrecognised_note(r);
  return r;
}

Prealignment by_three_slices(const PreparedScan& fixed, const PreparedScan& moving) {
  const auto& fz = fixed.slices.world_z_mm;
  const auto& mz = moving.slices.world_z_mm;
  const std::size_t c = (moving.slice_count() - 1) / 2;
  return by_three_slices(fz.front(), fixed.score.front(), fz.back(), fixed.score.back(), {mz.front(), mz[c], mz.back()},
                         {moving.score.front(), moving.score[c], moving.score.back()},
                         std::abs(mz.front() - mz.back()));
}

// Shared anatomy and confidence of a three-slice answer, once the overlap is known.
void judge_three_slices(Prealignment& r, double overlap, double min_overlap) {
  const bool recognised = r.fixed_recognised && r.moving_recognised;
  r.shared_anatomy = recognised && overlap >= min_overlap && overlap > 0;
  r.confidence = r.shared_anatomy ? kThreeSliceConfidence : 0.0;
  if (recognised && !r.shared_anatomy) r.note = "the scores place the scans apart: no common anatomy";
}

namespace {

// Mean |score difference| (atlas mm) of the two scans' score curves at shift t; infinite when they share
// fewer than the minimum overlap's samples there.
double score_cost_at(const PreparedScan& fixed, const PreparedScan& moving, double t, double min_overlap) {
  const detail::Grid f = detail::resample(fixed.slices.world_z_mm, as_float(fixed.score), 1, kScoreStepMm, "fixed");
  const detail::Grid m = detail::resample(moving.slices.world_z_mm, as_float(moving.score), 1, kScoreStepMm, "moving");
  const long d = std::lround(((m.top - f.top) - t) / kScoreStepMm);
  const double c = detail::offset_costs(f, m, d, d, detail::min_count(min_overlap, kScoreStepMm, f, m)).front();
  return std::isnan(c) ? std::numeric_limits<double>::infinity() : c;
}

// One insertion answer as a vote for t = z_moving - z_fixed.
struct Vote {
  double t = 0, weight = 0;
};

}  // namespace

Prealignment by_insertion(const Model& model, const PreparedScan& fixed, const PreparedScan& moving,
                          double min_overlap) {
  Prealignment r;
  r.method = PrealignMethod::insertion;
  note_recognition(fixed, moving, r);
  const Insertion into_fixed = insert_scan(model, moving, fixed);
  const Insertion into_moving = insert_scan(model, fixed, moving);
  std::vector<Vote> votes;
  for (const auto& s : into_fixed.slices) {
    if (s.target.where == InsertedSlice::Where::inside)
      votes.push_back({s.query_world_z_mm - s.target.world_z_mm, s.peak});
  }
  for (const auto& s : into_moving.slices) {
    if (s.target.where == InsertedSlice::Where::inside)
      votes.push_back({s.target.world_z_mm - s.query_world_z_mm, s.peak});
  }
  // Inlier band: kInlierMm, or two slot spacings of the coarser target when its slots are sparser.
  const auto slot_mm = [](const PreparedScan& scan, const Insertion& ins) {
    return ins.target_slots.size() > 1 ? scan.mapping.slice_step_mm() * static_cast<double>(scan.slice_count() - 1) /
                                             static_cast<double>(ins.target_slots.size() - 1)
                                       : scan.mapping.slice_step_mm();
  };
  const double band = std::max({kInlierMm, 2 * slot_mm(fixed, into_fixed), 2 * slot_mm(moving, into_moving)});
  if (votes.empty()) {
    r.translation_mm[2] = line_shift(fixed, moving);
    r.note = "every slice was put above or below the other scan: no common anatomy";
    return r;
  }
  // The densest band of votes (weighted by peak), then the weighted median of its members.
  std::sort(votes.begin(), votes.end(), [](const Vote& a, const Vote& b) { return a.t < b.t; });
  double best_weight = -1;
  std::size_t best_lo = 0, best_hi = 0, lo = 0;
  double window = 0;
  for (std::size_t hi = 0; hi < votes.size(); ++hi) {
    window += votes[hi].weight;
    while (votes[hi].t - votes[lo].t > 2 * band) window -= votes[lo++].weight;
    if (window > best_weight) {
      best_weight = window;
      best_lo = lo;
      best_hi = hi;
    }
  }
  std::vector<std::pair<double, double>> members;
  for (std::size_t k = best_lo; k <= best_hi; ++k) members.push_back({votes[k].t, votes[k].weight});
  const double t0 = stats::weighted_median(members);
  std::vector<std::pair<double, double>> inliers;
  for (const auto& v : votes) {
    if (std::abs(v.t - t0) <= band) inliers.push_back({v.t, v.weight});
  }
  const double t = stats::weighted_median(inliers);
  r.translation_mm[2] = t;

  // Under t, which slices should land inside the other scan, and which do (near the line) or land on the
  // right side of it.
  const Coverage1D fc = coverage_of(fixed.mapping), mc = coverage_of(moving.mapping);
  std::size_t expected_inside = 0, agree = 0, expected_outside = 0, right_side = 0;
  const auto judge = [&](const Insertion& ins, const Coverage1D& target, double to_target) {
    const double margin = std::max(kInlierMm, band / 2);
    for (const auto& s : ins.slices) {
      const double z = s.query_world_z_mm + to_target;
      if (z < target.top - margin && z > target.bottom + margin) {
        ++expected_inside;
        if (s.target.where == InsertedSlice::Where::inside && std::abs(s.target.world_z_mm - z) <= band) {
          ++agree;
        }
      } else if (z > target.top + margin || z < target.bottom - margin) {
        ++expected_outside;
        const auto side = z > target.top ? InsertedSlice::Where::above : InsertedSlice::Where::below;
        if (s.target.where == side) ++right_side;
      }
    }
  };
  judge(into_fixed, fc, -t);
  judge(into_moving, mc, t);
  r.samples = inliers.size();
  r.contrast = static_cast<double>(inliers.size());
  const double share = expected_inside > 0 ? static_cast<double>(agree) / static_cast<double>(expected_inside) : 0.0;
  const double sides =
      expected_outside > 0 ? static_cast<double>(right_side) / static_cast<double>(expected_outside) : 1.0;
  r.cost = 1.0 - share;
  const double overlap = overlap_after(fc, mc, t);
  // The slice scores must agree with the line too: insertion places slices of unknown anatomy with
  // confidence, the scores of two unrelated levels still differ.
  const double score_cost = score_cost_at(fixed, moving, t, min_overlap);
  // Slices of anatomy the model does not know (recognise()) get placed somewhere all the same.
  r.shared_anatomy = r.fixed_recognised && r.moving_recognised && agree >= kMinInliers &&
                     share >= kInsertionSharedShare && overlap >= min_overlap && score_cost <= kScoreSharedCostMm;
  r.confidence = r.shared_anatomy ? share * sides : 0.0;
  if (!r.fixed_recognised || !r.moving_recognised) {
    r.note = unrecognised_note(r);
  } else if (score_cost > kScoreSharedCostMm) {
    r.note = "the slice scores differ by " + std::to_string(static_cast<int>(std::lround(score_cost))) +
             " atlas mm at the insertion's shift: no common anatomy";
  } else if (!r.shared_anatomy) {
    r.note = overlap < min_overlap ? "the slices put inside agree on a shift that leaves less than the minimum overlap"
                                   : "too few slices agree on one shift: no common anatomy";
  }
  return r;
}

// The key slices located in both scans: each one inside both votes for t = z_moving - z_fixed; the answer
// is the median vote.
Prealignment by_key_slices(const Model& model, const PreparedScan& fixed, const PreparedScan& moving) {
  Prealignment r;
  r.method = PrealignMethod::key_slices;
  note_recognition(fixed, moving, r);
  // Whether a located key slice lies inside the scan, clear of its end slices.
  const auto clearly_inside = [](const LocatedLandmark& l, const PreparedScan& scan) {
    const SliceMapping& m = scan.mapping;
    const double margin = std::max(kKeySliceEndMarginMm, 2 * m.slice_step_mm());
    const double a = m.world_z(0.0), b = m.world_z(static_cast<double>(m.slice_count()) - 1.0);
    return l.position.where == InsertedSlice::Where::inside && l.position.world_z_mm <= std::max(a, b) - margin &&
           l.position.world_z_mm >= std::min(a, b) + margin;
  };
  const std::vector<LocatedLandmark> in_fixed = locate(model, fixed), in_moving = locate(model, moving);
  std::vector<double> shifts;
  for (const auto& f : in_fixed) {
    if (!clearly_inside(f, fixed)) continue;
    for (const auto& m : in_moving) {
      if (m.name == f.name && clearly_inside(m, moving))
        shifts.push_back(m.position.world_z_mm - f.position.world_z_mm);
    }
  }
  r.samples = shifts.size();
  if (shifts.empty()) {
    r.translation_mm[2] = line_shift(fixed, moving);
    r.note = "no key slice was found inside both scans";
    return r;
  }
  const double t = stats::median(shifts);
  std::vector<double> deviations;
  for (const double x : shifts) deviations.push_back(std::abs(x - t));
  r.translation_mm[2] = t;
  r.cost = stats::median(deviations);
  const bool recognised = r.fixed_recognised && r.moving_recognised;
  r.shared_anatomy = recognised && shifts.size() >= kMinSharedKeySlices;
  r.confidence = r.shared_anatomy ? clamp01(static_cast<double>(shifts.size() - 1) / (kFullKeySlices - 1)) *
                                        std::exp(-r.cost / kKeySliceSpreadScaleMm)
                                  : 0.0;
  if (!recognised) {
    r.note = unrecognised_note(r);
  } else if (!r.shared_anatomy) {
    r.note = "only one key slice was found in both scans";
  }
  return r;
}

}  // namespace slicenav::detail
