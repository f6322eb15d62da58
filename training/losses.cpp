#include "losses.hpp"

#include <cmath>
#include <limits>

#include "slicenav/error.hpp"

namespace slicenav::training {

std::vector<float> insertion_target(const std::vector<double>& target_z_mm, double query_z_mm, double sigma_mm) {
  const std::size_t n = target_z_mm.size();
  if (n == 0) fail(Status::invalid_argument, "insertion_target: empty target");
  if (!(sigma_mm > 0.0) || !std::isfinite(query_z_mm))
    fail(Status::invalid_argument, "insertion_target: bad sigma or query z");
  for (std::size_t i = 1; i < n; ++i) {
    if (!(target_z_mm[i] < target_z_mm[i - 1]))
      fail(Status::invalid_argument, "insertion_target: target z must decrease");
  }
  const double first_step = n > 1 ? target_z_mm[0] - target_z_mm[1] : 1.0;
  const double last_step = n > 1 ? target_z_mm[n - 2] - target_z_mm[n - 1] : 1.0;
  std::vector<double> slot_z(n + 2);
  slot_z[0] = target_z_mm[0] + first_step;
  for (std::size_t i = 0; i < n; ++i) slot_z[i + 1] = target_z_mm[i];
  slot_z[n + 1] = target_z_mm[n - 1] - last_step;
  double centre = query_z_mm;
  if (query_z_mm > target_z_mm[0] + first_step / 2) centre = slot_z[0];
  if (query_z_mm < target_z_mm[n - 1] - last_step / 2) centre = slot_z[n + 1];
  // Normalise relative to the nearest slot so the weights cannot all underflow.
  double nearest = std::numeric_limits<double>::infinity();
  for (double z : slot_z) nearest = std::min(nearest, std::abs(z - centre));
  std::vector<double> w(n + 2);
  double sum = 0.0;
  for (std::size_t s = 0; s < n + 2; ++s) {
    const double d = std::abs(slot_z[s] - centre);
    w[s] = std::exp(-(d * d - nearest * nearest) / (2.0 * sigma_mm * sigma_mm));
    sum += w[s];
  }
  std::vector<float> out(n + 2);
  for (std::size_t s = 0; s < n + 2; ++s) out[s] = static_cast<float>(w[s] / sum);
  return out;
}

namespace {

torch::Tensor weighted_row_mean(const torch::Tensor& per_row, const torch::Tensor& weights) {
  return (per_row * weights).sum() / weights.sum().clamp_min(1e-12);
}

}  // namespace

torch::Tensor kl_loss(const torch::Tensor& logits, const torch::Tensor& targets, const torch::Tensor& weights) {
  const auto logp = torch::log_softmax(logits, -1);
  const auto positive = targets > 0;
  const auto safe_t = torch::where(positive, targets, torch::ones_like(targets));
  const auto safe_logp = torch::where(positive, logp, torch::zeros_like(logp));
  const auto terms = torch::where(positive, targets * (torch::log(safe_t) - safe_logp), torch::zeros_like(targets));
  return weighted_row_mean(terms.sum(-1), weights);
}

torch::Tensor emd_loss(const torch::Tensor& logits, const torch::Tensor& targets, const torch::Tensor& weights) {
  const auto p = torch::softmax(logits, -1);
  const auto diff = torch::cumsum(p, -1) - torch::cumsum(targets, -1);
  return weighted_row_mean(diff.abs().sum(-1), weights);
}

torch::Tensor ssbr_loss(const torch::Tensor& scores, const torch::Tensor& world_z_mm) {
  const auto n = scores.size(0);
  if (n < 2) return scores.sum() * 0.0;
  const auto ds = scores.narrow(0, 0, n - 1) - scores.narrow(0, 1, n - 1);
  const auto dz = (world_z_mm.narrow(0, 0, n - 1) - world_z_mm.narrow(0, 1, n - 1)).to(scores.scalar_type());
  const auto order = torch::softplus(-ds).mean();
  if (n < 3) return order;
  const auto slope = ds / dz;
  const auto distance = torch::smooth_l1_loss(slope.narrow(0, 0, n - 2), slope.narrow(0, 1, n - 2));
  return order + distance;
}

}  // namespace slicenav::training
