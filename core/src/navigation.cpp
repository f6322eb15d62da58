#include "slicenav/navigation.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "slicenav/error.hpp"
#include "stats.hpp"

namespace slicenav {
namespace {

// Below this, a voxel is fat or air: every CT of a body part has some; MR intensities have none.
constexpr float kCtEvidenceHu = -200.0f;
// Slices preprocessed at once while preparing a scan (bounds the memory of 1000+-slice scans).
constexpr std::size_t kPrepareChunk = 256;

ScanPosition inside_at(const PreparedScan& scan, double canonical) {
  ScanPosition p;
  p.canonical_slice = canonical;
  p.original_slice = scan.mapping.original_slice(canonical);
  p.world_z_mm = scan.mapping.world_z(canonical);
  return p;
}

// A decoded slot position (fractional index into the sampled rows) as a position in the scan.
ScanPosition scan_position(const PreparedScan& scan, const std::vector<std::size_t>& rows, const InsertedSlice& s) {
  if (s.where != InsertedSlice::Where::inside) {
    ScanPosition p;
    p.where = s.where;
    return p;
  }
  const auto k = std::min(static_cast<std::size_t>(s.position), rows.size() - 1);
  const double f = s.position - static_cast<double>(k);
  const double canonical =
      k + 1 < rows.size() ? rows[k] + f * static_cast<double>(rows[k + 1] - rows[k]) : static_cast<double>(rows[k]);
  return inside_at(scan, canonical);
}

// How one template lies along the scan: every template row decoded on its own (world z in the template ->
// world z in the scan), kept where the row lands inside the scan away from its two end slots (a row beyond
// the scan's coverage that the network pins to the end slot would otherwise flatten the fit).
struct TemplateAlignment {
  std::vector<double> template_z, scan_z;
};

TemplateAlignment align_template(const InsertionDistribution& d, const std::vector<double>& template_z,
                                 const std::vector<double>& target_z) {
  TemplateAlignment a;
  const auto decoded = decode_insertion(d, target_z);
  const double last = static_cast<double>(target_z.size()) - 1.0;
  for (std::size_t r = 0; r < decoded.size(); ++r) {
    const InsertedSlice& s = decoded[r];
    if (s.where != InsertedSlice::Where::inside || s.position < 0.5 || s.position > last - 0.5) continue;
    a.template_z.push_back(template_z[r]);
    a.scan_z.push_back(s.world_z_mm);
  }
  return a;
}

// Where the template's world z `z` falls in the scan: a Theil-Sen line through the template rows nearest to
// it (those within kLocalFitMm, at least kMinFitRows), its slope held to AnatomicalMap's plausible range,
// so a landmark beyond the scan's coverage is extrapolated past its end. False when too few rows land.
constexpr double kLocalFitMm = 75.0;
constexpr std::size_t kMinFitRows = 6;

bool predict_scan_z(const TemplateAlignment& a, double z, double& scan_z) {
  if (a.template_z.size() < kMinFitRows) return false;
  std::vector<std::size_t> order(a.template_z.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    return std::abs(a.template_z[i] - z) < std::abs(a.template_z[j] - z);
  });
  std::size_t n = kMinFitRows;
  while (n < order.size() && std::abs(a.template_z[order[n]] - z) <= kLocalFitMm) ++n;
  std::vector<double> template_z(n), scan_z_of(n);
  for (std::size_t i = 0; i < n; ++i) {
    template_z[i] = a.template_z[order[i]];
    scan_z_of[i] = a.scan_z[order[i]];
  }
  const double fitted = stats::theil_sen_slope(template_z, scan_z_of);
  if (std::isnan(fitted)) return false;
  const double slope = std::clamp(fitted, AnatomicalMap::kMinSlope, AnatomicalMap::kMaxSlope);
  scan_z = stats::median_intercept(template_z, scan_z_of, slope) + slope * z;
  return true;
}

// Each template that shows the position votes with the scan z its local line predicts (see
// predict_scan_z); the answer is the median vote. The templates' distributions at the position's row,
// averaged, give the confidence (their peak), and the answer when no template aligns (scans of a few slices).
std::vector<LocatedLandmark> locate_by_insertion(const Model& model, const PreparedScan& scan,
                                                 const std::vector<std::pair<std::string, double>>& positions) {
  const auto& templates = model.templates();
  if (templates.empty()) fail(Status::unsupported_input, "the model has no templates to locate key slices with");
  const auto rows = uniform_slices(scan.slice_count(), model.config().preprocess.max_slices);
  const SliceEmbeddings target = scan.slices.select(rows);
  std::vector<const SliceEmbeddings*> queries;
  std::vector<AnatomicalMap> maps;
  for (const auto& t : templates) {
    queries.push_back(&t.slices);
    maps.push_back(AnatomicalMap::fit(t.landmarks, model.atlas()));
  }
  const auto distributions = model.insert(queries, target);
  std::vector<TemplateAlignment> alignments;
  for (std::size_t t = 0; t < templates.size(); ++t) {
    alignments.push_back(align_template(distributions[t], templates[t].slices.world_z_mm, target.world_z_mm));
  }
  const std::size_t slots = rows.size() + 2;

  std::vector<LocatedLandmark> out;
  for (const auto& [name, atlas_mm] : positions) {
    LocatedLandmark l;
    l.name = name;
    l.atlas_mm = atlas_mm;
    InsertionDistribution mean;
    mean.query_slices = 1;
    mean.target_slots = slots;
    mean.probabilities.assign(slots, 0.0f);
    std::vector<double> predictions;
    for (std::size_t t = 0; t < templates.size(); ++t) {
      if (!maps[t].valid()) continue;
      const auto& z = templates[t].slices.world_z_mm;
      const double zl = maps[t].to_world(atlas_mm);
      const double half_step = z.size() > 1 ? (z.front() - z.back()) / static_cast<double>(z.size() - 1) / 2 : 0.5;
      if (zl > z.front() + half_step || zl < z.back() - half_step) continue;  // the template does not show it
      // Fractional row of the template (z descends with the row), then that row's distribution.
      std::size_t i = 0;
      while (i + 1 < z.size() && z[i + 1] >= zl) ++i;
      const double f = i + 1 < z.size() ? std::clamp((z[i] - zl) / (z[i] - z[i + 1]), 0.0, 1.0) : 0.0;
      const float* a = distributions[t].row(i);
      const float* b = distributions[t].row(std::min(i + 1, z.size() - 1));
      for (std::size_t s = 0; s < slots; ++s) mean.probabilities[s] += static_cast<float>((1 - f) * a[s] + f * b[s]);
      double predicted = 0;
      if (predict_scan_z(alignments[t], zl, predicted)) predictions.push_back(predicted);
      ++l.votes;
    }
    if (l.votes > 0) {
      for (float& p : mean.probabilities) p /= static_cast<float>(l.votes);
      const InsertedSlice s = decode_insertion(mean, target.world_z_mm).front();
      l.confidence = s.peak;
      l.position = predictions.empty() ? scan_position(scan, rows, s) : position_at_z(scan, stats::median(predictions));
      if (predictions.size() > 1) {
        const double m =
            std::accumulate(predictions.begin(), predictions.end(), 0.0) / static_cast<double>(predictions.size());
        double ss = 0;
        for (double x : predictions) ss += (x - m) * (x - m);
        l.spread_mm = std::sqrt(ss / static_cast<double>(predictions.size() - 1));
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

// Theil-Sen line score = a + b * world z over (at most 256 evenly spread) slices.
struct ScoreLine {
  double intercept = 0, slope = 0, residual_mad = 0;
};

ScoreLine fit_score_line(const PreparedScan& scan) {
  const auto rows = uniform_slices(scan.slice_count(), 256);
  ScoreLine line;
  if (rows.size() < 2) {
    line.slope = 1.0;  // one slice: atlas mm and world mm share their scale
    line.intercept = scan.score[rows.front()] - scan.slices.world_z_mm[rows.front()];
    return line;
  }
  std::vector<double> z, score;
  for (std::size_t r : rows) {
    z.push_back(scan.slices.world_z_mm[r]);
    score.push_back(scan.score[r]);
  }
  line.slope = stats::theil_sen_slope(z, score);
  line.intercept = stats::median_intercept(z, score, line.slope);
  std::vector<double> residuals;
  for (std::size_t i = 0; i < z.size(); ++i)
    residuals.push_back(std::abs(score[i] - line.intercept - line.slope * z[i]));
  line.residual_mad = stats::median(residuals);
  return line;
}

std::vector<LocatedLandmark> locate_by_score(const PreparedScan& scan,
                                             const std::vector<std::pair<std::string, double>>& positions) {
  ScoreLine line = fit_score_line(scan);
  // Anatomy runs one way: a line whose score does not rise superiorly at a plausible rate is replaced by
  // slope 1 (atlas mm = world mm) through the median offset, and its answers get confidence 0.
  const bool usable = line.slope >= Recognition::kMinRecognisedSlope && line.slope <= AnatomicalMap::kMaxSlope * 2;
  if (!usable) {
    std::vector<double> offsets;
    for (std::size_t k = 0; k < scan.slice_count(); ++k) offsets.push_back(scan.score[k] - scan.slices.world_z_mm[k]);
    line.slope = 1.0;
    line.intercept = stats::median(offsets);
  }
  std::vector<LocatedLandmark> out;
  for (const auto& [name, atlas_mm] : positions) {
    LocatedLandmark l;
    l.name = name;
    l.atlas_mm = atlas_mm;
    l.position = position_at_z(scan, (atlas_mm - line.intercept) / line.slope);
    l.confidence = usable ? static_cast<float>(std::exp(-line.residual_mad / 20.0)) : 0.0f;
    l.votes = scan.slice_count();
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

// Where a world z falls in the scan's coverage (half a slice beyond the end slices still counts as inside).
ScanPosition position_at_z(const PreparedScan& scan, double world_z_mm) {
  const double canonical = scan.mapping.canonical_slice_at_z(world_z_mm);
  const double last = static_cast<double>(scan.slice_count()) - 1.0;
  ScanPosition p;
  if (canonical < -0.5) {
    p.where = InsertedSlice::Where::above;
  } else if (canonical > last + 0.5) {
    p.where = InsertedSlice::Where::below;
  } else {
    p = inside_at(scan, std::clamp(canonical, 0.0, last));
  }
  return p;
}

void require_ct(const Volume& volume) {
  if (!volume.any_below(kCtEvidenceHu)) {
    const auto [lo, hi] = volume.value_range();
    fail(Status::unsupported_input, "intensities do not look like CT in HU: no voxel below " +
                                        std::to_string(static_cast<int>(kCtEvidenceHu)) + " HU (range " +
                                        std::to_string(lo) + " to " + std::to_string(hi) + ")");
  }
}

PreparedScan prepare_scan(const Model& model, const Volume& volume, const PrepareOptions& options) {
  require_ct(volume);
  const Progress& progress = options.progress;
  progress.at(0.0);
  PreparedScan scan;
  scan.mapping = SliceMapping(volume.geometry(), canonical_axis_map(volume.geometry()));
  const CanonicalView view(volume, scan.mapping);
  const std::size_t n = view.size()[2];
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  scan.slices.dim = static_cast<std::size_t>(model.config().d_model);
  // model_input's Centring::scan, with the body centre of the whole scan found once for all chunks.
  const InPlaneCentre centre = body_centre(view, all);
  for (std::size_t first = 0; first < n; first += kPrepareChunk) {
    const std::vector<std::size_t> chunk(all.begin() + static_cast<std::ptrdiff_t>(first),
                                         all.begin() + static_cast<std::ptrdiff_t>(std::min(n, first + kPrepareChunk)));
    const SliceEmbeddings e = model.embed(preprocess(view, chunk, model.config().preprocess, centre));
    scan.slices.values.insert(scan.slices.values.end(), e.values.begin(), e.values.end());
    scan.slices.world_z_mm.insert(scan.slices.world_z_mm.end(), e.world_z_mm.begin(), e.world_z_mm.end());
    const double embedded = static_cast<double>(std::min(n, first + kPrepareChunk)) / static_cast<double>(n);
    progress.at((options.measure_key_slices ? 0.7 : 0.95) * embedded);
  }
  scan.score = model.score(scan.slices);
  if (options.measure_key_slices) scan.measured = measure_key_slices(view);
  progress.at(1.0);
  return scan;
}

Insertion insert_scan(const Model& model, const PreparedScan& query, const PreparedScan& target,
                      bool keep_distribution) {
  const std::size_t max = model.config().preprocess.max_slices;
  Insertion result;
  result.target_slots = uniform_slices(target.slice_count(), max);
  const SliceEmbeddings t = target.slices.select(result.target_slots);
  const std::size_t nq = query.slice_count();
  const std::size_t passes = (nq + max - 1) / max;
  std::vector<std::vector<std::size_t>> pass_rows(passes);
  for (std::size_t k = 0; k < nq; ++k) pass_rows[k % passes].push_back(k);
  std::vector<SliceEmbeddings> pass_queries;
  for (const auto& rows : pass_rows) pass_queries.push_back(query.slices.select(rows));
  std::vector<const SliceEmbeddings*> queries;
  for (const auto& q : pass_queries) queries.push_back(&q);
  const auto distributions = model.insert(queries, t);

  const std::size_t slots = result.target_slots.size() + 2;
  result.slices.resize(nq);
  if (keep_distribution) result.distribution.resize(nq * slots);
  for (std::size_t p = 0; p < passes; ++p) {
    const auto decoded = decode_insertion(distributions[p], t.world_z_mm);
    for (std::size_t m = 0; m < pass_rows[p].size(); ++m) {
      const std::size_t k = pass_rows[p][m];
      SliceInsertion& s = result.slices[k];
      s.query_original_slice = query.mapping.original_slice(static_cast<double>(k));
      s.query_world_z_mm = query.slices.world_z_mm[k];
      s.target = scan_position(target, result.target_slots, decoded[m]);
      s.peak = decoded[m].peak;
      s.entropy = decoded[m].entropy;
      if (keep_distribution) {
        std::copy(distributions[p].row(m), distributions[p].row(m) + slots,
                  result.distribution.begin() + static_cast<std::ptrdiff_t>(k * slots));
      }
    }
  }
  return result;
}

Recognition recognise(const PreparedScan& scan) {
  Recognition r;
  const double extent = std::abs(scan.slices.world_z_mm.front() - scan.slices.world_z_mm.back());
  if (extent < Recognition::kMinJudgedExtentMm) return r;
  r.score_slope = fit_score_line(scan).slope;
  r.recognised = r.score_slope >= Recognition::kMinRecognisedSlope;
  return r;
}

std::vector<LocatedLandmark> locate_atlas_positions(const Model& model, const PreparedScan& scan,
                                                    const std::vector<std::pair<std::string, double>>& positions,
                                                    LocateMethod method) {
  return method == LocateMethod::insertion ? locate_by_insertion(model, scan, positions)
                                           : locate_by_score(scan, positions);
}

const char* where_name(InsertedSlice::Where where) {
  switch (where) {
    case InsertedSlice::Where::inside: return "inside";
    case InsertedSlice::Where::above: return "above";
    case InsertedSlice::Where::below: return "below";
  }
  return "inside";
}

const char* coverage_name(Coverage::Status status) {
  switch (status) {
    case Coverage::Status::full: return "full";
    case Coverage::Status::partial: return "partial";
    case Coverage::Status::none: return "none";
  }
  return "none";
}

}  // namespace slicenav
