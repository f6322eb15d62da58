// The training objective of one step: sampled pairs through the network, insertion loss against
// truncated-Gaussian targets plus the score head's SSBR and atlas losses.
#pragma once

#include <random>

#include "sampler.hpp"
#include "slice_network.hpp"

namespace slicenav::training {

enum class InsertionLoss { kl, emd };

struct Objective {
  int pairs_per_step = 2;
  InsertionLoss loss = InsertionLoss::kl;
  double sigma_mm = 5.0;      // of the truncated Gaussian around the true insertion position
  double score_weight = 0.5;  // score-head loss relative to the insertion loss
  // 0 trains the encoder and score head alone, as a separate score network would be trained; the
  // attention layers are then not run.
  double insertion_weight = 1.0;
  // Weight of the self-supervised slice-order term (SSBR) in the score loss; 0 leaves the atlas supervision
  // of the cases with a map as the score head's only signal (an ablation).
  double ssbr_weight = 1.0;
};

struct StepLosses {
  double insertion = 0, score = 0;
};

// Samples o.pairs_per_step pairs, augments each sequence, encodes every slice (and the two artificial
// slices) as one batch, and returns insertion_weight * insertion loss + score_weight * score loss; `parts` gets the two
// terms. Score loss per sequence: ssbr_weight * SSBR, plus smooth-L1 towards atlas mm / 10 where the case has a map.
torch::Tensor step_loss(detail::InsertionNetworkImpl& net, const PairSampler& sampler, const Objective& o,
                        std::mt19937_64& rng, StepLosses& parts);

}  // namespace slicenav::training
