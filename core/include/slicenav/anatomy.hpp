// The anatomical coordinate ("atlas mm"): a shared superior-inferior axis fitted from sparse per-case landmarks,
// and per-case maps between world z and that axis. Ground truth across patients (which slice of case B shows
// the anatomy of slice k of case A) and slice scores are derived through it.
//
// All z values are world z in mm, superior positive (NIfTI RAS z = DICOM LPS z); atlas mm are superior positive
// too, with the anchor landmark (default lung_apex) at 0.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace slicenav {

struct Landmark {
  std::string name;
  double z_mm = 0.0;  // world z, superior positive
};

// The landmarks of one data case directory: <case_dir>/landmarks.json (mask / auto-threshold landmarks) and
// <case_dir>/manual_landmarks.json (visually annotated), each optional. Keeps the entries of each file's
// "landmarks" list that have a numeric z_mm and whose "status" is "ok" (an entry without a status, as in
// manual files, counts as ok). Drops side-specific names: any name with a "left" or "right" word
// (lung_apex_left, kidney_left_upper_end). When a name is in both files the landmarks.json value wins; within
// one file the first entry wins. Sorted by z descending (superior first), ties by name.
// A directory with neither file gives an empty list. Throws Error:
//   not_found  case_dir does not exist
//   io         a file exists but cannot be read, is not valid JSON, or does not follow the schema
//              (no "landmarks" list, an entry without a string name, a z_mm that is not a number)
std::vector<Landmark> read_case_landmarks(const std::string& case_dir);

struct Atlas {
  std::map<std::string, double> position_mm;  // atlas z of each landmark name
};

// Least-squares atlas under the model z_case(l) = atlas(l) + offset_case (slope 1, one offset per case):
// alternates between the offsets (each the mean residual of its case) and the positions (each the mean over
// the cases that have it) until no position moves by more than 1e-10 mm, then shifts the result so that
// `anchor` is at 0 (the most superior position when the anchor is not in the atlas). Exact synthetic data
// are recovered to rounding.
// Only cases with at least two landmarks carry information; a name seen only in one-landmark cases gets no
// position. Positions are relative only within one connected group of names (names linked by sharing a case),
// so the atlas holds the group that contains the anchor, or, when no group does, the group with the most
// names (then the most observations, then the alphabetically first name); names in other groups are left out.
// Deterministic (independent of hash order; depends only on the input order through floating-point sums).
// No usable case gives an empty atlas. Throws Error(invalid_argument) for an empty name, a non-finite z or a
// name repeated within one case.
Atlas fit_atlas(const std::vector<std::vector<Landmark>>& cases, const std::string& anchor = "lung_apex");

// A monotone piecewise-linear map between one case's world z and atlas mm, through the case's landmarks that
// are in the atlas, with slope 1 beyond the outermost landmarks (a pure offset with one landmark).
// Outlier rules, applied in this order, so that the map is strictly increasing with every segment slope
// (atlas mm per world mm) in [kMinSlope, kMaxSlope]:
//   1. order: keep the largest subset whose atlas order agrees strictly with its world z order (longest
//      increasing subsequence); among equally large subsets, the one whose offsets (atlas - world) are
//      closest in total absolute deviation to the median offset of all the case's atlas landmarks.
//   2. slope: while some segment slope lies outside the range, take the segment furthest outside it (by
//      log(slope / the limit it breaks)) and drop whichever of its two ends has the offset further from the
//      median offset of the landmarks still kept (the superior one on a tie); repeat.
class AnatomicalMap {
 public:
  static constexpr double kMinSlope = 0.5;
  static constexpr double kMaxSlope = 2.0;

  AnatomicalMap() = default;  // invalid

  // Throws Error(invalid_argument) for a non-finite z or a name repeated among the landmarks. Landmarks whose
  // name is not in the atlas are ignored; when none is usable the result is invalid (no throw).
  static AnatomicalMap fit(const std::vector<Landmark>& landmarks, const Atlas& atlas);

  bool valid() const { return !world_.empty(); }
  // Strictly increasing; to_world(to_atlas(z)) == z up to rounding (and the converse). Both throw
  // Error(invalid_argument) on an invalid map.
  double to_atlas(double world_z_mm) const;
  double to_world(double atlas_mm) const;
  // The landmarks the map passes through (world z), sorted by z descending; empty when invalid.
  const std::vector<Landmark>& used() const { return used_; }

 private:
  std::vector<double> world_;  // knots, ascending
  std::vector<double> atlas_;  // atlas mm of each knot, ascending
  std::vector<Landmark> used_;
};

// The atlas as a JSON object {name: mm, ...} (for model-file metadata); doubles round-trip exactly.
std::string atlas_to_json(const Atlas& atlas);
// Throws Error(model_format) when the text is not a JSON object of finite numbers with non-empty names.
Atlas atlas_from_json(const std::string& json);

}  // namespace slicenav
