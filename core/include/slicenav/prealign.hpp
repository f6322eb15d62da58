// z-prealignment of two CT scans: the translation that takes a point of the fixed scan to the same
// anatomy in the moving scan, for a registration tool's initial transform (elastix -t0). Six methods:
// slice-score curves matched by an L1 shift (Meine and Hering's SSBR prealignment), the fast variant on
// three slice scores, the insertion network's answers with a robust slope-1 line, the slice encoder's
// embeddings matched by an L1 shift, a model-free intensity search, the key slices located in both scans,
// and auto (the default), which picks among embedding, key slices and intensity by their evidence. Every
// method says how confident it is and whether the scans share any anatomy at all.
//
// Sign convention (elastix / ITK): a point p of the fixed scan's physical space (LPS mm) corresponds to
// p + translation_mm in the moving scan's. An anatomical level at world z_f in the fixed scan and z_m in
// the moving scan gives translation_mm[2] = z_m - z_f. World z is superior-positive for any storage order
// or patient position, so the answer does not depend on how either file is oriented.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

enum class PrealignMethod {
  score,        // every slice scored; the score curves matched by the shift with the lowest mean L1
  three_slice,  // the scores of the fixed scan's end slices and the moving scan's centre slice (and of the
                // moving scan's end slices, to check that its scores rise superiorly)
  insertion,    // both scans inserted into each other; a robust line of slope 1 through the answers
  intensity,    // model-free: coarse slice images matched by the shift with the lowest mean |difference|
  embedding,    // the slice encoder's embeddings of slices centred one by one, matched like the intensity
                // method's images
  key_slices,   // the key slices located in both scans (locate()): the median of their shifts; works across
                // patients (atlas to patient)
  automatic,    // embedding when the slices match as one patient's do, else key slices, else embedding or
                // intensity when they find common anatomy (docs/prealign.md); the default
};

// "score", "three-slice", "insertion", "intensity", "embedding", "key-slices", "auto"
const char* prealign_method_name(PrealignMethod method);
// Throws Error(invalid_argument) listing the names for an unknown one.
PrealignMethod prealign_method_from_name(const std::string& name);

struct PrealignOptions {
  PrealignMethod method = PrealignMethod::automatic;
  // Shifts under which the scans would share less than this z extent are not considered (score,
  // embedding, intensity); for the other methods a smaller overlap means no shared anatomy. Scans shorter than this
  // use 80 % of the shorter scan's extent instead, so a one-slice moving scan still has an answer.
  double min_overlap_mm = 30.0;
  bool in_plane = false;  // also x and y, from body-mask centroids over the shared z range
  Progress progress;      // reported as each scan is prepared and each method has answered
};

struct Prealignment {
  PrealignMethod method = PrealignMethod::score;  // the method that answered (auto: the one it chose)
  Vec3 translation_mm{0.0, 0.0, 0.0};             // fixed point p -> moving point p + translation (LPS mm)
  double confidence = 0.0;                        // 0..1
  double overlap_mm = 0.0;                        // z extent the two scans share after alignment
  bool shared_anatomy = false;                    // false: no common anatomy found; the translation is not meaningful
  // How the answer came about (method-specific; see docs/prealign.md):
  double cost = 0.0;             // score: mean |score difference| (atlas mm); intensity (embedding): mean
                                 // |slice image (embedding) difference| relative to the median shift's;
                                 // insertion: share of the slices expected inside the other scan that are off
                                 // the line; key slices: median |shift - answer| over the key slices (mm);
                                 // three-slice: 0
  double contrast = 0.0;         // score, embedding, intensity: how much the cost rises 20 mm either side of
                                 // the best shift, per mm (score: atlas mm per mm; the others relative);
                                 // insertion: inliers; three-slice: the fixed scan's score slope
  std::size_t samples = 0;       // curve samples, slices, answers or key slices behind the answer
  bool fixed_recognised = true;  // recognise() of each scan (learned methods; always true for intensity;
                                 // the embedding method reports it without requiring it)
  bool moving_recognised = true;
  std::string note;  // why the confidence is low or the anatomy not shared; "" otherwise
};

// The shift that best matches two curves sampled at world z (`fixed_z`/`moving_z` of any order, equally
// spaced, `*_values` with `dim` values per sample): t such that fixed(z) ~ moving(z + t). Both curves are
// resampled to `step_mm` and every shift with at least `min_overlap_mm` of shared extent is tried; the
// cost of a shift is the mean L1 distance per value over the shared samples, refined to a fraction of a
// step around the best one. Throws Error(invalid_argument) for empty or mismatched curves or a bad step.
struct CurveShift {
  bool found = false;  // false when no shift gives the minimum overlap
  double shift_mm = 0.0;
  double cost = 0.0;         // at the best shift
  double median_cost = 0.0;  // median over every shift tried
  double contrast = 0.0;     // mean rise of the cost 20 mm either side of the best shift, per mm
  double overlap_mm = 0.0;
  std::size_t shifts_tried = 0;
};
CurveShift match_curves(const std::vector<double>& fixed_z, const std::vector<float>& fixed_values,
                        const std::vector<double>& moving_z, const std::vector<float>& moving_values, std::size_t dim,
                        double step_mm, double min_overlap_mm);

// Prealigns two volumes: each scan is prepared once (score, insertion, key slices), reduced to its scored
// end and centre slices (three-slice), or preprocessed slice by slice once (embedding, intensity; auto
// starts there and prepares the scans only when it needs their key slices). `model` may be null only for
// the intensity method. Throws Error(invalid_argument) for
// a missing model or bad options, and Error(unsupported_input) for intensities that are not CT HU or
// volumes too oblique to canonicalize.
Prealignment prealign(const Model* model, const Volume& fixed, const Volume& moving, const PrealignOptions& options);

// The learned methods on scans prepared beforehand (prepare_scan), z only: options.in_plane and the
// embedding, intensity and auto methods (they centre every slice on its own) need the volumes and are
// Error(invalid_argument) here. The key-slice method uses the key slices measured in the prepared scans
// (PrepareOptions::measure_key_slices) when there are any. The three-slice method reads the
// three scores from the prepared scans.
Prealignment prealign(const Model& model, const PreparedScan& fixed, const PreparedScan& moving,
                      const PrealignOptions& options);

}  // namespace slicenav
