// Key-slice accuracy as a user meets it: `locate` (the model's templates, or its score line) on whole real
// scans of patients the model was not trained on, compared with the landmarks annotated in the data folder.
// Summaries are per landmark and per region with bootstrap 95 % intervals that resample patients.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "slicenav/navigation.hpp"

namespace slicenav::training {

// How a key slice was found: locate() as users get it (kInsertion, kScore: the model's answer, replaced by
// the measurement in the image where they agree), the model's answer alone (kInsertionLearned), and the
// measurement in the image alone (kMeasured, only where measure_key_slices() finds the landmark).
inline constexpr const char* kInsertion = "insertion";
inline constexpr const char* kInsertionLearned = "insertion_learned";
inline constexpr const char* kScore = "score";
inline constexpr const char* kMeasured = "measured";

// One annotated landmark of one case and where one method put it.
struct KeySliceAnswer {
  std::string case_id, patient_key, region, landmark;
  std::string method;  // kInsertion, kInsertionLearned, kScore or kMeasured
  double truth_z_mm = 0;
  InsertedSlice::Where where = InsertedSlice::Where::inside;  // the answer's side of the scan
  // |answer - truth| for an answer inside the scan. An answer above or below the scan, for a truth inside
  // it, counts the distance from the truth to the scan's end on the answered side (a lower bound).
  double error_mm = 0;
  float confidence = 0;
};

// The region group a cases.tsv "region" text belongs to: head-neck, whole-body (chest to pelvis), pelvis,
// abdomen or chest.
std::string region_group(const std::string& region);

// Locates every atlas landmark in each case (every method above) and compares it with the case's annotated
// landmarks that the model's atlas knows. Progress on stderr. Throws Error(unsupported_input) when the
// model has no templates.
std::vector<KeySliceAnswer> locate_key_slices(const Model& model, const std::vector<CaseInfo>& cases);

// JSON: for each method present, every landmark and every region group (and all answers) with n, patients, mean,
// median, the share within 10 mm, answers on the wrong side, and the bootstrap 95 % interval of the mean
// over patients (`resamples` draws, seeded).
std::string summarise_key_slices(const std::vector<KeySliceAnswer>& answers, std::uint64_t seed, int resamples = 2000);

}  // namespace slicenav::training
