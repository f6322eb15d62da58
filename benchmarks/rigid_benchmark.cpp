// Rigid prealignment (rigid.hpp) with the bundled model: rotation and centre error on real held-out scans
// moved by known rotations and shifts, its verdicts on scans with no common anatomy and on rotations beyond
// its range, and its time.
//
//   slicenav_rigid_benchmark [--motions N] [--seed S] [--runs N] [--threads N] [--model FILE]
//                            [--markdown docs/benchmarks.md]
//
// 1. Known motions: every body-trunk scan of set "ct" in <data>/cases.tsv that is not among the model's
//    training cases is the fixed scan; the moving scan is the same scan with every world position p moved
//    to R (p - c) + c + t, c its centre, R = Rz Rx Ry with the angle about z (yaw) uniform in +-15 degrees
//    and those about x and y (tilt) in +-10, t uniform in +-50 mm in x and y and +-100 mm in z (--motions
//    per scan, one seeded generator). Two versions of each moving scan: the same voxels with the moved
//    geometry (an oblique grid), and those resampled onto an axis-aligned grid of 1.7 mm (trilinear), as a
//    scanner would store a rotated patient: the voxels then differ from the fixed scan's. The rotation error
//    is the angle of R_fit^T R_true; the centre error the distance between where the two transforms put c.
//    A failure is a rotation error over 2 degrees or a centre error over 5 mm.
// 2. Beyond the range: the same scans turned by 40 degrees about z: the answer must not be confident.
// 3. No common anatomy: each extremity crop (set "ood") against each held-out chest scan; each held-out
//    head-and-neck case (set "hn") against each held-out abdominal scan.
// 4. Time, with --threads (default 2): two loaded 512 x 512 x 300 phantoms, the second moved by 10 degrees
//    about z.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "harness.hpp"
#include "markdown_section.hpp"
#include "options.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/rigid.hpp"
#include "stats.hpp"
#include "test_data.hpp"
#include "volume_variants.hpp"

namespace {

namespace fs = std::filesystem;
namespace bench = slicenav::bench;
using bench::fixed;
using slicenav::Model;
using slicenav::RigidPrealignment;
using slicenav::Vec3;
using slicenav::Volume;

const char* const kHeading = "## Rigid prealignment";
constexpr double kDeg = M_PI / 180.0;
constexpr double kMaxRotationErrorDeg = 2.0, kMaxCentreErrorMm = 5.0;
constexpr double kLowConfidence = 0.3;
constexpr double kGoalMs = 2000.0;
// Not a divisor of the voxel network's 4 mm grid, so its samples fall between the stored ones.
constexpr double kAxisAlignedMm = 1.7;

struct Settings {
  int motions = 4;
  std::uint64_t seed = 7;
  int runs = 3;
  int threads = 2;
  std::string model_path, markdown;
};

struct Scan {
  std::string case_id, region;
  Volume volume;
};

// A volume's voxels resampled onto the axis-aligned grid of `spacing` that covers it.
Volume axis_aligned(const Volume& v, double spacing) {
  const slicenav::WorldGrid g = slicenav::resample_to_world_grid(v, spacing);
  slicenav::Geometry geometry;
  geometry.size = g.size;
  geometry.spacing = {spacing, spacing, spacing};
  geometry.origin = g.origin;
  return Volume(geometry, g.values);
}

struct Stats {
  std::vector<double> rotation_deg, centre_mm, ms;
  std::size_t failures = 0, not_shared = 0, confident_failures = 0;
};

int run(const Settings& s) {
  slicenav::set_inference_threads(s.threads);
  const Model model = Model::load(s.model_path.empty() ? slicenav::default_model_path() : s.model_path);
  if (!model.has_voxel_network()) {
    std::cerr << "slicenav_rigid_benchmark: the model holds no voxel network\n";
    return 1;
  }
  std::ostringstream md;
  md << kHeading << "\n\n";
  md << "Rigid 3D prealignment (`slicenav/rigid.hpp`, `slicenav prealign --rigid`, `docs/prealign.md`) with the "
        "bundled model's voxel embedding: rotation and centre error on real held-out scans moved by known "
        "rotations and shifts, its verdicts on rotations beyond its range and on scans with no common anatomy, "
        "and its time. Measured on "
     << bench::today_utc() << ".\n\n";
  md << "- Machine: " << bench::machine_description() << "; " << bench::compiler() << ", " << SLICENAV_BUILD_TYPE
     << " build; " << s.threads << " inference threads; run under `nice`.\n";
  md << "- Command: `slicenav_rigid_benchmark --motions " << s.motions << " --seed " << s.seed << " --runs " << s.runs
     << " --threads " << s.threads << " --markdown docs/benchmarks.md` (build with `-DSLICENAV_BENCHMARKS=ON`).\n";

  const auto training = slicenav::training::model_training_cases(model);
  std::vector<Scan> trunk, hn, ood;
  const std::string data = slicenav::test::data_dir();
  if (!data.empty()) {
    for (const auto& info : slicenav::training::read_cases(data, {"ct", "hn", "ood"})) {
      if (training.count(info.case_id) != 0) continue;
      const fs::path file = fs::path(info.path) / "ct.nii.gz";
      if (!fs::exists(file)) continue;
      Scan scan{info.case_id, info.region, slicenav::read_volume(file.string())};
      (info.set == "ct" ? trunk : info.set == "hn" ? hn : ood).push_back(std::move(scan));
    }
  }

  // ---- 1. Known motions ----
  std::mt19937_64 rng(s.seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Stats oblique, aligned;
  const auto evaluate = [&](Stats& st, const std::string& label, const Volume& fixed_v, const Volume& moving_v,
                            const Vec3& euler_true, const Vec3& c, const Vec3& t) {
    RigidPrealignment r;
    const bench::Timing time = bench::time_calls(1, [&] { r = slicenav::prealign_rigid(model, fixed_v, moving_v); });
    const double rotation = slicenav::test::rotation_error_deg(slicenav::rotation_matrix(r.transform.rotation_rad),
                                                               slicenav::rotation_matrix(euler_true));
    slicenav::RigidTransform truth;
    truth.rotation_rad = euler_true;
    truth.centre_mm = c;
    truth.translation_mm = t;
    const double centre =
        slicenav::test::distance(slicenav::test::transformed(r.transform, c), slicenav::test::transformed(truth, c));
    st.rotation_deg.push_back(rotation);
    st.centre_mm.push_back(centre);
    st.ms.push_back(time.median_ms);
    const bool failure = rotation > kMaxRotationErrorDeg || centre > kMaxCentreErrorMm;
    if (failure) ++st.failures;
    if (!r.shared_anatomy) ++st.not_shared;
    if (failure && r.shared_anatomy && r.confidence >= kLowConfidence) ++st.confident_failures;
    std::cerr << label << ": rotation error " << fixed(rotation, 2) << " deg, centre error " << fixed(centre, 2)
              << " mm, confidence " << fixed(r.confidence, 2) << ", " << r.inliers << " of " << r.consistent
              << " matches, " << fixed(time.median_ms, 0) << " ms\n";
  };
  for (const auto& scan : trunk) {
    const Vec3 c = slicenav::test::grid_centre(scan.volume);
    for (int k = 0; k < s.motions; ++k) {
      const Vec3 euler{u(rng) * 10.0 * kDeg, u(rng) * 10.0 * kDeg, u(rng) * 15.0 * kDeg};
      const Vec3 t{u(rng) * 50.0, u(rng) * 50.0, u(rng) * 100.0};
      const Volume moving = slicenav::test::rigidly_moved(scan.volume, euler, c, t);
      const std::string label = scan.case_id + " (" + fixed(euler[0] / kDeg, 1) + ", " + fixed(euler[1] / kDeg, 1) +
                                ", " + fixed(euler[2] / kDeg, 1) + ") deg";
      evaluate(oblique, label + " oblique grid", scan.volume, moving, euler, c, t);
      evaluate(aligned, label + " axis-aligned", scan.volume, axis_aligned(moving, kAxisAlignedMm), euler, c, t);
    }
  }

  // ---- 2. Beyond the range ----
  std::size_t beyond = 0, beyond_confident = 0;
  double beyond_max_confidence = 0;
  for (const auto& scan : trunk) {
    const Vec3 c = slicenav::test::grid_centre(scan.volume);
    const RigidPrealignment r = slicenav::prealign_rigid(
        model, scan.volume, slicenav::test::rigidly_moved(scan.volume, {0.0, 0.0, 40.0 * kDeg}, c, {0.0, 0.0, 0.0}));
    ++beyond;
    if (r.shared_anatomy && r.confidence >= kLowConfidence) ++beyond_confident;
    beyond_max_confidence = std::max(beyond_max_confidence, r.confidence);
    std::cerr << "beyond range " << scan.case_id << ": rotation z " << fixed(r.transform.rotation_rad[2] / kDeg, 1)
              << " deg, confidence " << fixed(r.confidence, 2) << " " << r.note << "\n";
  }

  // ---- 3. No common anatomy ----
  std::size_t negatives = 0, said_shared = 0, confident = 0;
  double max_confidence = 0;
  const auto negative = [&](const std::string& name, const Volume& a, const Volume& b) {
    const RigidPrealignment r = slicenav::prealign_rigid(model, a, b);
    ++negatives;
    if (r.shared_anatomy) ++said_shared;
    if (r.shared_anatomy && r.confidence >= kLowConfidence) ++confident;
    max_confidence = std::max(max_confidence, r.confidence);
    std::cerr << "negative " << name << ": " << r.inliers << " of " << r.consistent << ", confidence "
              << fixed(r.confidence, 2) << "\n";
  };
  for (const auto& o : ood) {
    for (const auto& c : trunk) {
      if (c.region == "chest") negative(o.case_id + " into " + c.case_id, c.volume, o.volume);
    }
  }
  for (const auto& h : hn) {
    for (const auto& a : trunk) {
      if (a.region == "abdomen" || a.region == "abdomen-pelvis")
        negative(h.case_id + " into " + a.case_id, a.volume, h.volume);
    }
  }

  // ---- 4. Time ----
  const slicenav::Phantom pa = bench::trunk_phantom(40.0, 1);
  const Vec3 pc = slicenav::test::grid_centre(pa.volume);
  const Volume pb = slicenav::test::rigidly_moved(pa.volume, {0.0, 0.0, 10.0 * kDeg}, pc, {10.0, -5.0, 30.0});
  RigidPrealignment phantom_result;
  const bench::Timing whole =
      bench::time_calls(s.runs, [&] { phantom_result = slicenav::prealign_rigid(model, pa.volume, pb); });

  // ---- Report ----
  if (!trunk.empty()) {
    md << "- Held-out trunk scans (not in the model's `training_cases`):";
    for (const auto& c : trunk) md << " `" << c.case_id << "`";
    md << "; " << s.motions
       << " motions each: yaw uniform in +-15 degrees, tilt about x and y in +-10, shift in "
          "+-50 mm (x, y) and +-100 mm (z), about the scan's centre. The moving scan is the same voxels with the "
          "moved geometry (an oblique grid), and those resampled onto an axis-aligned "
       << fixed(kAxisAlignedMm, 1)
       << " mm grid (trilinear), as a scanner stores a rotated patient. Rotation error: the angle of R_fit^T "
          "R_true; centre error: the distance between where the fitted and the true transform put the scan's "
          "centre. A failure is over "
       << fixed(kMaxRotationErrorDeg, 0) << " degrees or over " << fixed(kMaxCentreErrorMm, 0)
       << " mm (the goal); a confident failure one answered with shared anatomy and confidence >= "
       << fixed(kLowConfidence, 1) << ".\n\n";
    md << "| moving scan | pairs | rotation error, median / 95th / max, deg | centre error, median / 95th / max, mm | "
          "failures | confident failures | said not shared | time, median ms "
          "|\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& [name, st] : {std::pair<const char*, const Stats*>{"same voxels, oblique grid", &oblique},
                                   {"resampled onto an axis-aligned grid", &aligned}}) {
      using slicenav::stats::median;
      using slicenav::stats::quantile;
      md << "| " << name << " | " << st->rotation_deg.size() << " | " << fixed(median(st->rotation_deg), 2) << " / "
         << fixed(quantile(st->rotation_deg, 0.95), 2) << " / "
         << fixed(*std::max_element(st->rotation_deg.begin(), st->rotation_deg.end()), 2) << " | "
         << fixed(median(st->centre_mm), 2) << " / " << fixed(quantile(st->centre_mm, 0.95), 2) << " / "
         << fixed(*std::max_element(st->centre_mm.begin(), st->centre_mm.end()), 2) << " | " << st->failures << " | "
         << st->confident_failures << " | " << st->not_shared << " | " << fixed(median(st->ms), 0) << " |\n";
    }
    md << "\nBeyond the range (each scan turned by 40 degrees about z, where the embedding was trained to 25): "
       << beyond_confident << " of " << beyond << " answers confident (>= " << fixed(kLowConfidence, 1)
       << "); highest confidence " << fixed(beyond_max_confidence, 2) << ".\n";
    md << "\nNo common anatomy (extremity crops against held-out chest scans, head-and-neck crops against held-out "
          "abdominal scans): "
       << said_shared << " of " << negatives << " said shared, " << confident
       << " with confidence >= " << fixed(kLowConfidence, 1) << "; highest confidence " << fixed(max_confidence, 2)
       << ".\n";
  } else {
    md << "\nAccuracy skipped: no data directory (set SLICENAV_DATA or place the data in ../shared/data).\n";
  }
  md << "\nTime with " << s.threads
     << " threads: the whole `prealign_rigid` of two loaded 512 x 512 x 300 phantoms "
        "(0.8 x 0.8 x 1 mm; the second turned by 10 degrees about z), everything after reading the files: "
     << bench::cell(whole, 0) << " ms against the goal of " << fixed(kGoalMs, 0) << " ms ("
     << (whole.median_ms <= kGoalMs ? "met" : "**not met**") << "). The phantom is synthetic anatomy, so its answer ("
     << fixed(phantom_result.transform.rotation_rad[2] / kDeg, 1)
     << " degrees about z) measures nothing; the times of the real pairs are in the table above.\n";
  const std::string section = md.str();
  std::cout << section;
  if (!s.markdown.empty()) bench::replace_markdown_section(s.markdown, kHeading, section);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Rigid prealignment with the bundled model: rotation and centre error on held-out real scans moved by "
      "known rotations, its verdicts beyond its range and without common anatomy, and its time",
      "slicenav_rigid_benchmark"};
  Settings s;
  app.add_option("--motions", s.motions, "Known motions per held-out scan (default 4)")->transform(bench::at_least(1));
  app.add_option("--seed", s.seed, "Seed of the motions (default 7)")->transform(bench::at_least<std::uint64_t>(0));
  bench::add_timing_options(app, s.runs, s.threads);
  bench::add_model_option(app, s.model_path, "the bundled model, slicenav::default_model_path()");
  bench::add_markdown_option(app, s.markdown, kHeading);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "slicenav_rigid_benchmark: " << e.what() << "\n";
    return 1;
  }
}
