// The training corpus: every usable case of the data folder, preprocessed once (all canonical slices at
// the model's input grid), with its landmarks, its map to atlas mm, and a patient-level split.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "slicenav/anatomy.hpp"
#include "slicenav/model.hpp"
#include "slicenav/preprocess.hpp"

namespace slicenav::training {

struct CaseInfo {
  std::string case_id;
  std::string patient_key;
  std::string set;  // cases.tsv "set": ct, hn, ood, pairs
  std::string region;
  std::string path;  // case folder, absolute
};

// The cases a model was trained on (metadata training.training_cases); empty when it records none.
// Everything else in the data folder is held out from it.
std::set<std::string> model_training_cases(const Model& model);

// Rows of <data_dir>/cases.tsv whose set is in `sets`. Throws Error(not_found / io) naming the file.
std::vector<CaseInfo> read_cases(const std::string& data_dir, const std::vector<std::string>& sets);

// Patient-level split: a patient is in validation when a hash of (seed, patient_key) falls below
// val_fraction, so no patient is ever on both sides and the split does not depend on which other
// cases are present.
bool is_validation_patient(const std::string& patient_key, double val_fraction, std::uint64_t seed);

struct Case {
  CaseInfo info;
  SliceStack slices;                // every canonical slice, superior first
  double slice_step_mm = 0;         // canonical slice spacing
  std::vector<Landmark> landmarks;  // world z; empty for cases without world coordinates
  AnatomicalMap map;                // world z <-> atlas mm; invalid without usable landmarks
  bool validation = false;
};

struct Corpus {
  std::vector<Case> cases;
  Atlas atlas;  // fitted on the training cases' landmarks only
};

// Loads and preprocesses every case (progress on stderr). Cases without world coordinates (set "hn")
// keep no landmarks. The atlas is fitted on training-split cases; every case's map uses it.
Corpus load_corpus(const std::vector<CaseInfo>& cases, const PreprocessOptions& options, double val_fraction,
                   std::uint64_t split_seed);

}  // namespace slicenav::training
