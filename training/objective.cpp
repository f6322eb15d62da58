#include "objective.hpp"

#include "losses.hpp"

namespace slicenav::training {

torch::Tensor step_loss(detail::InsertionNetworkImpl& net, const PairSampler& sampler, const Objective& o,
                        std::mt19937_64& rng, StepLosses& parts) {
  std::vector<Pair> pairs;
  for (int i = 0; i < o.pairs_per_step; ++i) pairs.push_back(sampler.sample(rng));
  // All slices of all sequences, plus the two artificial slices, go through the encoder as one batch.
  std::vector<const View*> views;
  std::vector<torch::Tensor> images;
  for (const Pair& p : pairs) {
    for (const View* v : {&p.query, &p.target}) {
      views.push_back(v);
      images.push_back(augment(detail::slices_tensor(v->pixels(), net.config.preprocess.image_size), rng));
    }
  }
  const auto n = static_cast<std::int64_t>(net.config.preprocess.image_size);
  images.push_back(torch::ones({1, 1, n, n}));
  images.push_back(-torch::ones({1, 1, n, n}));
  const auto all = net.embed(torch::cat(images));
  std::vector<torch::Tensor> per_view;
  std::int64_t offset = 0;
  for (const View* v : views) {
    const auto len = static_cast<std::int64_t>(v->slices.size());
    per_view.push_back(all.narrow(0, offset, len));
    offset += len;
  }
  const auto start = all.narrow(0, offset, 1), end = all.narrow(0, offset + 1, 1);

  // Score head: SSBR on every sequence, plus atlas supervision where the case has landmarks.
  torch::Tensor score_loss = torch::zeros({});
  for (std::size_t i = 0; i < views.size(); ++i) {
    const auto z = views[i]->world_z_mm();
    const auto s = net.score(per_view[i]);
    if (o.ssbr_weight != 0.0) score_loss = score_loss + o.ssbr_weight * ssbr_loss(s, torch::tensor(z, torch::kDouble));
    const auto& map = views[i]->source->map;
    if (map.valid()) {
      std::vector<float> atlas;
      for (double zz : z) atlas.push_back(static_cast<float>(map.to_atlas(zz)));
      score_loss = score_loss + torch::smooth_l1_loss((s - torch::tensor(atlas)) / 10.0, torch::zeros_like(s));
    }
  }
  score_loss = score_loss / static_cast<double>(views.size());
  parts.score = score_loss.item<double>();
  const auto weighted_score = o.score_weight * score_loss.to(torch::kFloat);
  if (o.insertion_weight == 0.0) return weighted_score;

  std::vector<torch::Tensor> q_emb, t_emb;
  std::vector<std::vector<float>> q_pos, t_pos;
  const auto encoding = net.config.positional_encoding;
  for (std::size_t b = 0; b < pairs.size(); ++b) {
    q_emb.push_back(per_view[2 * b]);
    t_emb.push_back(torch::cat({start, per_view[2 * b + 1], end}));
    q_pos.push_back(detail::sequence_positions(pairs[b].query.world_z_mm(), encoding, false));
    t_pos.push_back(detail::sequence_positions(pairs[b].target.world_z_mm(), encoding, true));
  }
  const auto q = detail::pad_sequences(q_emb, q_pos);
  const auto t = detail::pad_sequences(t_emb, t_pos);
  const auto logits = net.insertion_logits(q, t);
  auto targets = torch::zeros(logits.sizes());
  auto weights = torch::zeros({logits.size(0), logits.size(1)});
  for (std::size_t b = 0; b < pairs.size(); ++b) {
    const auto tz = pairs[b].target.world_z_mm();
    for (std::size_t m = 0; m < pairs[b].query_z_in_target.size(); ++m) {
      const auto dist = insertion_target(tz, pairs[b].query_z_in_target[m], o.sigma_mm);
      targets[b][m].narrow(0, 0, static_cast<std::int64_t>(dist.size())).copy_(torch::tensor(dist));
      weights[b][m] = 1.0;
    }
  }
  const auto insertion =
      o.loss == InsertionLoss::emd ? emd_loss(logits, targets, weights) : kl_loss(logits, targets, weights);
  parts.insertion = insertion.item<double>();
  return o.insertion_weight * insertion + weighted_score;
}

}  // namespace slicenav::training
