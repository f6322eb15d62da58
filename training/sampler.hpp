// Training pairs: which slices of which cases form the query and target sequences, where each query
// slice truly belongs in the target, and the image augmentation applied to a sequence.
#pragma once

#include <torch/torch.h>

#include <random>
#include <vector>

#include "dataset.hpp"

namespace slicenav::training {

struct SamplerOptions {
  std::size_t max_slices = 128;   // longest sequence
  std::size_t min_slices = 12;    // shortest sub-volume
  double intra_fraction = 0.5;    // share of pairs drawn from one case
  double uniform_fraction = 0.3;  // share of sequences that sample the whole scan uniformly
  double drop_fraction = 0.2;     // share of sequences that lose up to 10 % of their slices
  double slab_fraction = 0.2;     // share of sequences shown as thick slices (see View::slab)
  double max_slab_mm = 10.0;      // thickest simulated slice
  // Body-length augmentation: a sub-volume's slice stride is scaled by a factor drawn from
  // [1 - z_scale, 1 + z_scale] (never below one slice), so its anatomy passes by faster or slower per
  // sequence position, as in a shorter or taller patient. 0 leaves the stride an integer.
  double z_scale = 0.0;
};

// Canonical slice indices of one case forming a sequence, ascending (superior first).
struct View {
  const Case* source = nullptr;
  std::vector<std::size_t> slices;
  // Each slice is shown as the mean of `slab` neighbouring canonical slices centred on it (a thick-slice
  // reconstruction); 1 shows the slice as stored.
  std::size_t slab = 1;
  std::vector<double> world_z_mm() const;
  std::vector<float> pixels() const;  // slices x size x size
  SliceStack stack() const;           // the view as model input
};

// Up to max_slices slices spread evenly over canonical slices [first, last] of the case.
View spread_view(const Case& c, std::size_t first, std::size_t last, std::size_t max_slices);

struct Pair {
  View query, target;
  std::vector<double> query_z_in_target;  // each query slice's z in the target's world frame
  bool intra = true;
};

// A random sequence of the case: the whole scan uniformly sampled, or a random sub-volume at a random
// slice stride (sparser slices; a fractional one, rounded to the nearest slices, under z_scale), possibly
// with dropped slices, possibly shown as thick slices (slab of up to max_slab_mm).
View sample_view(const Case& c, const SamplerOptions& options, std::mt19937_64& rng);

// A training pair from the non-validation cases: one case against itself (intra-patient: positions
// from world z), or two cases with anatomical maps (inter-patient: positions through atlas mm).
class PairSampler {
 public:
  PairSampler(const Corpus& corpus, SamplerOptions options);
  Pair sample(std::mt19937_64& rng) const;
  std::size_t training_cases() const { return all_.size(); }

 private:
  SamplerOptions options_;
  std::vector<const Case*> all_;     // training cases
  std::vector<const Case*> mapped_;  // training cases with a valid anatomical map
};

// Intensity and in-plane augmentation of a sequence [n, 1, H, W] in [-1, 1]: contrast/brightness
// (window) jitter, Gaussian noise, and one random scale/shift/small rotation for the whole sequence.
torch::Tensor augment(const torch::Tensor& slices, std::mt19937_64& rng);

}  // namespace slicenav::training
