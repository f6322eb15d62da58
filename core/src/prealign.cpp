#include "slicenav/prealign.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <future>
#include <limits>
#include <numeric>

#include "curve_match.hpp"
#include "parallel.hpp"
#include "slicenav/error.hpp"
#include "slicenav/measure.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/preprocess.hpp"
#include "stats.hpp"

namespace slicenav {
namespace {

// ---- Calibration (docs/prealign.md: chosen on the held-out real scans of ../shared/data as a whole) ----

// Score curves are compared on a 1 mm grid (slice stacks: detail::match_stacks, curve_match.hpp).
constexpr double kScoreStepMm = 1.0;
// A scan's extent that can be aligned with a shorter minimum overlap: 80 % of the shorter scan.
constexpr double kShortScanOverlap = 0.8;
// Score method: anatomy is shared when the mean score difference at the best shift is small (atlas mm) and
// the cost rises away from it (atlas mm per mm; a flat score curve cannot place a shift).
constexpr double kScoreSharedCostMm = 15.0;
constexpr double kScoreCostScaleMm = 15.0;
constexpr double kMinScoreContrast = 0.25;
constexpr double kFullScoreContrast = 0.6;
// Intensity method: coarse slice images (area-averaged, 12 mm pixels, a 384 mm field centred on the body).
constexpr std::size_t kIntensityImageSize = 32;
constexpr double kIntensityPixelMm = 12.0;
// ... anatomy is shared when the best shift's cost is at most this share of the median shift's.
constexpr double kIntensitySharedRatio = 0.6;
constexpr double kIntensityFullRatio = 0.2;
// Embedding method: the same rule on the slice encoder's embeddings.
constexpr double kEmbeddingSharedRatio = 0.2;
constexpr double kEmbeddingFullRatio = 0.08;
// Insertion method: answers within this distance of the line (or two slot spacings, if more) are inliers;
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
// Auto: the embedding match is taken at once when its relative cost is this low (sub-volumes, thick slabs
// and other kernels of one scan came to at most 0.07 with the bundled model, pairs of two patients to at
// least 0.13), and the intensity match as the last resort only when its relative cost is this low (two
// patients' scans came to at least 0.32).
constexpr double kSamePatientEmbeddingRatio = 0.1;
constexpr double kLastResortIntensityRatio = 0.25;
// Three-slice method: it cannot check itself, and the end slices' scores are often biased (docs/prealign.md),
// so its answers stay below the low-confidence line of 0.3.
constexpr double kThreeSliceConfidence = 0.25;

double plausible_slope(double slope) {
  return slope >= Recognition::kMinRecognisedSlope && slope <= 2.0 * AnatomicalMap::kMaxSlope;
}

double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

// The z coverage of a scan: slice centres plus half a slice step beyond each end slice.
struct Coverage1D {
  double top = 0, bottom = 0;
  double extent() const { return top - bottom; }
};

Coverage1D coverage_of(const SliceMapping& m) {
  const double step = m.slice_step_mm();
  const double a = m.world_z(0.0), b = m.world_z(static_cast<double>(m.slice_count()) - 1.0);
  return {std::max(a, b) + step / 2, std::min(a, b) - step / 2};
}

// Shared z extent after moving the moving scan's coverage into the fixed frame (z - t).
double overlap_after(const Coverage1D& fixed, const Coverage1D& moving, double t) {
  return std::max(0.0, std::min(fixed.top, moving.top - t) - std::max(fixed.bottom, moving.bottom - t));
}

double effective_min_overlap(const PrealignOptions& o, const Coverage1D& f, const Coverage1D& m) {
  return std::min(o.min_overlap_mm, kShortScanOverlap * std::min(f.extent(), m.extent()));
}

void validate(const PrealignOptions& o) {
  if (!std::isfinite(o.min_overlap_mm) || o.min_overlap_mm < 0) {
    fail(Status::invalid_argument, "min_overlap_mm must be finite and >= 0, got " + std::to_string(o.min_overlap_mm));
  }
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

// ---- Slice stacks: the intensity and embedding methods -------------------------------------------------

// Every canonical slice preprocessed with `options`, each centred on its own body centroid: the patient
// may lie elsewhere in the other scan's field, and a sub-volume's body centroid differs from its whole
// scan's, so one centre per scan would make the same anatomy look different.
SliceStack centred_slices(const Volume& volume, const SliceMapping& mapping, const PreprocessOptions& options) {
  const CanonicalView view(volume, mapping);
  const std::size_t n = view.size()[2], pixels = options.image_size * options.image_size;
  SliceStack stack;
  stack.image_size = options.image_size;
  stack.pixels.resize(n * pixels);
  stack.canonical_slice.resize(n);
  stack.world_z_mm.resize(n);
  detail::parallel_ranges(n, 16, [&](std::size_t begin, std::size_t end) {
    for (std::size_t k = begin; k < end; ++k) {
      const SliceStack one = preprocess(view, {k}, options);
      std::copy(one.pixels.begin(), one.pixels.end(), stack.pixels.begin() + static_cast<std::ptrdiff_t>(k * pixels));
      stack.canonical_slice[k] = k;
      stack.world_z_mm[k] = one.world_z_mm.front();
    }
  });
  return stack;
}

// A stack match as an answer: shared when the relative cost is at most `shared_ratio`, the confidence
// rising from 0 there to 1 at `full_ratio`; `unlike` is the note when it is not shared.
void judge_stack_match(const CurveShift& s, double shared_ratio, double full_ratio, const char* unlike,
                       Prealignment& r) {
  if (!s.found) {
    r.note = "no shift gives the minimum overlap";
    return;
  }
  r.translation_mm[2] = s.shift_mm;
  r.samples = s.shifts_tried;
  r.contrast = s.contrast;
  r.cost = s.cost;
  r.shared_anatomy = s.cost <= shared_ratio;
  r.confidence = clamp01((shared_ratio - s.cost) / (shared_ratio - full_ratio));
  if (!r.shared_anatomy) r.note = unlike;
}

// Model-free: coarse slice images (area-averaged, HU window -1000..1000 mapped to [-1, 1]).
Prealignment by_intensity(const Volume& fixed, const SliceMapping& fm, const Volume& moving, const SliceMapping& mm,
                          double min_overlap, const Progress& progress) {
  Prealignment r;
  r.method = PrealignMethod::intensity;
  PreprocessOptions o;
  o.image_size = kIntensityImageSize;
  o.pixel_mm = kIntensityPixelMm;
  progress.at(0.0);
  const SliceStack fi = centred_slices(fixed, fm, o);
  progress.at(0.4);
  const SliceStack mi = centred_slices(moving, mm, o);
  progress.at(0.8);
  const CurveShift s = detail::match_stacks(fi.world_z_mm, fi.pixels, mi.world_z_mm, mi.pixels,
                                            o.image_size * o.image_size, min_overlap);
  judge_stack_match(s, kIntensitySharedRatio, kIntensityFullRatio,
                    "no shift makes the slices look alike: no common anatomy", r);
  return r;
}

// The slice encoder's embeddings of slices centred one by one, and whether the model recognises the scan.
struct CentredEmbeddings {
  SliceEmbeddings slices;
  bool recognised = true;
};

CentredEmbeddings centred_embeddings(const Model& model, const Volume& volume, const SliceMapping& mapping) {
  CentredEmbeddings e;
  PreparedScan scan;
  scan.mapping = mapping;
  scan.slices = model.embed(centred_slices(volume, mapping, model.config().preprocess));
  scan.score = model.score(scan.slices);
  e.recognised = recognise(scan).recognised;
  e.slices = std::move(scan.slices);
  return e;
}

// The intensity method's search on the slice encoder's embeddings.
Prealignment by_embedding(const Model& model, const Volume& fixed, const SliceMapping& fm, const Volume& moving,
                          const SliceMapping& mm, double min_overlap, const Progress& progress) {
  Prealignment r;
  r.method = PrealignMethod::embedding;
  progress.at(0.0);
  const CentredEmbeddings f = centred_embeddings(model, fixed, fm);
  progress.at(0.45);
  const CentredEmbeddings m = centred_embeddings(model, moving, mm);
  progress.at(0.9);
  r.fixed_recognised = f.recognised;
  r.moving_recognised = m.recognised;
  const CurveShift s = detail::match_stacks(f.slices.world_z_mm, f.slices.values, m.slices.world_z_mm, m.slices.values,
                                            f.slices.dim, min_overlap);
  judge_stack_match(s, kEmbeddingSharedRatio, kEmbeddingFullRatio,
                    "no shift makes the slice embeddings alike: no common anatomy", r);
  return r;
}

// Both scans prepared: the encoder passes one after the other with all of LibTorch's threads, then the key
// slices measured in both scans' voxels at once. Measuring beside an encoder pass would leave LibTorch's
// threads waiting for a core at every operation.
std::pair<PreparedScan, PreparedScan> prepare_both(const Model& model, const Volume& fixed, const Volume& moving,
                                                   const PrepareOptions& options) {
  const double encoded = options.measure_key_slices ? 0.75 : 1.0;
  PreparedScan f = prepare_scan(model, fixed, {false, options.progress.stage(0.0, encoded / 2)});
  PreparedScan m = prepare_scan(model, moving, {false, options.progress.stage(encoded / 2, encoded)});
  if (options.measure_key_slices) {
    auto in_moving =
        std::async(std::launch::async, [&] { return measure_key_slices(CanonicalView(moving, m.mapping)); });
    f.measured = measure_key_slices(CanonicalView(fixed, f.mapping));
    m.measured = in_moving.get();
    options.progress.at(1.0);
  }
  return {std::move(f), std::move(m)};
}

// Auto: the embedding match when the slices match as one patient's do (the most precise answer there);
// else the key slices, which hold across patients; else the embedding or, last, a close intensity match
// (crops the model does not recognise). With none, the key slices' (or the embedding's) verdict.
Prealignment by_auto(const Model& model, const Volume& fixed, const SliceMapping& fm, const Volume& moving,
                     const SliceMapping& mm, double min_overlap, const Progress& progress) {
  Prealignment embedding = by_embedding(model, fixed, fm, moving, mm, min_overlap, progress.stage(0.0, 0.35));
  if (embedding.shared_anatomy && embedding.cost <= kSamePatientEmbeddingRatio) return embedding;
  // A model without templates cannot locate key slices: auto goes on without them.
  Prealignment key;
  if (!model.templates().empty() && !model.atlas().position_mm.empty()) {
    const auto [f, m] = prepare_both(model, fixed, moving, {true, progress.stage(0.35, 0.85)});
    key = by_key_slices(model, f, m);
    if (key.shared_anatomy) return key;
  }
  if (embedding.shared_anatomy) return embedding;
  Prealignment intensity = by_intensity(fixed, fm, moving, mm, min_overlap, progress.stage(0.85, 1.0));
  if (intensity.shared_anatomy && intensity.cost <= kLastResortIntensityRatio) return intensity;
  Prealignment& verdict = key.samples > 0 ? key : embedding;
  verdict.note = "no method found common anatomy (" + std::string(prealign_method_name(verdict.method)) + ": " +
                 verdict.note + ")";
  return verdict;
}

// ---- In-plane ------------------------------------------------------------------------------------------

// World (x, y) of the body centroid over the canonical slices whose centres lie in [z_lo, z_hi] (all
// slices when none does).
std::array<double, 2> body_xy(const Volume& volume, const SliceMapping& mapping, double z_lo, double z_hi) {
  const CanonicalView view(volume, mapping);
  std::vector<std::size_t> slices;
  for (std::size_t k = 0; k < view.size()[2]; ++k) {
    const double z = mapping.world_z(static_cast<double>(k));
    if (z >= z_lo && z <= z_hi) slices.push_back(k);
  }
  if (slices.empty()) {
    slices.resize(view.size()[2]);
    std::iota(slices.begin(), slices.end(), std::size_t{0});
  }
  const InPlaneCentre c = body_centre(view, slices);
  const double k = static_cast<double>(slices[slices.size() / 2]);
  const Vec3 origin = mapping.original_geometry().index_to_world(mapping.original_index({0.0, 0.0, k}));
  return {origin[0] + c.x_mm, origin[1] + c.y_mm};
}

void add_in_plane(const Volume& fixed, const SliceMapping& fm, const Volume& moving, const SliceMapping& mm,
                  Prealignment& r) {
  const Coverage1D fc = coverage_of(fm), mc = coverage_of(mm);
  const double t = r.translation_mm[2];
  const double lo = std::max(fc.bottom, mc.bottom - t), hi = std::min(fc.top, mc.top - t);
  const auto f = body_xy(fixed, fm, lo, hi);
  const auto m = body_xy(moving, mm, lo + t, hi + t);
  r.translation_mm[0] = m[0] - f[0];
  r.translation_mm[1] = m[1] - f[1];
}

// Overlap, the short-scan rule and the final verdict shared by every method.
void finish(Prealignment& r, const Coverage1D& fc, const Coverage1D& mc, double min_overlap) {
  r.overlap_mm = overlap_after(fc, mc, r.translation_mm[2]);
  if (r.method == PrealignMethod::three_slice) judge_three_slices(r, r.overlap_mm, min_overlap);
  if (!r.shared_anatomy) r.confidence = 0.0;
  if (r.shared_anatomy) r.note.clear();
}

Prealignment prepared_method(const Model& model, const PreparedScan& fixed, const PreparedScan& moving,
                             const PrealignOptions& options, double min_overlap) {
  switch (options.method) {
    case PrealignMethod::score: return by_score(fixed, moving, min_overlap);
    case PrealignMethod::three_slice: return by_three_slices(fixed, moving);
    case PrealignMethod::insertion: return by_insertion(model, fixed, moving, min_overlap);
    case PrealignMethod::key_slices: return by_key_slices(model, fixed, moving);
    case PrealignMethod::embedding:
    case PrealignMethod::intensity:
    case PrealignMethod::automatic: break;
  }
  fail(Status::invalid_argument,
       std::string("the ") + prealign_method_name(options.method) +
           " method centres every slice on its own and needs the volumes, not prepared scans");
}

// Scores of the given canonical slices alone (the three-slice method's whole model cost), preprocessed
// around the whole scan's body centre as prepare_scan does.
std::vector<double> scores_of(const Model& model, const Volume& volume, const SliceMapping& mapping,
                              const std::vector<std::size_t>& slices) {
  const CanonicalView view(volume, mapping);
  std::vector<std::size_t> all(view.size()[2]);
  std::iota(all.begin(), all.end(), std::size_t{0});
  return model.score(preprocess(view, slices, model.config().preprocess, body_centre(view, all)));
}

}  // namespace

const char* prealign_method_name(PrealignMethod method) {
  switch (method) {
    case PrealignMethod::score: return "score";
    case PrealignMethod::three_slice: return "three-slice";
    case PrealignMethod::insertion: return "insertion";
    case PrealignMethod::intensity: return "intensity";
    case PrealignMethod::embedding: return "embedding";
    case PrealignMethod::key_slices: return "key-slices";
    case PrealignMethod::automatic: return "auto";
  }
  return "auto";
}

PrealignMethod prealign_method_from_name(const std::string& name) {
  for (const auto m :
       {PrealignMethod::automatic, PrealignMethod::score, PrealignMethod::three_slice, PrealignMethod::insertion,
        PrealignMethod::intensity, PrealignMethod::embedding, PrealignMethod::key_slices}) {
    if (name == prealign_method_name(m)) return m;
  }
  fail(Status::invalid_argument, "unknown prealignment method '" + name +
                                     "' (auto, score, three-slice, insertion, intensity, embedding, key-slices)");
}

Prealignment prealign(const Model& model, const PreparedScan& fixed, const PreparedScan& moving,
                      const PrealignOptions& options) {
  validate(options);
  if (options.in_plane) fail(Status::invalid_argument, "in-plane prealignment needs the volumes, not prepared scans");
  if (fixed.slice_count() == 0 || moving.slice_count() == 0) fail(Status::invalid_argument, "empty prepared scan");
  const Coverage1D fc = coverage_of(fixed.mapping), mc = coverage_of(moving.mapping);
  const double min_overlap = effective_min_overlap(options, fc, mc);
  Prealignment r = prepared_method(model, fixed, moving, options, min_overlap);
  finish(r, fc, mc, min_overlap);
  return r;
}

Prealignment prealign(const Model* model, const Volume& fixed, const Volume& moving, const PrealignOptions& options) {
  validate(options);
  options.progress.at(0.0);
  if (model == nullptr && options.method != PrealignMethod::intensity) {
    fail(Status::invalid_argument, std::string("the ") + prealign_method_name(options.method) +
                                       " method needs a model (only the intensity method works without one)");
  }
  const SliceMapping fm(fixed.geometry(), canonical_axis_map(fixed.geometry()));
  const SliceMapping mm(moving.geometry(), canonical_axis_map(moving.geometry()));
  const Coverage1D fc = coverage_of(fm), mc = coverage_of(mm);
  const double min_overlap = effective_min_overlap(options, fc, mc);
  Prealignment r;
  if (options.method == PrealignMethod::intensity || options.method == PrealignMethod::embedding ||
      options.method == PrealignMethod::automatic) {
    require_ct(fixed);
    require_ct(moving);
    const Progress& p = options.progress;
    r = options.method == PrealignMethod::intensity   ? by_intensity(fixed, fm, moving, mm, min_overlap, p)
        : options.method == PrealignMethod::embedding ? by_embedding(*model, fixed, fm, moving, mm, min_overlap, p)
                                                      : by_auto(*model, fixed, fm, moving, mm, min_overlap, p);
  } else if (options.method == PrealignMethod::three_slice) {
    require_ct(fixed);
    require_ct(moving);
    const std::size_t nf = fm.slice_count(), nm = mm.slice_count();
    const auto fs = scores_of(*model, fixed, fm, {0, nf - 1});
    const auto ms = scores_of(*model, moving, mm, {0, (nm - 1) / 2, nm - 1});
    r = by_three_slices(
        fm.world_z(0.0), fs.front(), fm.world_z(static_cast<double>(nf - 1)), fs.back(),
        {mm.world_z(0.0), mm.world_z(static_cast<double>((nm - 1) / 2)), mm.world_z(static_cast<double>(nm - 1))},
        {ms[0], ms[1], ms[2]}, std::abs(mm.world_z(0.0) - mm.world_z(static_cast<double>(nm - 1))));
  } else {
    const PrepareOptions prepare{options.method == PrealignMethod::key_slices, options.progress.stage(0.0, 0.95)};
    const auto [f, m] = prepare_both(*model, fixed, moving, prepare);
    r = prepared_method(*model, f, m, options, min_overlap);
  }
  finish(r, fc, mc, min_overlap);
  if (options.in_plane) add_in_plane(fixed, fm, moving, mm, r);
  options.progress.at(1.0);
  return r;
}

}  // namespace slicenav
