#include "evaluate.hpp"

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "sampler.hpp"

namespace slicenav::training {
namespace {

View sub_view(const Case& c, std::size_t max_slices, std::mt19937_64& rng) {
  const std::size_t n = c.slices.slice_count();
  const std::size_t length =
      std::uniform_int_distribution<std::size_t>(std::min<std::size_t>(n, 12), std::max<std::size_t>(12, n / 2))(rng);
  const std::size_t len = std::min(length, n);
  const std::size_t first = std::uniform_int_distribution<std::size_t>(0, n - len)(rng);
  return spread_view(c, first, first + len - 1, max_slices);
}

void score_intra(const Model& model, const SliceStack& query, const SliceStack& target, ValidationMetrics& m) {
  const auto decoded = decode_insertion(model.insert(query, target), target.world_z_mm);
  const auto& qz = query.world_z_mm;
  const auto& tz = target.world_z_mm;
  const double top = tz.front() + (tz.size() > 1 ? (tz[0] - tz[1]) / 2 : 0.5);
  const double bottom = tz.back() - (tz.size() > 1 ? (tz[tz.size() - 2] - tz.back()) / 2 : 0.5);
  for (std::size_t i = 0; i < qz.size(); ++i) {
    const auto where = decoded[i].where;
    if (qz[i] > top || qz[i] < bottom) {
      ++m.outside_slices;
      const auto want = qz[i] > top ? InsertedSlice::Where::above : InsertedSlice::Where::below;
      if (where == want) ++m.outside_correct;
    } else {
      m.intra.add(decoded[i].world_z_mm - qz[i]);
    }
  }
}

// z in the target where its score curve crosses `s` (nearest slice when it never does).
double z_at_score(const std::vector<double>& scores, const std::vector<double>& z, double s) {
  for (std::size_t i = 0; i + 1 < scores.size(); ++i) {
    const double a = scores[i] - s, b = scores[i + 1] - s;
    if ((a >= 0 && b <= 0) || (a <= 0 && b >= 0)) {
      const double f = a == b ? 0.0 : a / (a - b);
      return z[i] + f * (z[i + 1] - z[i]);
    }
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < scores.size(); ++i) {
    if (std::abs(scores[i] - s) < std::abs(scores[best] - s)) best = i;
  }
  return z[best];
}

}  // namespace

void ErrorStat::add(double error_mm) {
  sum_abs_mm += std::abs(error_mm);
  ++count;
}

ValidationMetrics evaluate(const Model& model, const Corpus& corpus, std::uint64_t seed, Side side) {
  ValidationMetrics m;
  const std::size_t max = model.config().preprocess.max_slices;
  std::vector<const Case*> cases;
  for (const Case& c : corpus.cases) {
    if (c.validation == (side == Side::validation)) cases.push_back(&c);
  }
  // Every case of that side as a whole-scan sequence, with its scores, computed once.
  std::vector<SliceStack> whole;
  std::vector<std::vector<double>> whole_scores;
  for (const Case* c : cases) {
    whole.push_back(spread_view(*c, 0, c->slices.slice_count() - 1, max).stack());
    whole_scores.push_back(model.score(whole.back()));
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::mt19937_64 rng(seed * 1000003 + i);
    for (int r = 0; r < 2; ++r) {
      score_intra(model, sub_view(*cases[i], max, rng).stack(), whole[i], m);
      score_intra(model, whole[i], sub_view(*cases[i], max, rng).stack(), m);
    }
  }
  for (std::size_t ia = 0; ia < cases.size(); ++ia) {
    const Case* a = cases[ia];
    if (a->landmarks.empty()) continue;
    const SliceStack& qs = whole[ia];
    const auto& qscores = whole_scores[ia];
    for (std::size_t ib = 0; ib < cases.size(); ++ib) {
      const Case* b = cases[ib];
      if (b == a || b->landmarks.empty() || b->info.patient_key == a->info.patient_key) continue;
      const SliceStack& ts = whole[ib];
      const auto decoded = decode_insertion(model.insert(qs, ts), ts.world_z_mm);
      const auto& tscores = whole_scores[ib];
      for (const Landmark& la : a->landmarks) {
        for (const Landmark& lb : b->landmarks) {
          if (la.name != lb.name) continue;
          std::size_t qi = 0;
          for (std::size_t k = 1; k < qs.world_z_mm.size(); ++k) {
            if (std::abs(qs.world_z_mm[k] - la.z_mm) < std::abs(qs.world_z_mm[qi] - la.z_mm)) qi = k;
          }
          const double truth = lb.z_mm + (qs.world_z_mm[qi] - la.z_mm);
          const double e_ins = decoded[qi].world_z_mm - truth;
          const double e_score = z_at_score(tscores, ts.world_z_mm, qscores[qi]) - truth;
          m.landmark[la.name].add(e_ins);
          m.landmark_all.add(e_ins);
          m.landmark_score[la.name].add(e_score);
          m.landmark_score_all.add(e_score);
        }
      }
    }
  }
  return m;
}

std::string ValidationMetrics::to_json() const {
  using nlohmann::json;
  auto stat = [](const ErrorStat& s) { return json{{"mean_abs_mm", s.mean()}, {"n", s.count}}; };
  json per_ins = json::object(), per_score = json::object();
  for (const auto& [name, s] : landmark) per_ins[name] = stat(s);
  for (const auto& [name, s] : landmark_score) per_score[name] = stat(s);
  return json{{"intra_patient_insertion", stat(intra)},
              {"intra_patient_outside",
               {{"slices", outside_slices},
                {"correct_fraction", outside_slices ? static_cast<double>(outside_correct) / outside_slices : 0.0}}},
              {"inter_patient_landmark_insertion", stat(landmark_all)},
              {"inter_patient_landmark_insertion_per_landmark", per_ins},
              {"inter_patient_landmark_score", stat(landmark_score_all)},
              {"inter_patient_landmark_score_per_landmark", per_score}}
      .dump();
}

}  // namespace slicenav::training
