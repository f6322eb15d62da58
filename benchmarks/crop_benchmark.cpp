// ROI cropping: calibrates each region's crop margins on the bundled model's training cases, reports recall
// and volume ratio on the held-out cases, and times the crop decision. Writes the "Cropping" section of
// docs/benchmarks.md (see docs/crop.md for how the margins are used).
//
//   slicenav_crop_benchmark [--runs N] [--threads N] [--markdown docs/benchmarks.md]
//
// Calibration: for every real ct case of the model's training split, the model with the templates of that
// case's patient removed (so a case never finds itself), every region end is located with superior and
// inferior margins of 0..200 atlas mm; a margin suffices for a truth when the crop's end slice lies at or
// beyond it. Truths: the z-extent of every organ mask of the region in the case (masks/*.nii.gz) and the
// region's organ landmarks (landmarks.json, manual_landmarks.json). The chosen margin is the largest
// sufficient margin over the training truths plus 10 mm, at least 50 mm; a region without training truths
// gets the largest margin chosen for another region.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "harness.hpp"
#include "markdown_section.hpp"
#include "options.hpp"
#include "slicenav/anatomy.hpp"
#include "slicenav/ape.hpp"
#include "slicenav/crop.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/navigation.hpp"
#include "test_data.hpp"

namespace slicenav::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What a region must hold: organ masks (names in ../shared/data masks/) and landmarks at its top and bottom.
struct RegionTruth {
  std::string region;
  std::vector<std::string> masks;
  std::vector<std::string> top_landmarks, bottom_landmarks;
};

const std::vector<RegionTruth> kTruths{
    {"lungs", {"lung_left", "lung_right"}, {"lung_apex"}, {"lung_base"}},
    {"heart", {"heart"}, {"heart_top"}, {"heart_bottom"}},
    {"liver", {"liver"}, {"liver_dome"}, {"liver_lower_end"}},
    {"kidneys", {"kidney_left", "kidney_right"}, {}, {"kidney_lower_end"}},
    {"abdomen", {"liver", "spleen", "kidney_left", "kidney_right", "pancreas"}, {"liver_dome"}, {"kidney_lower_end"}},
    {"pelvis",
     {"urinary_bladder", "prostate", "rectum", "femur_left", "femur_right"},
     {"urinary_bladder_top", "femur_head_top"},
     {"femur_head_top"}},
    {"head-neck", {}, {"skull_base", "c7"}, {"c7"}},
};

const char* const kHeading = "## Cropping";
constexpr double kMaxMargin = 200.0, kMarginStep = 10.0;
// No margin is below the navigation model's largest held-out landmark error (about 50 mm, docs/benchmarks.md
// "Navigation"): a few training truths per region cannot show the tail of that error.
constexpr double kMinMargin = 50.0;
// Slices of the long scans the organ crop and the APE map are also timed on.
constexpr std::size_t kLongSlices = 1500;

struct Truth {
  std::string what;  // "mask liver" or "landmark liver_dome"
  bool top = true;   // a superior extent (the crop must reach up to it) or an inferior one
  double z_mm = 0;
};

struct Loaded {
  std::string id, patient;
  bool training = false;
  Volume ct;
  std::map<std::string, Volume> masks;  // those present
  std::vector<Landmark> landmarks;
};

std::vector<Truth> truths_of(const Loaded& c, const RegionTruth& r) {
  std::vector<Truth> out;
  for (const auto& name : r.masks) {
    const auto m = c.masks.find(name);
    if (m == c.masks.end()) continue;
    const Geometry& g = m->second.geometry();
    double top = -std::numeric_limits<double>::infinity(), bottom = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < g.size[2]; ++k) {
      bool any = false;
      for (std::size_t j = 0; j < g.size[1] && !any; ++j) {
        for (std::size_t i = 0; i < g.size[0] && !any; ++i) any = m->second.at(i, j, k) > 0.5f;
      }
      if (!any) continue;
      const double z = g.index_to_world({0, 0, static_cast<double>(k)})[2];
      top = std::max(top, z);
      bottom = std::min(bottom, z);
    }
    if (!std::isfinite(top)) continue;
    out.push_back({"mask " + name, true, top});
    out.push_back({"mask " + name, false, bottom});
  }
  for (const auto& l : c.landmarks) {
    for (const auto& n : r.top_landmarks)
      if (l.name == n) out.push_back({"landmark " + n, true, l.z_mm});
    for (const auto& n : r.bottom_landmarks)
      if (l.name == n) out.push_back({"landmark " + n, false, l.z_mm});
  }
  return out;
}

// The smallest margin of the grid whose located crop end reaches the truth; +inf when none does.
double needed_margin(const PreparedScan& scan, const std::vector<LocatedLandmark>& located, const Truth& t) {
  const double truth_slice = std::round(scan.mapping.canonical_slice_at_z(t.z_mm));
  for (std::size_t n = 0; n < located.size(); ++n) {
    const auto& p = located[n].position;
    using W = InsertedSlice::Where;
    bool reaches = false;
    if (t.top) {
      reaches = p.where == W::above || (p.where == W::inside && std::floor(p.canonical_slice) <= truth_slice);
    } else {
      reaches = p.where == W::below || (p.where == W::inside && std::ceil(p.canonical_slice) >= truth_slice);
    }
    if (reaches) return static_cast<double>(n) * kMarginStep;
  }
  return std::numeric_limits<double>::infinity();
}

std::string margin_text(double m) { return std::isfinite(m) ? fixed(m, 0) : "> " + fixed(kMaxMargin, 0); }

struct Settings {
  int runs = 3;
  int threads = 2;
  std::string markdown;
};

int run(const Settings& s) {
  const std::string machine = machine_description();
  const std::string data = test::data_dir();
  if (data.empty()) {
    std::cerr << "crop benchmark: no data (set SLICENAV_DATA or place it in ../shared/data)\n";
    return 1;
  }
  set_inference_threads(s.threads);
  const std::string model_path = default_model_path();
  const Model bundled = Model::load(model_path);
  const std::set<std::string> training_set = training::model_training_cases(bundled);

  // ---- Cases -------------------------------------------------------------------------------------------
  std::vector<Loaded> cases;
  for (const auto& info : training::read_cases(data, {"ct"})) {
    Loaded c;
    c.id = info.case_id;
    c.patient = info.patient_key;
    c.training = training_set.count(info.case_id) > 0;
    c.ct = read_volume(info.path + "/ct.nii.gz");
    if (fs::is_directory(info.path + "/masks")) {
      for (const auto& e : fs::directory_iterator(info.path + "/masks")) {
        std::string name = e.path().filename().string();
        name = name.substr(0, name.find('.'));
        c.masks.emplace(name, read_volume(e.path().string()));
      }
    }
    c.landmarks = read_case_landmarks(info.path);
    cases.push_back(std::move(c));
  }
  std::map<std::string, std::string> patient_of;
  for (const auto& c : cases) patient_of[c.id] = c.patient;

  // ---- Calibration on the training split --------------------------------------------------------------
  struct Need {
    std::string case_id, what;
    bool top;
    double margin;
  };
  std::map<std::string, std::vector<Need>> needs;  // region -> training truths
  std::vector<std::string> unrecognised_training;
  for (const auto& c : cases) {
    if (!c.training) continue;
    Model model = Model::load(model_path);  // its own copy: the templates change
    std::vector<Template> others;
    for (const auto& t : bundled.templates()) {
      if (patient_of.count(t.name) == 0 || patient_of[t.name] != c.patient) others.push_back(t);
    }
    model.set_templates(others, bundled.atlas());
    const PreparedScan scan = prepare_scan(model, c.ct);
    if (!recognise(scan).recognised) {
      unrecognised_training.push_back(c.id);
      continue;
    }
    for (const auto& rt : kTruths) {
      const auto truths = truths_of(c, rt);
      if (truths.empty()) continue;
      const Region region = find_region(model, rt.region);
      const double sup = model.atlas().position_mm.at(region.superior_landmark) + region.superior_offset_mm;
      const double inf = model.atlas().position_mm.at(region.inferior_landmark) + region.inferior_offset_mm;
      std::vector<std::pair<std::string, double>> positions;
      for (double m = 0; m <= kMaxMargin; m += kMarginStep) positions.push_back({"top", sup + m});
      for (double m = 0; m <= kMaxMargin; m += kMarginStep) positions.push_back({"bottom", inf - m});
      const auto located = locate_region_positions(model, scan, positions);
      const std::size_t half = located.size() / 2;
      const std::vector<LocatedLandmark> tops(located.begin(), located.begin() + static_cast<std::ptrdiff_t>(half));
      const std::vector<LocatedLandmark> bottoms(located.begin() + static_cast<std::ptrdiff_t>(half), located.end());
      for (const auto& t : truths) {
        needs[rt.region].push_back({c.id, t.what, t.top, needed_margin(scan, t.top ? tops : bottoms, t)});
      }
    }
    std::cerr << "calibrated on " << c.id << "\n";
  }
  struct Margins {
    double superior = 0, inferior = 0;
    bool calibrated = false;
    double needed_sup = 0, needed_inf = 0;
    std::size_t truths = 0;
    std::set<std::string> cases;
  };
  std::map<std::string, Margins> chosen;
  double largest = 0;
  for (const auto& rt : kTruths) {
    Margins m;
    for (const auto& n : needs[rt.region]) {
      (n.top ? m.needed_sup : m.needed_inf) = std::max(n.top ? m.needed_sup : m.needed_inf, n.margin);
      ++m.truths;
      m.cases.insert(n.case_id);
    }
    m.calibrated = m.truths > 0;
    const auto pick = [](double needed) {
      return std::max(kMinMargin, (std::isfinite(needed) ? needed : kMaxMargin) + 10.0);
    };
    m.superior = pick(m.needed_sup);
    m.inferior = pick(m.needed_inf);
    if (m.calibrated) largest = std::max({largest, m.superior, m.inferior});
    chosen[rt.region] = m;
  }
  for (auto& [name, m] : chosen) {
    if (!m.calibrated) m.superior = m.inferior = largest;
  }

  // ---- Evaluation with the chosen margins ---------------------------------------------------------------
  Model evaluated = Model::load(model_path);
  json regions_json = json::array();
  for (const Region& r : regions(bundled)) {
    regions_json.push_back({{"name", r.name},
                            {"description", r.description},
                            {"superior_landmark", r.superior_landmark},
                            {"superior_offset_mm", r.superior_offset_mm},
                            {"inferior_landmark", r.inferior_landmark},
                            {"inferior_offset_mm", r.inferior_offset_mm},
                            {"crop_superior_margin_mm", chosen[r.name].superior},
                            {"crop_inferior_margin_mm", chosen[r.name].inferior},
                            {"crop_in_plane_margin_mm", r.crop_in_plane_margin_mm},
                            {"crop_unrecognised_keeps_all_slices", r.crop_unrecognised_keeps_all_slices}});
  }
  evaluated.set_metadata_section("regions", regions_json.dump());
  std::ostringstream eval_rows;
  std::map<std::string, std::vector<double>> held_out_ratio;
  for (const auto& c : cases) {
    if (c.training) continue;
    const PreparedScan scan = prepare_scan(evaluated, c.ct);
    for (const auto& rt : kTruths) {
      const auto truths = truths_of(c, rt);
      if (truths.empty()) continue;
      std::string status, recalls, ends, ratio = "-";
      try {
        const CropRecord rec = plan_crop(evaluated, scan, c.ct, rt.region);
        status = rec.coverage;
        ratio = fixed(rec.volume_ratio(), 2);
        held_out_ratio[rt.region].push_back(rec.volume_ratio());
        for (const auto& name : rt.masks) {
          if (c.masks.count(name))
            recalls += (recalls.empty() ? "" : ", ") + name + " " + fixed(crop_recall(rec, c.masks.at(name)), 3);
        }
        std::size_t covered = 0, total = 0;
        const Geometry cg = rec.cropped();
        const double z_a = cg.origin[2];
        const double z_b = cg.index_to_world({static_cast<double>(cg.size[0]) - 1, static_cast<double>(cg.size[1]) - 1,
                                              static_cast<double>(cg.size[2]) - 1})[2];
        const double half = scan.mapping.slice_step_mm() / 2;
        for (const auto& t : truths) {
          if (t.what.rfind("landmark", 0) != 0) continue;
          ++total;
          covered += t.z_mm >= std::min(z_a, z_b) - half && t.z_mm <= std::max(z_a, z_b) + half;
        }
        ends = total ? std::to_string(covered) + " / " + std::to_string(total) : "-";
      } catch (const Error& e) {
        status = std::string("refused: ") + e.what();
        ends = "-";
      }
      eval_rows << "| " << rt.region << " | " << c.id << " | " << status << " | " << (recalls.empty() ? "-" : recalls)
                << " | " << ends << " | " << ratio << " |\n";
    }
  }

  // ---- Timing: the crop decision on a 512 x 512 x 300 phantom --------------------------------------------
  const Phantom big = trunk_phantom(40.0, 1);
  const Timing whole = time_calls(s.runs, [&] { plan_crop(bundled, big.volume, "liver"); });
  // As plan_crop prepares it: without the image measurements.
  const PreparedScan big_scan = prepare_scan(bundled, big.volume, kWithoutMeasurement);
  const Timing prepare = time_calls(s.runs, [&] { prepare_scan(bundled, big.volume, kWithoutMeasurement); });
  const Timing after = time_calls(s.runs, [&] { plan_crop(bundled, big_scan, big.volume, "liver"); });
  const CanonicalView big_view(big.volume, big_scan.mapping);
  const Timing body = time_calls(s.runs, [&] { body_in_plane_box(big_view, 0, big_scan.slice_count() - 1, 10.0); });
  // An organ crop adds the APE map, the retrieval of its templates and of its region's other organs until one
  // corroborates it. The phantom shows none of the bundled model's organs, so the organ with the most
  // templates is timed as if its region were the heart (wholly in the phantom; its edges searched for in the
  // heart's crop) and found, with every other organ of the model in the heart too and never found, so each
  // is searched: the cost of a whole organ crop decision at its slowest, not a box.
  const std::vector<ApeOrgan> organs = ape_organs(bundled);
  const auto most = std::max_element(organs.begin(), organs.end(), [](const ApeOrgan& a, const ApeOrgan& b) {
    return a.templates.size() < b.templates.size();
  });
  const Timing map = time_calls(s.runs, [&] { ape_map(bundled, big.volume); });
  const ApeMap big_map = ape_map(bundled, big.volume);
  const Timing retrieval = time_calls(s.runs, [&] {
    if (most != organs.end()) ape_organ_box(*most, big_map);
  });
  Timing organ_whole{}, organ_after{}, long_map{}, long_region{}, long_scan{};
  if (most != organs.end()) {
    Model organ_model = bundled;
    std::vector<ApeOrgan> in_heart = organs;
    const auto timed_index = static_cast<std::size_t>(most - organs.begin());
    for (std::size_t k = 0; k < in_heart.size(); ++k) {
      in_heart[k].region = "heart";
      in_heart[k].search_region = true;
      in_heart[k].max_distance = k == timed_index ? 1e9 : 0.0;
    }
    ApeOrgan& timed = in_heart[timed_index];
    organ_model.set_metadata_section("ape_organs", ape_organs_to_json(in_heart));
    // The decision timed is the slowest: the organ found, and every other organ searched for in vain.
    const auto check_slowest = [&](const Volume& v) {
      const CropRecord r = plan_crop(organ_model, v, timed.name);
      if (r.partial || r.ape.note.find("other organs") == std::string::npos) {
        fail(Status::internal, "the organ crop timed is not the slowest decision: " + r.ape.note);
      }
    };
    check_slowest(big.volume);
    organ_whole = time_calls(s.runs, [&] { plan_crop(organ_model, big.volume, timed.name); });
    organ_after = time_calls(s.runs, [&] { plan_crop(organ_model, big_scan, big.volume, timed.name); });
    // The APE map covers the whole scan, whatever the organ, so it and a whole-scan search grow with the scan's
    // length, a region search with the region's crop only. Long scans: 1,500 slices of 0.5 mm (the phantom's
    // anatomy, neck to thighs, is 0.7 m long: the slice network recognises nothing in a longer one), and the
    // map alone on 1,500 slices of 1 mm (1.5 m, a whole body's length).
    PhantomOptions long_options;
    long_options.size = {512, 512, kLongSlices};
    long_options.spacing = {0.8, 0.8, 0.5};
    {
      const Phantom long_phantom = make_phantom(long_options);
      check_slowest(long_phantom.volume);
      long_region = time_calls(s.runs, [&] { plan_crop(organ_model, long_phantom.volume, timed.name); });
      timed.search_region = false;
      organ_model.set_metadata_section("ape_organs", ape_organs_to_json(in_heart));
      long_scan = time_calls(s.runs, [&] { plan_crop(organ_model, long_phantom.volume, timed.name); });
    }
    long_options.spacing[2] = 1.0;
    const Phantom whole_body = make_phantom(long_options);
    long_map = time_calls(s.runs, [&] { ape_map(bundled, whole_body.volume); });
  }

  // ---- Report ------------------------------------------------------------------------------------------
  std::ostringstream md;
  md << kHeading << "\n\n"
     << "ROI cropping (`slicenav/crop.hpp`, docs/crop.md): crop margins calibrated on the bundled model's "
        "training split, recall and volume ratio on held-out cases, and the time of the crop decision. Measured on "
     << today_utc() << ".\n\n"
     << "- Machine: " << machine << "; run under `nice`.\n"
     << "- Build: " << SLICENAV_BUILD_TYPE << ", " << compiler() << ", LibTorch " << SLICENAV_TORCH_VERSION
     << " (CPU); " << s.threads << " intra-op threads.\n"
     << "- Model: `models/default.snm`; training split = its metadata's `training.training_cases`, held-out = the "
        "other cases of set ct in `../shared/data/cases.tsv`.\n"
     << "- Calibration: each training case is located by the model with the templates of its own patient removed. "
        "Every region end is located with margins of 0 to "
     << fixed(kMaxMargin, 0) << " atlas mm in steps of " << fixed(kMarginStep, 0)
     << "; a margin suffices for a truth when the crop's end slice lies at or beyond the truth's "
        "slice. Truths: the top and bottom slices of each organ mask of the region (`masks/`), and the region's organ "
        "landmarks (`landmarks.json`, `manual_landmarks.json`). Chosen margin = the largest sufficient margin over the "
        "training truths + 10 mm, at least 50 mm (the navigation model's largest held-out landmark error, section "
        "Navigation). These margins are the bundled regions table's "
        "(`core/src/navigation.cpp`).\n"
     << "- Held-out: recall = fraction of an organ mask's voxels inside the 3D box (in-plane crop included); ends = "
        "region landmarks inside the box's z range; volume ratio = original voxels / cropped voxels.\n"
     << "- Timing: `make_phantom` 512 x 512 x 300 (0.8 x 0.8 x 1.0 mm), region liver, in memory (no file I/O); one "
        "untimed warm-up, median of "
     << s.runs << " [min-max].\n\n"
     << "To reproduce (from the repository root):\n\n```sh\n"
     << "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLICENAV_BENCHMARKS=ON\n"
     << "cmake --build build --target slicenav_crop_benchmark\n"
     << "nice build/bin/slicenav_crop_benchmark --runs " << s.runs << " --threads " << s.threads
     << " --markdown docs/benchmarks.md\n```\n\n";
  md << "| region | training truths (cases) | sufficient superior, atlas mm | sufficient inferior, atlas mm | chosen "
        "superior | chosen inferior |\n|---|---|---:|---:|---:|---:|\n";
  for (const auto& rt : kTruths) {
    const Margins& m = chosen[rt.region];
    std::string cs;
    for (const auto& id : m.cases) cs += (cs.empty() ? "" : ", ") + id;
    md << "| " << rt.region << " | "
       << (m.calibrated ? std::to_string(m.truths) + " (" + cs + ")" : "none: not calibrated") << " | "
       << (m.calibrated ? margin_text(m.needed_sup) : "-") << " | " << (m.calibrated ? margin_text(m.needed_inf) : "-")
       << " | " << fixed(m.superior, 0) << " | " << fixed(m.inferior, 0) << " |\n";
  }
  md << "\nTraining truths per case (sufficient margin, atlas mm):\n\n| region | case | truth | end | sufficient "
        "|\n|---|---|---|---|---:|\n";
  for (const auto& rt : kTruths) {
    for (const auto& n : needs[rt.region]) {
      md << "| " << rt.region << " | " << n.case_id << " | " << n.what << " | " << (n.top ? "top" : "bottom") << " | "
         << margin_text(n.margin) << " |\n";
    }
  }
  if (!unrecognised_training.empty()) {
    md << "\nTraining cases the model does not recognise (no crop, not calibrated on):";
    for (const auto& id : unrecognised_training) md << " " << id;
    md << ".\n";
  }
  md << "\nHeld-out cases (chosen margins):\n\n| region | case | coverage | recall per mask | ends in box | volume "
        "ratio |\n"
        "|---|---|---|---|---|---:|\n"
     << eval_rows.str();
  md << "\n| crop decision, 512 x 512 x 300 | ms |\n|---|---:|\n"
     << "| `plan_crop` (prepare_scan, locate, body box) | " << cell(whole) << " |\n"
     << "| of which `prepare_scan` | " << cell(prepare) << " |\n"
     << "| `plan_crop` on a prepared scan (locate, body box) | " << cell(after) << " |\n"
     << "| of which `body_in_plane_box`, all 300 slices | " << cell(body) << " |\n"
     << "| organ crops add: `ape_map` (4 mm grid) | " << cell(map) << " |\n"
     << "| organ crops add: `ape_organ_box`, "
     << (most == organs.end() ? std::string("no organ in the model") : most->name + ", " + std::to_string(most->templates.size()) + " templates")
     << " | " << cell(retrieval) << " |\n";
  if (most != organs.end()) {
    md << "| organ crop, the " << most->name << " templates searched in the heart's crop, and the model's "
       << organs.size() - 1 << " other organs (none found): `plan_crop` (the whole decision) | "
       << cell(organ_whole) << " |\n"
       << "| the same on a prepared scan | " << cell(organ_after) << " |\n"
       << "| organ crop on 512 x 512 x " << kLongSlices
       << " (0.5 mm slices, 0.75 m), searched in the heart's crop: `plan_crop` | " << cell(long_region) << " |\n"
       << "| the same, searched over the whole scan | " << cell(long_scan) << " |\n"
       << "| `ape_map` alone on 512 x 512 x " << kLongSlices << " of 1 mm (1.5 m) | " << cell(long_map) << " |\n";
  }
  std::cout << md.str();
  if (!s.markdown.empty()) replace_markdown_section(s.markdown, kHeading, md.str());
  return 0;
}

}  // namespace
}  // namespace slicenav::bench

int main(int argc, char** argv) {
  namespace bench = slicenav::bench;
  CLI::App app{
      "ROI cropping: calibrates the regions' crop margins on the bundled model's training cases, reports "
      "recall and volume ratio on held-out cases, and times the crop decision",
      "slicenav_crop_benchmark"};
  bench::Settings s;
  bench::add_timing_options(app, s.runs, s.threads);
  bench::add_markdown_option(app, s.markdown, bench::kHeading);
  CLI11_PARSE(app, argc, argv);
  try {
    return bench::run(s);
  } catch (const std::exception& e) {
    std::cerr << "crop benchmark: " << e.what() << "\n";
    return 1;
  }
}
