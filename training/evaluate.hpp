// Validation metrics, computed through the library's inference path on the cases of one side of the split:
// the validation side (model selection, every reported accuracy) or the training side (how well the model fits
// what it was trained on; the gap between the two tells data-bound from capacity-bound error).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "dataset.hpp"
#include "slicenav/model.hpp"

namespace slicenav::training {

struct ErrorStat {
  double sum_abs_mm = 0;
  std::size_t count = 0;
  double mean() const { return count ? sum_abs_mm / static_cast<double>(count) : 0.0; }
  void add(double error_mm);
};

struct ValidationMetrics {
  // Intra-patient: sub-volumes inserted into the whole scan and the whole scan into sub-volumes.
  ErrorStat intra;                  // |predicted - true z| of query slices inside the target's coverage
  std::size_t outside_slices = 0;   // query slices truly above/below the target's coverage
  std::size_t outside_correct = 0;  // ... sent to the right artificial slot
  // Inter-patient landmarks: the query slice at a landmark of case A inserted into case B (other patient).
  std::map<std::string, ErrorStat> landmark;        // insertion method, per landmark name
  std::map<std::string, ErrorStat> landmark_score;  // score-curve matching, per landmark name
  ErrorStat landmark_all, landmark_score_all;
  std::string to_json() const;
};

enum class Side { training, validation };

ValidationMetrics evaluate(const Model& model, const Corpus& corpus, std::uint64_t seed, Side side = Side::validation);

}  // namespace slicenav::training
