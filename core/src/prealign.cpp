#include "slicenav/prealign.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <future>
#include <limits>
#include <numeric>

#include "curve_match.hpp"
#include "prealign_methods.hpp"
#include "slicenav/error.hpp"
#include "slicenav/measure.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/preprocess.hpp"
#include "stats.hpp"

namespace slicenav {
namespace {

using detail::clamp01;
using detail::Coverage1D;
using detail::coverage_of;
using detail::overlap_after;

// ---- Calibration (docs/prealign.md: chosen on the held-out real scans of ../shared/data as a whole) ----

// A scan's extent that can be aligned with a shorter minimum overlap: 80 % of the shorter scan.
constexpr double kShortScanOverlap = 0.8;
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
// Auto: the embedding match is taken at once when its relative cost is this low (sub-volumes, thick slabs
// and other kernels of one scan came to at most 0.07 with the bundled model, pairs of two patients to at
// least 0.13), and the intensity match as the last resort only when its relative cost is this low (two
// patients' scans came to at least 0.32).
constexpr double kSamePatientEmbeddingRatio = 0.1;
constexpr double kLastResortIntensityRatio = 0.25;

double effective_min_overlap(const PrealignOptions& o, const Coverage1D& f, const Coverage1D& m) {
  return std::min(o.min_overlap_mm, kShortScanOverlap * std::min(f.extent(), m.extent()));
}

void validate(const PrealignOptions& o) {
  if (!std::isfinite(o.min_overlap_mm) || o.min_overlap_mm < 0) {
    fail(Status::invalid_argument, "min_overlap_mm must be finite and >= 0, got " + std::to_string(o.min_overlap_mm));
  }
}

// ---- Slice stacks: the intensity and embedding methods -------------------------------------------------

// Every canonical slice of a scan as model input, each centred on its own body centroid: the patient may lie
// elsewhere in the other scan's field, and a sub-volume's body centroid differs from its whole scan's, so one
// centre per scan would make the same anatomy look different.
SliceStack centred_slices(const Volume& volume, const SliceMapping& mapping, const PreprocessOptions& options) {
  const CanonicalView view(volume, mapping);
  std::vector<std::size_t> all(view.size()[2]);
  std::iota(all.begin(), all.end(), std::size_t{0});
  return model_input(view, all, options, Centring::each_slice);
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
    key = detail::by_key_slices(model, f, m);
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
  if (r.method == PrealignMethod::three_slice) detail::judge_three_slices(r, r.overlap_mm, min_overlap);
  if (!r.shared_anatomy) r.confidence = 0.0;
  if (r.shared_anatomy) r.note.clear();
}

Prealignment prepared_method(const Model& model, const PreparedScan& fixed, const PreparedScan& moving,
                             const PrealignOptions& options, double min_overlap) {
  switch (options.method) {
    case PrealignMethod::score: return detail::by_score(fixed, moving, min_overlap);
    case PrealignMethod::three_slice: return detail::by_three_slices(fixed, moving);
    case PrealignMethod::insertion: return detail::by_insertion(model, fixed, moving, min_overlap);
    case PrealignMethod::key_slices: return detail::by_key_slices(model, fixed, moving);
    case PrealignMethod::embedding:
    case PrealignMethod::intensity:
    case PrealignMethod::automatic: break;
  }
  fail(Status::invalid_argument,
       std::string("the ") + prealign_method_name(options.method) +
           " method centres every slice on its own and needs the volumes, not prepared scans");
}

// Scores of the given canonical slices alone (the three-slice method's whole model cost), centred on the whole
// scan's body as prepare_scan does.
std::vector<double> scores_of(const Model& model, const Volume& volume, const SliceMapping& mapping,
                              const std::vector<std::size_t>& slices) {
  return model.score(model_input(CanonicalView(volume, mapping), slices, model.config().preprocess, Centring::scan));
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
    r = detail::by_three_slices(
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
