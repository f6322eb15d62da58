// z-prealignment (prealign.hpp) with the bundled model: accuracy of the seven methods on real held-out scans
// under the seed paper's sub-volume protocol, across patients and from a whole-body scan, their verdicts on
// scans with no common anatomy, the real pairs, and the time each takes.
//
//   slicenav_prealign_benchmark [--pairs N] [--seed S] [--runs N] [--threads N] [--model FILE]
//                               [--markdown docs/benchmarks.md]
//
// 1. Sub-volume protocol (Meine and Hering): every body-trunk scan of set "ct" in <data>/cases.tsv that is
//    not among the model's training cases (metadata "training" -> "training_cases") is a fixed scan; a
//    moving scan is a random sub-volume of one of them, chosen with one seeded generator: its first slice
//    uniform in [0, max(0, N - 100)], its length uniform from min(20, N - first) slices to the rest of the
//    scan, and its z origin replaced by one uniform in [-1000, 1000] mm, so that nothing but the anatomy
//    ties it to the fixed scan. The true translation is the origin change. |error| > 25 mm is a failure.
//    The moving slices are then the fixed scan's pixels, which favours the methods that compare appearance,
//    so each sub-volume is also aligned as 3-slice slabs (test::thick_slabs: a thick-slice reconstruction),
//    and sub-volumes of one reconstruction of an acquisition are aligned to another (held-out scans of one
//    patient on the same grid: lungdx_A0002 B40f and B70f).
// 2. Across patients: every ordered pair of held-out trunk scans of two patients that share at least two
//    key slices (read_case_landmarks: mask-derived and annotated by eye); the truth is the median shift of
//    the shared key slices. Whole body: random sub-volumes (as in 1) of the data set's longest scan (a
//    whole-body PET/CT, a training case) into the whole scan, and each into one held-out trunk scan of
//    another patient drawn at random among those sharing at least two of the key slices inside the
//    sub-volume (truth as above, the sub-volume's origin change included).
// 3. No common anatomy: each extremity crop (set "ood") against each held-out chest scan; each held-out
//    head-and-neck case (set "hn") against each held-out abdominal scan; the top and bottom thirds of each
//    held-out scan against each other (origin discarded as above); acrin_flt_001_b (head to upper chest)
//    against acrin_flt_001_a (abdomen and pelvis), two parts of one series 55 mm apart. Every method
//    should say shared_anatomy = false, or answer with low confidence.
// 4. Real pairs: ts_example_ct_sm (its header z is 246 mm off) against ts_example_ct; the two
//    reconstructions of lungdx_A0002 (B40f against B70f, same geometry); elastix's 3DCT_lung.mha against
//    3DCT_lung_baseline_small.mha (the follow-up as registered onto the baseline grid: true shift about 0);
//    ricord_419639-000082 against lidc_0002, two patients (truth: the median shift of their key slices).
// 5. Time, with --threads (default 2): match_curves on two 300-sample score curves; the whole prealign of
//    two loaded 512 x 512 x 300 phantoms (bench::trunk_phantom, tops at z = +40 and -110 mm) per method;
//    the real pairs; auto and key-slices on the two patients resampled onto 512 x 512 pixels (auto's path
//    across patients at a scanner's matrix size).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "harness.hpp"
#include "markdown_section.hpp"
#include "options.hpp"
#include "slicenav/anatomy.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/prealign.hpp"
#include "stats.hpp"
#include "test_data.hpp"
#include "volume_variants.hpp"

namespace {

namespace fs = std::filesystem;
namespace bench = slicenav::bench;
using bench::fixed;
using slicenav::Model;
using slicenav::Prealignment;
using slicenav::PrealignMethod;
using slicenav::PrealignOptions;
using slicenav::PreparedScan;
using slicenav::Volume;

const char* const kHeading = "## Prealignment";
constexpr double kFailureMm = 25.0;
constexpr double kGoalMs = 1000.0;
constexpr double kLowConfidence = 0.3;
// Sub-volumes are also averaged in slabs of this many slices (a thick-slice reconstruction).
constexpr std::size_t kSlabSlices = 3;
// Sub-volumes of one reconstruction aligned to the other, per ordered pair of reconstructions.
constexpr int kOtherReconPairs = 20;
const PrealignMethod kMethods[] = {PrealignMethod::automatic, PrealignMethod::score,     PrealignMethod::three_slice,
                                   PrealignMethod::insertion, PrealignMethod::embedding, PrealignMethod::key_slices,
                                   PrealignMethod::intensity};
// Whole-body sub-volumes drawn (each into the whole scan and into one other patient).
constexpr int kWholeBodyPairs = 40;
constexpr double kFarMm = 50.0;
constexpr std::size_t kMethodCount = std::size(kMethods);

struct Settings {
  int pairs = 240;
  std::uint64_t seed = 5;
  int runs = 3;
  int threads = 2;
  std::string model_path, markdown;
};

// One scan of the data set, loaded once.
struct Scan {
  std::string case_id, patient_key, set, region;
  Volume volume;
  PreparedScan prepared;
  std::vector<slicenav::Landmark> landmarks;  // world z, superior first
};

// Runs one method; score, insertion and key slices on the prepared scans.
Prealignment run_method(const Model& model, PrealignMethod method, const Volume& fixed, const PreparedScan& fp,
                        const Volume& moving, const PreparedScan& mp) {
  PrealignOptions o;
  o.method = method;
  if (method == PrealignMethod::score || method == PrealignMethod::insertion || method == PrealignMethod::key_slices) {
    return slicenav::prealign(model, fp, mp, o);
  }
  return slicenav::prealign(method == PrealignMethod::intensity ? nullptr : &model, fixed, moving, o);
}

struct MethodStats {
  std::vector<double> errors_mm;
  std::size_t failures = 0, far = 0, said_not_shared = 0, low_confidence = 0, confident_failures = 0;
  std::map<std::string, std::size_t> answered_by;  // the method that answered (auto: the one it chose)
};

// One protocol's answers: per method, and per fixed scan its pairs and each method's failures and
// not-shared answers.
struct Protocol {
  MethodStats stats[kMethodCount];
  std::map<std::string, std::size_t> pairs_per_case;
  std::map<std::string, std::array<std::size_t, kMethodCount>> failures_per_case, not_shared_per_case;
};

// Whether two scans are reconstructions of one acquisition: one patient, the same grid.
bool same_acquisition(const Scan& a, const Scan& b) {
  const auto& ga = a.volume.geometry();
  const auto& gb = b.volume.geometry();
  if (a.case_id == b.case_id || a.patient_key != b.patient_key || ga.size != gb.size) return false;
  for (int d = 0; d < 3; ++d) {
    if (std::abs(ga.origin[d] - gb.origin[d]) > 1e-3 || std::abs(ga.spacing[d] - gb.spacing[d]) > 1e-6) return false;
  }
  return true;
}

struct NegativeStats {
  std::size_t cases = 0, said_shared = 0, confident = 0;  // confident: shared and confidence >= kLowConfidence
  double max_confidence = 0;
};

struct PairRow {
  std::string name;
  double truth = 0;
  Prealignment result[kMethodCount];
};

const char* const kMethodTableHeader =
    " median abs error, mm | 95th percentile, mm | failures (> 25 mm) | over 50 mm | confident failures | said not "
    "shared | low confidence |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";

void write_method_rows(std::ostream& md, const Protocol& pr) {
  for (std::size_t m = 0; m < kMethodCount; ++m) {
    const MethodStats& st = pr.stats[m];
    const auto n = st.errors_mm.size();
    if (n == 0) continue;
    md << "| " << slicenav::prealign_method_name(kMethods[m]) << " | "
       << fixed(slicenav::stats::median(st.errors_mm), 1) << " | "
       << fixed(slicenav::stats::quantile(st.errors_mm, 0.95), 1) << " | " << st.failures << " ("
       << fixed(100.0 * static_cast<double>(st.failures) / static_cast<double>(n), 1) << " %) | " << st.far << " ("
       << fixed(100.0 * static_cast<double>(st.far) / static_cast<double>(n), 1) << " %) | " << st.confident_failures
       << " | " << st.said_not_shared << " | " << st.low_confidence << " |\n";
  }
  const MethodStats& automatic = pr.stats[0];  // kMethods[0]
  if (automatic.errors_mm.empty()) return;
  md << "\nauto answered with";
  const char* separator = " ";
  for (const auto& [name, count] : automatic.answered_by) {
    md << separator << name << " " << count;
    separator = ", ";
  }
  md << ".\n";
}

// Per fixed scan: pairs, then each method's failures / not-shared answers.
void write_case_table(std::ostream& md, const Protocol& pr, const std::string& separators) {
  md << "| fixed scan | pairs |";
  for (auto m : kMethods) md << " " << slicenav::prealign_method_name(m) << " |";
  md << "\n|---|---:|" << separators << "\n";
  for (const auto& [id, count] : pr.pairs_per_case) {
    md << "| " << id << " | " << count << " |";
    for (std::size_t m = 0; m < kMethodCount; ++m) {
      md << " " << pr.failures_per_case.at(id)[m] << " / " << pr.not_shared_per_case.at(id)[m] << " |";
    }
    md << "\n";
  }
}

std::string verdict(const Prealignment& r) {
  return fixed(r.translation_mm[2], 1) + " (conf " + fixed(r.confidence, 2) + (r.shared_anatomy ? "" : ", not shared") +
         ")";
}

int run(const Settings& s) {
  slicenav::set_inference_threads(s.threads);
  const std::string model_path = s.model_path.empty() ? slicenav::default_model_path() : s.model_path;
  const Model model = Model::load(model_path);
  const std::string machine = bench::machine_description();
  std::string separators;  // one right-aligned column per method
  for (std::size_t m = 0; m < kMethodCount; ++m) separators += "---:|";
  std::ostringstream md;
  md << kHeading << "\n\n";
  md << "z-prealignment of two scans (`slicenav/prealign.hpp`, `docs/prealign.md`) with the bundled model: the seven "
        "methods side by side on real held-out scans of one patient, across patients and from a whole-body scan, "
        "their verdicts on scans with no common anatomy, the real pairs, and the time each takes. auto is the "
        "default. Measured on "
     << bench::today_utc() << ".\n\n";
  md << "- Machine: " << machine << "; " << bench::compiler() << ", " << SLICENAV_BUILD_TYPE << " build; " << s.threads
     << " inference threads; run under `nice`.\n";
  md << "- Times are wall time, median of --runs calls after one untimed warm-up (min-max in brackets). When "
        "another job holds a core, LibTorch's threads wait for it at every operation and a learned method can "
        "take several times as long (compare `prepare_scan` in the Navigation section): the load average above "
        "tells how busy the machine was.\n";
  md << "- Command: `slicenav_prealign_benchmark --pairs " << s.pairs << " --seed " << s.seed << " --runs " << s.runs
     << " --threads " << s.threads << " --markdown docs/benchmarks.md` (build with `-DSLICENAV_BENCHMARKS=ON`).\n";

  const std::string data = slicenav::test::data_dir();
  const auto training = slicenav::training::model_training_cases(model);
  const auto held_out = [&](const std::string& id) { return training.count(id) == 0; };
  std::vector<Scan> trunk, hn, ood;
  Scan whole_body;  // the trunk scan whose key slices span the most (held out or not)
  double whole_body_span = 0;
  std::string whole_body_path;
  if (!data.empty()) {
    for (const auto& info : slicenav::training::read_cases(data, {"ct", "hn", "ood"})) {
      const fs::path file = fs::path(info.path) / "ct.nii.gz";
      if (!fs::exists(file)) continue;
      std::vector<slicenav::Landmark> landmarks;
      if (info.set == "ct") landmarks = slicenav::read_case_landmarks(info.path);
      if (landmarks.size() >= 2 && landmarks.front().z_mm - landmarks.back().z_mm > whole_body_span) {
        whole_body_span = landmarks.front().z_mm - landmarks.back().z_mm;
        whole_body = Scan{info.case_id, info.patient_key, info.set, info.region, {}, {}, landmarks};
        whole_body_path = file.string();
      }
      if (!held_out(info.case_id)) continue;
      Scan scan{info.case_id, info.patient_key, info.set, info.region, slicenav::read_volume(file.string()),
                {},           landmarks};
      scan.prepared = slicenav::prepare_scan(model, scan.volume);
      (info.set == "ct" ? trunk : info.set == "hn" ? hn : ood).push_back(std::move(scan));
    }
  }
  if (!whole_body_path.empty()) {
    whole_body.volume = slicenav::read_volume(whole_body_path);
    whole_body.prepared = slicenav::prepare_scan(model, whole_body.volume);
  }
  if (trunk.empty()) {
    md << "\nAccuracy skipped: no data directory or no held-out trunk scan (set SLICENAV_DATA or place the data in "
          "../shared/data).\n";
  }

  // ---- 1. Sub-volume protocol, with the moving sub-volume as stored, as 3-slice slabs, and taken from
  // another reconstruction of the same acquisition ----
  Protocol same_pixels, slabs, other_recon;
  std::mt19937_64 rng(s.seed);
  const auto uniform = [&](std::size_t lo, std::size_t hi) {  // inclusive
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  // A random sub-volume of `source` (the seed paper's choice) with a random z origin, and its true shift.
  struct RandomSubVolume {
    slicenav::test::SubVolume part;
    std::size_t first = 0, length = 0;
  };
  const auto sub_volume = [&](const Volume& source) {
    const std::size_t n = source.geometry().size[2];
    RandomSubVolume sv;
    sv.first = uniform(0, n > 100 ? n - 100 : 0);
    sv.length = uniform(std::min<std::size_t>(20, n - sv.first), n - sv.first);
    const double origin = std::uniform_real_distribution<double>(-1000.0, 1000.0)(rng);
    sv.part = slicenav::test::sub_volume(source, sv.first, sv.length, origin);
    return sv;
  };
  const auto evaluate_prepared = [&](Protocol& pr, const Scan& f, const Volume& moving, const PreparedScan& mp,
                                     double truth, const std::string& label) {
    ++pr.pairs_per_case[f.case_id];
    auto& case_failures = pr.failures_per_case[f.case_id];
    auto& case_not_shared = pr.not_shared_per_case[f.case_id];
    std::cerr << label << " truth " << fixed(truth, 1);
    for (std::size_t m = 0; m < kMethodCount; ++m) {
      const Prealignment r = run_method(model, kMethods[m], f.volume, f.prepared, moving, mp);
      const double error = std::abs(r.translation_mm[2] - truth);
      MethodStats& st = pr.stats[m];
      st.errors_mm.push_back(error);
      if (error > kFailureMm) {
        ++st.failures;
        ++case_failures[m];
      }
      if (error > kFarMm) ++st.far;
      ++st.answered_by[slicenav::prealign_method_name(r.method)];
      if (!r.shared_anatomy) {
        ++st.said_not_shared;
        ++case_not_shared[m];
      }
      if (r.confidence < kLowConfidence) ++st.low_confidence;
      if (error > kFailureMm && r.shared_anatomy && r.confidence >= kLowConfidence) ++st.confident_failures;
      std::cerr << " | " << slicenav::prealign_method_name(kMethods[m]) << " err " << fixed(error, 1) << " conf "
                << fixed(r.confidence, 2) << " cost " << fixed(r.cost, 3) << " contrast " << fixed(r.contrast, 3)
                << (r.shared_anatomy ? "" : " NOT-SHARED")
                << (kMethods[m] == PrealignMethod::automatic
                        ? std::string(" by ") + slicenav::prealign_method_name(r.method)
                        : "");
    }
    std::cerr << "\n";
  };
  const auto evaluate = [&](Protocol& pr, const Scan& f, const Volume& moving, double truth, const std::string& label) {
    evaluate_prepared(pr, f, moving, slicenav::prepare_scan(model, moving), truth, label);
  };
  for (int p = 0; p < s.pairs && !trunk.empty(); ++p) {
    const Scan& f = trunk[uniform(0, trunk.size() - 1)];
    const RandomSubVolume sv = sub_volume(f.volume);
    const std::string label = "pair " + std::to_string(p) + ": " + f.case_id + " [" + std::to_string(sv.first) + ", +" +
                              std::to_string(sv.length) + ")";
    evaluate(same_pixels, f, sv.part.volume, sv.part.truth, label);
    if (sv.length >= 2 * kSlabSlices) {
      evaluate(slabs, f, slicenav::test::thick_slabs(sv.part.volume, kSlabSlices), sv.part.truth, label + " slabs");
    }
  }
  for (const auto& f : trunk) {
    for (const auto& other : trunk) {
      if (!same_acquisition(f, other)) continue;
      for (int p = 0; p < kOtherReconPairs; ++p) {
        const RandomSubVolume sv = sub_volume(other.volume);
        evaluate(other_recon, f, sv.part.volume, sv.part.truth,
                 "other reconstruction: " + other.case_id + " [" + std::to_string(sv.first) + ", +" +
                     std::to_string(sv.length) + ") into " + f.case_id);
      }
    }
  }

  // ---- 2. Across patients, and from a whole-body scan ----
  // The median shift (moving z - fixed z) of the key slices both lists name whose moving z passes `inside`;
  // NaN when fewer than two do.
  const auto landmark_truth = [](const std::vector<slicenav::Landmark>& fixed_l,
                                 const std::vector<slicenav::Landmark>& moving_l, double moving_offset,
                                 const std::function<bool(double)>& inside) {
    std::vector<double> shifts;
    for (const auto& a : fixed_l) {
      for (const auto& b : moving_l) {
        if (a.name == b.name && inside(b.z_mm)) shifts.push_back(b.z_mm + moving_offset - a.z_mm);
      }
    }
    return shifts.size() >= 2 ? slicenav::stats::median(shifts) : std::nan("");
  };
  const auto anywhere = [](double) { return true; };
  Protocol across, whole_self, whole_other;
  for (const auto& f : trunk) {
    for (const auto& m : trunk) {
      if (f.patient_key == m.patient_key) continue;
      const double truth = landmark_truth(f.landmarks, m.landmarks, 0.0, anywhere);
      if (std::isnan(truth)) continue;
      evaluate_prepared(across, f, m.volume, m.prepared, truth, "across patients: " + m.case_id + " into " + f.case_id);
    }
  }
  for (int p = 0; p < kWholeBodyPairs && !whole_body_path.empty(); ++p) {
    const RandomSubVolume sv = sub_volume(whole_body.volume);
    const std::string label = "whole body [" + std::to_string(sv.first) + ", +" + std::to_string(sv.length) + ")";
    const PreparedScan mp = slicenav::prepare_scan(model, sv.part.volume);
    evaluate_prepared(whole_self, whole_body, sv.part.volume, mp, sv.part.truth, label + " into itself");
    const auto& g = whole_body.volume.geometry();
    const double z0 = g.index_to_world({0.0, 0.0, static_cast<double>(sv.first)})[2];
    const double z1 = g.index_to_world({0.0, 0.0, static_cast<double>(sv.first + sv.length - 1)})[2];
    const auto in_part = [&](double z) { return z >= std::min(z0, z1) && z <= std::max(z0, z1); };
    std::vector<std::pair<const Scan*, double>> others;
    for (const auto& f : trunk) {
      if (f.patient_key == whole_body.patient_key) continue;
      const double truth = landmark_truth(f.landmarks, whole_body.landmarks, sv.part.truth, in_part);
      if (!std::isnan(truth)) others.push_back({&f, truth});
    }
    if (others.empty()) continue;
    const auto& [f, truth] = others[uniform(0, others.size() - 1)];
    evaluate_prepared(whole_other, *f, sv.part.volume, mp, truth, label + " into " + f->case_id);
  }

  // ---- 3. No common anatomy ----
  NegativeStats negatives[kMethodCount];
  std::map<std::string, NegativeStats> negative_groups[kMethodCount];
  const auto negative = [&](const std::string& group, const std::string& name, const Volume& fixed_v,
                            const PreparedScan& fp, const Volume& moving_v, const PreparedScan& mp) {
    std::cerr << "negative " << group << ": " << name;
    for (std::size_t m = 0; m < kMethodCount; ++m) {
      const Prealignment r = run_method(model, kMethods[m], fixed_v, fp, moving_v, mp);
      for (NegativeStats* st : {&negatives[m], &negative_groups[m][group]}) {
        ++st->cases;
        if (r.shared_anatomy) ++st->said_shared;
        if (r.shared_anatomy && r.confidence >= kLowConfidence) ++st->confident;
        st->max_confidence = std::max(st->max_confidence, r.confidence);
      }
      std::cerr << " | " << slicenav::prealign_method_name(kMethods[m]) << " " << verdict(r) << " cost "
                << fixed(r.cost, 3) << " contrast " << fixed(r.contrast, 3);
    }
    std::cerr << "\n";
  };
  const auto is = [](const Scan& sc, std::initializer_list<const char*> regions) {
    for (const char* r : regions) {
      if (sc.region == r) return true;
    }
    return false;
  };
  for (const auto& o : ood) {
    for (const auto& c : trunk) {
      if (is(c, {"chest"}))
        negative("extremity vs chest", o.case_id + " into " + c.case_id, c.volume, c.prepared, o.volume, o.prepared);
    }
  }
  for (const auto& h : hn) {
    for (const auto& a : trunk) {
      if (is(a, {"abdomen", "abdomen-pelvis"}))
        negative("head-neck vs abdomen", h.case_id + " into " + a.case_id, a.volume, a.prepared, h.volume, h.prepared);
    }
  }
  for (const auto& c : trunk) {
    const std::size_t n = c.volume.geometry().size[2];
    if (n < 9) continue;
    const Volume top = bench::slice_range(c.volume, 2, 2 * n / 3, n - 2 * n / 3);
    const Volume bottom = slicenav::test::sub_volume(c.volume, 0, n / 3, 0.0).volume;
    const PreparedScan tp = slicenav::prepare_scan(model, top), bp = slicenav::prepare_scan(model, bottom);
    negative("thirds of one scan", c.case_id + " bottom third into top third", top, tp, bottom, bp);
  }
  const Scan* acrin_a = nullptr;
  const Scan* acrin_b = nullptr;
  for (const auto& c : trunk) {
    if (c.case_id == "acrin_flt_001_a") acrin_a = &c;
    if (c.case_id == "acrin_flt_001_b") acrin_b = &c;
  }
  if (acrin_a != nullptr && acrin_b != nullptr) {
    negative("one series, 55 mm apart", "acrin_flt_001_a into acrin_flt_001_b", acrin_b->volume, acrin_b->prepared,
             acrin_a->volume, acrin_a->prepared);
  }

  // ---- 4. Real pairs ----
  std::vector<PairRow> pair_rows;
  std::map<std::string, bench::Timing> pair_times[kMethodCount];
  const auto real_pair = [&](const std::string& name, const std::string& fixed_rel, const std::string& moving_rel,
                             double truth) {
    const std::string fp = slicenav::test::data_path(fixed_rel), mp = slicenav::test::data_path(moving_rel);
    if (fp.empty() || mp.empty()) return;
    const Volume f = slicenav::read_volume(fp), m = slicenav::read_volume(mp);
    PairRow row{name, truth, {}};
    for (std::size_t k = 0; k < kMethodCount; ++k) {
      PrealignOptions o;
      o.method = kMethods[k];
      const Model* mp_model = kMethods[k] == PrealignMethod::intensity ? nullptr : &model;
      pair_times[k][name] = bench::time_calls(s.runs, [&] { row.result[k] = slicenav::prealign(mp_model, f, m, o); });
      std::cerr << "real pair " << name << " | " << slicenav::prealign_method_name(kMethods[k]) << " "
                << verdict(row.result[k]) << " cost " << fixed(row.result[k].cost, 3) << "\n";
    }
    pair_rows.push_back(row);
  };
  real_pair("ts_example_ct_sm into ts_example_ct", "ct/ts_example_ct/ct.nii.gz", "pairs/ts_example_ct_sm.nii.gz",
            -246.0);
  real_pair("lungdx_A0002_B40f into lungdx_A0002_B70f", "ct/lungdx_A0002_B70f/ct.nii.gz",
            "ct/lungdx_A0002_B40f/ct.nii.gz", 0.0);
  real_pair("elastix 3DCT_lung into 3DCT_lung_baseline_small", "pairs/elastix_3DCT_lung/3DCT_lung_baseline_small.mha",
            "pairs/elastix_3DCT_lung/3DCT_lung.mha", 0.0);
  // Two patients (truth: the median shift of their shared key slices), the path auto takes across patients.
  const auto find_trunk = [&](const std::string& id) -> const Scan* {
    for (const auto& c : trunk) {
      if (c.case_id == id) return &c;
    }
    return nullptr;
  };
  const Scan* patient_a = find_trunk("lidc_0002");
  const Scan* patient_b = find_trunk("ricord_419639-000082");
  // The same two patients at a scanner's matrix size: the time of auto's path across patients (the
  // embedding match, then the key slices) for two scans of about 300 slices of 512 x 512.
  const std::size_t kFullMatrix = 512;
  struct FullMatrixTime {
    PrealignMethod method;
    bench::Timing time;
    Prealignment result;
  };
  std::vector<FullMatrixTime> across_full;
  std::array<std::size_t, 2> across_full_slices{};
  if (patient_a != nullptr && patient_b != nullptr) {
    real_pair("ricord_419639-000082 into lidc_0002 (two patients)", "ct/lidc_0002/ct.nii.gz",
              "ct/ricord_419639-000082/ct.nii.gz",
              landmark_truth(patient_a->landmarks, patient_b->landmarks, 0.0, anywhere));
    std::cerr << "time: two patients at " << kFullMatrix << " x " << kFullMatrix << "...\n";
    const Volume fa = slicenav::test::in_plane_resampled(patient_a->volume, kFullMatrix);
    const Volume fb = slicenav::test::in_plane_resampled(patient_b->volume, kFullMatrix);
    across_full_slices = {fa.geometry().size[2], fb.geometry().size[2]};
    for (const auto method : {PrealignMethod::automatic, PrealignMethod::key_slices}) {
      FullMatrixTime t{method, {}, {}};
      PrealignOptions o;
      o.method = method;
      t.time = bench::time_calls(s.runs, [&] { t.result = slicenav::prealign(&model, fa, fb, o); });
      across_full.push_back(t);
    }
  }

  // ---- 5. Time ----
  std::cerr << "time: phantoms...\n";
  const slicenav::Phantom pa = bench::trunk_phantom(40.0, 1), pb = bench::trunk_phantom(-110.0, 2);
  const PreparedScan ppa = slicenav::prepare_scan(model, pa.volume), ppb = slicenav::prepare_scan(model, pb.volume);
  const std::vector<float> sa(ppa.score.begin(), ppa.score.end()), sb(ppb.score.begin(), ppb.score.end());
  const bench::Timing curve = bench::time_calls(std::max(s.runs, 20), [&] {
    slicenav::match_curves(ppa.slices.world_z_mm, sa, ppb.slices.world_z_mm, sb, 1, 1.0, 30.0);
  });
  bench::Timing whole[kMethodCount];
  Prealignment phantom_result[kMethodCount];
  for (std::size_t k = 0; k < kMethodCount; ++k) {
    PrealignOptions o;
    o.method = kMethods[k];
    const Model* m = kMethods[k] == PrealignMethod::intensity ? nullptr : &model;
    whole[k] = bench::time_calls(s.runs, [&] { phantom_result[k] = slicenav::prealign(m, pa.volume, pb.volume, o); });
  }

  // ---- Report ----
  if (!trunk.empty()) {
    md << "- Held-out scans (not in the model's `training_cases`): trunk";
    for (const auto& c : trunk) md << " `" << c.case_id << "` (" << c.volume.geometry().size[2] << ")";
    md << "; head and neck " << hn.size() << "; extremity " << ood.size() << ".";
    md << "\n- Protocol: the seed paper's (Meine and Hering): moving = a random sub-volume of a held-out scan, first "
          "slice uniform in [0, max(0, N - 100)], length uniform from 20 slices (fewer when fewer remain) to the "
          "rest of the scan, z origin replaced by a uniform one in [-1000, 1000] mm; fixed = the whole scan. "
          "Score and insertion run on scans prepared once (`prealign(model, PreparedScan, PreparedScan, ...)`); "
          "three-slice, embedding and intensity on the volumes. A failure is |error| > "
       << fixed(kFailureMm, 0) << " mm; *low confidence* is confidence < " << fixed(kLowConfidence, 1)
       << "; a *confident failure* is a failure answered with shared anatomy and confidence >= "
       << fixed(kLowConfidence, 1) << ".\n\n";
    md << "| " << s.pairs << " sub-volume pairs |" << kMethodTableHeader;
    write_method_rows(md, same_pixels);
    md << "\nPer fixed scan: pairs, then for each method its failures / the answers that said *not shared*.\n\n";
    write_case_table(md, same_pixels, separators);
    md << "\nThe same sub-volumes (those of at least " << 2 * kSlabSlices << " slices) averaged in slabs of "
       << kSlabSlices
       << " slices, as a thick-slice reconstruction of the same acquisition would be: the moving "
          "scan's slices are no longer the fixed scan's pixels.\n\n| "
       << slabs.stats[0].errors_mm.size() << " slab pairs |" << kMethodTableHeader;
    write_method_rows(md, slabs);
    if (!other_recon.pairs_per_case.empty()) {
      md << "\nAnother reconstruction of the same acquisition (same patient, same grid, another kernel): moving = a "
            "random sub-volume of one reconstruction as above, fixed = the other whole; "
         << kOtherReconPairs << " per ordered pair.\n\n| " << other_recon.stats[0].errors_mm.size()
         << " cross-reconstruction pairs |" << kMethodTableHeader;
      write_method_rows(md, other_recon);
      md << "\n";
      write_case_table(md, other_recon, separators);
    }
    if (!across.pairs_per_case.empty()) {
      md << "\nAcross patients (atlas to patient): every ordered pair of held-out trunk scans of two patients that "
            "share at least two key slices (`landmarks.json`, mask-derived, and `manual_landmarks.json`, by eye); the "
            "truth is the median shift of the shared key slices, so it carries the two bodies' differences in "
            "proportion (how far apart the key slices lie differs between patients).\n\n| "
         << across.stats[0].errors_mm.size() << " pairs of two patients |" << kMethodTableHeader;
      write_method_rows(md, across);
    }
    if (!whole_self.pairs_per_case.empty()) {
      md << "\nWhole body into partial scans: " << whole_self.stats[0].errors_mm.size()
         << " random sub-volumes (as "
            "above) of `"
         << whole_body.case_id << "` (" << whole_body.volume.geometry().size[2]
         << " slices, the data set's longest; a training case of the model) into the whole scan, and each into one "
            "held-out trunk scan of another patient sharing at least two of the key slices inside the sub-volume ("
         << whole_other.stats[0].errors_mm.size() << " pairs; truth as across patients).\n\n| "
         << whole_self.stats[0].errors_mm.size() << " into the whole scan |" << kMethodTableHeader;
      write_method_rows(md, whole_self);
      md << "\n| " << whole_other.stats[0].errors_mm.size() << " into another patient |" << kMethodTableHeader;
      write_method_rows(md, whole_other);
    }
    md << "\nNo common anatomy (every answer should be *not shared* or have low confidence): per group, the answers "
          "that said *shared* / those that said so with confidence >= "
       << fixed(kLowConfidence, 1) << " / the highest confidence.\n\n| group | cases |";
    for (auto m : kMethods) md << " " << slicenav::prealign_method_name(m) << " |";
    md << "\n|---|---:|" << separators << "\n";
    for (const auto& [group, st0] : negative_groups[0]) {
      md << "| " << group << " | " << st0.cases << " |";
      for (std::size_t m = 0; m < kMethodCount; ++m) {
        const NegativeStats& st = negative_groups[m].at(group);
        md << " " << st.said_shared << " / " << st.confident << " / " << fixed(st.max_confidence, 2) << " |";
      }
      md << "\n";
    }
    md << "| **all** | " << negatives[0].cases << " |";
    for (std::size_t m = 0; m < kMethodCount; ++m) {
      md << " " << negatives[m].said_shared << " / " << negatives[m].confident << " / "
         << fixed(negatives[m].max_confidence, 2) << " |";
    }
    md << "\n";
  }
  if (!pair_rows.empty()) {
    md << "\nReal pairs: translation z (truth), each method's answer and confidence (*n* = not shared), and its time "
          "(whole prealign from loaded volumes, median of "
       << s.runs << " runs after a warm-up).\n\n| pair | truth, mm |";
    for (auto m : kMethods) md << " " << slicenav::prealign_method_name(m) << " |";
    md << "\n|---|---:|" << separators << "\n";
    for (const auto& row : pair_rows) {
      md << "| " << row.name << " | " << fixed(row.truth, 0) << " |";
      for (std::size_t m = 0; m < kMethodCount; ++m) {
        const Prealignment& r = row.result[m];
        md << " " << fixed(r.translation_mm[2], 1) << " (" << fixed(r.confidence, 2) << (r.shared_anatomy ? "" : ", n")
           << "), " << fixed(pair_times[m].at(row.name).median_ms, 0) << " ms |";
      }
      md << "\n";
    }
  }
  md << "\nTime with " << s.threads
     << " threads: `match_curves` on the two phantoms' 300-sample score curves (1 mm "
        "grid, every shift with >= 30 mm overlap) takes "
     << bench::cell(curve, 2)
     << " ms. Whole `prealign` of two loaded 512 x 512 x 300 phantoms (0.8 x 0.8 x 1 mm, "
        "tops at z = +40 and -110 mm: the same anatomy at the same world z, truth 0), everything after reading the "
        "files, against the goal of "
     << fixed(kGoalMs, 0) << " ms:\n\n| method | ms | goal | answer, mm |\n|---|---:|---|---:|\n";
  for (std::size_t m = 0; m < kMethodCount; ++m) {
    md << "| " << slicenav::prealign_method_name(kMethods[m]) << " | " << bench::cell(whole[m], 0) << " | "
       << (whole[m].median_ms <= kGoalMs ? "met" : "**not met**") << " | " << verdict(phantom_result[m]) << " |\n";
  }
  if (!across_full.empty()) {
    md << "\nAcross patients auto takes its longest path: the embedding match, then the key slices. Time of that "
          "path on the two patients of the real pairs above (`lidc_0002`, `ricord_419639-000082`), every slice "
          "bilinearly resampled onto "
       << kFullMatrix << " x " << kFullMatrix << " pixels over the same field of view (" << across_full_slices[0]
       << " and " << across_full_slices[1] << " slices, as a scanner stores them), against the same goal:\n\n"
       << "| method | ms | goal | answer, mm |\n|---|---:|---|---:|\n";
    for (const auto& t : across_full) {
      md << "| " << slicenav::prealign_method_name(t.method) << " | " << bench::cell(t.time, 0) << " | "
         << (t.time.median_ms <= kGoalMs ? "met" : "**not met**") << " | " << verdict(t.result) << " ("
         << slicenav::prealign_method_name(t.result.method) << ") |\n";
    }
  }
  const std::string section = md.str();
  std::cout << section;
  if (!s.markdown.empty()) bench::replace_markdown_section(s.markdown, kHeading, section);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "z-prealignment with the bundled model: accuracy of the seven methods on held-out real scans, their "
      "verdicts on scans with no common anatomy, the real pairs, and their time",
      "slicenav_prealign_benchmark"};
  Settings s;
  app.add_option("--pairs", s.pairs,
                 "Sub-volume pairs of the seed paper's protocol (default " + std::to_string(s.pairs) + ")")
      ->transform(bench::at_least(1));
  app.add_option("--seed", s.seed, "Seed of the sub-volume choice (default " + std::to_string(s.seed) + ")")
      ->transform(bench::at_least<std::uint64_t>(0));
  bench::add_timing_options(app, s.runs, s.threads);
  bench::add_model_option(app, s.model_path, "the bundled model, slicenav::default_model_path()");
  bench::add_markdown_option(app, s.markdown, kHeading);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "slicenav_prealign_benchmark: " << e.what() << "\n";
    return 1;
  }
}
