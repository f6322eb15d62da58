// The training pipeline on synthetic phantoms: split, sampling, ground truth, gradients, determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "dataset.hpp"
#include "evaluate.hpp"
#include "model_fixtures.hpp"
#include "objective.hpp"
#include "sampler.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/phantom.hpp"

namespace slicenav::training {
namespace {

ModelConfig tiny_config() {
  ModelConfig c = test::tiny_model_config();
  c.preprocess.pixel_mm = 15.0;
  return c;
}

// A phantom case whose world frame is shifted by `shift_mm` (its anatomy too).
Case phantom_case(const std::string& id, const std::string& patient, double shift_mm, bool validation) {
  PhantomOptions o;
  o.size = {40, 32, 70};
  o.spacing = {12.0, 12.0, 8.0};
  o.noise_hu = 0;
  const Phantom p = make_phantom(o);
  const auto canonical = canonicalize(p.volume);
  std::vector<std::size_t> all(canonical.mapping.slice_count());
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
  Case c;
  c.info = {id, patient, "ct", "chest", ""};
  c.slices = preprocess(canonical, all, tiny_config().preprocess);
  for (double& z : c.slices.world_z_mm) z += shift_mm;
  c.slice_step_mm = canonical.mapping.slice_step_mm();
  const double top = c.slices.world_z_mm.front(), bottom = c.slices.world_z_mm.back();
  for (const auto& l : p.landmarks) {
    if (l.world_z_mm + shift_mm < top && l.world_z_mm + shift_mm > bottom)
      c.landmarks.push_back({l.name, l.world_z_mm + shift_mm});
  }
  c.validation = validation;
  return c;
}

Corpus phantom_corpus() {
  Corpus corpus;
  corpus.cases.push_back(phantom_case("a", "P1", 0.0, false));
  corpus.cases.push_back(phantom_case("b", "P2", 120.0, false));
  corpus.cases.push_back(phantom_case("c", "P3", -75.0, true));
  corpus.atlas = fit_atlas({corpus.cases[0].landmarks, corpus.cases[1].landmarks});
  for (Case& c : corpus.cases) c.map = AnatomicalMap::fit(c.landmarks, corpus.atlas);
  return corpus;
}

TEST(Split, IsPerPatientStableAndNearTheRequestedFraction) {
  EXPECT_EQ(is_validation_patient("LUNG1-001", 0.25, 11), is_validation_patient("LUNG1-001", 0.25, 11));
  int held_out = 0;
  for (int i = 0; i < 2000; ++i) held_out += is_validation_patient("patient-" + std::to_string(i), 0.25, 11);
  EXPECT_NEAR(held_out / 2000.0, 0.25, 0.03);
  EXPECT_FALSE(is_validation_patient("anyone", 0.0, 11));
}

TEST(Sampler, ViewsAreAscendingInRangeAndBounded) {
  const Corpus corpus = phantom_corpus();
  SamplerOptions o;
  o.max_slices = 24;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) {
    const View v = sample_view(corpus.cases[0], o, rng);
    ASSERT_GE(v.slices.size(), 2u);
    ASSERT_LE(v.slices.size(), 24u);
    for (std::size_t k = 1; k < v.slices.size(); ++k) ASSERT_LT(v.slices[k - 1], v.slices[k]);
    ASSERT_LT(v.slices.back(), corpus.cases[0].slices.slice_count());
  }
}

TEST(Sampler, SlabViewsAverageNeighbouringSlicesCutAtTheScanEnds) {
  const Corpus corpus = phantom_corpus();
  const Case& c = corpus.cases[0];
  const std::size_t area = c.slices.image_size * c.slices.image_size;
  const auto stored = [&](std::size_t k, std::size_t p) { return c.slices.pixels[k * area + p]; };
  View v = spread_view(c, 0, c.slices.slice_count() - 1, c.slices.slice_count());
  EXPECT_EQ(v.pixels(), std::vector<float>(c.slices.pixels.begin(), c.slices.pixels.end()));
  v.slab = 3;
  const auto thick = v.pixels();
  const std::size_t last = c.slices.slice_count() - 1;
  for (std::size_t p = 0; p < area; p += 7) {
    EXPECT_NEAR(thick[10 * area + p], (stored(9, p) + stored(10, p) + stored(11, p)) / 3, 1e-5);
    EXPECT_NEAR(thick[p], (stored(0, p) + stored(1, p)) / 2, 1e-5);  // the first slice has no upper neighbour
    EXPECT_NEAR(thick[last * area + p], (stored(last - 1, p) + stored(last, p)) / 2, 1e-5);
  }

  // Sampled views: about slab_fraction of them thick, never thicker than max_slab_mm.
  SamplerOptions o;
  o.max_slices = 24;
  o.slab_fraction = 0.5;
  o.max_slab_mm = 30.0;
  std::mt19937_64 rng(4);
  int thick_views = 0;
  for (int i = 0; i < 400; ++i) {
    const View s = sample_view(c, o, rng);
    ASSERT_LE(static_cast<double>(s.slab) * c.slice_step_mm, o.max_slab_mm + 1e-9);
    thick_views += s.slab > 1;
  }
  EXPECT_NEAR(thick_views / 400.0, 0.5, 0.1);
  o.slab_fraction = 0.0;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(sample_view(c, o, rng).slab, 1u);
}

TEST(Sampler, ZScaleGivesFractionalStridesThatStayAscendingAndInRange) {
  const Corpus corpus = phantom_corpus();
  const Case& c = corpus.cases[0];
  SamplerOptions o;
  o.max_slices = c.slices.slice_count();  // never respread, so a view's steps are its stride's
  o.uniform_fraction = 0.0;
  o.drop_fraction = 0.0;
  o.slab_fraction = 0.0;
  const auto irregular_views = [&](double z_scale) {
    o.z_scale = z_scale;
    std::mt19937_64 rng(5);
    int irregular = 0;
    for (int i = 0; i < 300; ++i) {
      const View v = sample_view(c, o, rng);
      EXPECT_GE(v.slices.size(), 2u);
      EXPECT_LT(v.slices.back(), c.slices.slice_count());
      std::set<std::size_t> steps;
      for (std::size_t k = 1; k < v.slices.size(); ++k) {
        EXPECT_LT(v.slices[k - 1], v.slices[k]);
        steps.insert(v.slices[k] - v.slices[k - 1]);
      }
      irregular += steps.size() > 1;
    }
    return irregular;
  };
  EXPECT_EQ(irregular_views(0.0), 0);   // integer strides only
  EXPECT_GT(irregular_views(0.3), 30);  // a fractional stride alternates between its two neighbouring steps
}

TEST(Sampler, PairsCarryTheTruePositionsFromWorldZOrTheAtlas) {
  const Corpus corpus = phantom_corpus();
  const PairSampler sampler(corpus, SamplerOptions{24});
  EXPECT_EQ(sampler.training_cases(), 2u);  // the validation case is never sampled
  std::mt19937_64 rng(5);
  int intra = 0, inter = 0;
  for (int i = 0; i < 100; ++i) {
    const Pair p = sampler.sample(rng);
    const auto qz = p.query.world_z_mm();
    ASSERT_EQ(p.query_z_in_target.size(), qz.size());
    ASSERT_FALSE(p.query.source->validation);
    ASSERT_FALSE(p.target.source->validation);
    if (p.intra) {
      ++intra;
      EXPECT_EQ(p.query.source, p.target.source);
      EXPECT_EQ(p.query_z_in_target, qz);
    } else {
      ++inter;
      // Same anatomy shifted: the true z in the target differs by the frames' shift.
      const double shift = p.target.source->slices.world_z_mm[0] - p.query.source->slices.world_z_mm[0];
      for (std::size_t m = 0; m < qz.size(); ++m) EXPECT_NEAR(p.query_z_in_target[m], qz[m] + shift, 1e-6);
    }
  }
  EXPECT_GT(intra, 20);
  EXPECT_GT(inter, 20);
}

TEST(Sampler, AugmentKeepsShapeAndRangeAndFollowsTheSeed) {
  const auto x = torch::rand({5, 1, 32, 32}) * 2 - 1;
  std::mt19937_64 a(9), b(9);
  const auto ya = augment(x, a), yb = augment(x, b);
  EXPECT_EQ(ya.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(ya, yb));
  EXPECT_LE(ya.max().item<float>(), 1.0f);
  EXPECT_GE(ya.min().item<float>(), -1.0f);
  EXPECT_FALSE(torch::equal(ya, x));
}

TEST(Objective, GradientsReachEveryParameter) {
  const Corpus corpus = phantom_corpus();
  const PairSampler sampler(corpus, SamplerOptions{24});
  Model model(tiny_config(), 1);
  auto& net = *model.impl().network;
  net.train();
  for (const InsertionLoss loss : {InsertionLoss::kl, InsertionLoss::emd}) {
    net.zero_grad();
    std::mt19937_64 rng(2);
    StepLosses parts;
    step_loss(net, sampler, Objective{2, loss, 5.0, 0.5}, rng, parts).backward();
    EXPECT_TRUE(std::isfinite(parts.insertion));
    EXPECT_GT(parts.insertion, 0.0);
    EXPECT_GT(parts.score, 0.0);
    for (const auto& p : net.named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    }
  }
}

TEST(Objective, ZeroInsertionWeightTrainsTheEncoderAndScoreHeadAlone) {
  const Corpus corpus = phantom_corpus();
  const PairSampler sampler(corpus, SamplerOptions{24});
  Model model(tiny_config(), 1);
  auto& net = *model.impl().network;
  net.train();
  std::mt19937_64 rng(2);
  StepLosses parts;
  Objective score_only;
  score_only.insertion_weight = 0.0;
  const auto loss = step_loss(net, sampler, score_only, rng, parts);
  loss.backward();
  EXPECT_EQ(parts.insertion, 0.0);
  EXPECT_GT(parts.score, 0.0);
  EXPECT_NEAR(loss.item<double>(), score_only.score_weight * parts.score, 1e-5);
  std::size_t trained = 0, untouched = 0;
  for (const auto& p : net.named_parameters()) {
    const auto& grad = p.value().grad();
    const bool has_gradient = grad.defined() && grad.abs().sum().item<double>() > 0.0;
    const bool score_path = p.key().rfind("encoder", 0) == 0 || p.key().rfind("score", 0) == 0;
    EXPECT_EQ(has_gradient, score_path) << p.key();
    (has_gradient ? trained : untouched) += 1;
  }
  EXPECT_GT(trained, 0u);
  EXPECT_GT(untouched, 0u);
}

TEST(Objective, SsbrWeightScalesTheSelfSupervisedTermAlone) {
  Corpus unlabelled = phantom_corpus();
  for (Case& c : unlabelled.cases) c.map = AnatomicalMap{};  // no atlas supervision: SSBR is the whole score loss
  const Corpus labelled = phantom_corpus();
  const auto score_loss = [](const Corpus& corpus, double ssbr_weight) {
    const PairSampler sampler(corpus, SamplerOptions{24});
    Model model(tiny_config(), 1);
    model.impl().network->train();
    torch::manual_seed(3);
    std::mt19937_64 rng(4);
    Objective o;
    o.ssbr_weight = ssbr_weight;
    StepLosses parts;
    step_loss(*model.impl().network, sampler, o, rng, parts);
    return parts.score;
  };
  EXPECT_GT(score_loss(unlabelled, 1.0), 0.0);
  EXPECT_EQ(score_loss(unlabelled, 0.0), 0.0);
  EXPECT_NEAR(score_loss(unlabelled, 2.0), 2.0 * score_loss(unlabelled, 1.0), 1e-6);
  EXPECT_GT(score_loss(labelled, 0.0), 0.0);  // the atlas term stays
}

TEST(Objective, IsDeterministicForAFixedSeed) {
  const Corpus corpus = phantom_corpus();
  const PairSampler sampler(corpus, SamplerOptions{24});
  auto run = [&] {
    Model model(tiny_config(), 4);
    model.impl().network->train();
    torch::manual_seed(11);
    std::mt19937_64 rng(12);
    StepLosses parts;
    return step_loss(*model.impl().network, sampler, Objective{}, rng, parts).item<double>();
  };
  EXPECT_EQ(run(), run());
}

TEST(Evaluate, MeasuresOnlyTheCasesOfTheChosenSide) {
  Corpus corpus = phantom_corpus();
  const Model model(tiny_config(), 1);
  const ValidationMetrics m = evaluate(model, corpus, 1);
  EXPECT_GT(m.intra.count + m.outside_slices, 0u);
  EXPECT_EQ(m.landmark_all.count, 0u);  // one validation case: no inter-patient pair
  const ValidationMetrics fit = evaluate(model, corpus, 1, Side::training);  // two training patients
  EXPECT_GT(fit.landmark_all.count, 0u);
  EXPECT_GT(fit.intra.count + fit.outside_slices, m.intra.count + m.outside_slices);
  corpus.cases[1].validation = true;  // a second validation patient sharing landmarks
  const ValidationMetrics m2 = evaluate(model, corpus, 1);
  EXPECT_GT(m2.landmark_all.count, 0u);
  EXPECT_EQ(m2.landmark_all.count, m2.landmark_score_all.count);
  EXPECT_NE(m2.to_json().find("inter_patient_landmark_insertion_per_landmark"), std::string::npos);
  for (Case& c : corpus.cases) c.validation = true;  // nothing left on the training side
  const ValidationMetrics none = evaluate(model, corpus, 1, Side::training);
  EXPECT_EQ(none.intra.count + none.outside_slices + none.landmark_all.count, 0u);
}

}  // namespace
}  // namespace slicenav::training
