// Ground-truth distributions and losses for training the insertion network and the score head.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace slicenav::training {

// Target distribution over a framed target's slots (start, the target's slices superior first, end) for
// a query slice lying at query_z_mm in the target's world frame. The true position is the query z when
// it is within half a slice step of the target's coverage, else the start slot (above) or the end slot
// (below); each slot gets a Gaussian weight (sigma_mm) of the distance between its z and that position,
// with the start and end slots one slice step beyond the first and last slices; the weights are
// truncated to the slots and renormalised. target_z_mm must be strictly decreasing.
std::vector<float> insertion_target(const std::vector<double>& target_z_mm, double query_z_mm, double sigma_mm);

// KL(target || softmax(logits)) per query row, averaged over rows with weight > 0.
// logits and targets: [B, M, S] (logits may be -inf where targets are 0); weights: [B, M].
torch::Tensor kl_loss(const torch::Tensor& logits, const torch::Tensor& targets, const torch::Tensor& weights);

// Earth mover's distance between softmax(logits) and the target along the slot axis (sum of |CDF
// difference|, in slots), averaged like kl_loss.
torch::Tensor emd_loss(const torch::Tensor& logits, const torch::Tensor& targets, const torch::Tensor& weights);

// Self-supervised body-part-regression loss of one sequence (seed 001, SSBR): scores [n] of slices at
// world z [n] (strictly decreasing, superior first). Order term: mean softplus(-(s_i - s_{i+1})), so
// more superior slices score higher; distance term: mean smooth-L1 between consecutive score slopes
// (s_i - s_{i+1}) / (z_i - z_{i+1}), so scores change in proportion to z. Returns order + distance.
torch::Tensor ssbr_loss(const torch::Tensor& scores, const torch::Tensor& world_z_mm);

}  // namespace slicenav::training
