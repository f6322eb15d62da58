// Whole-scan navigation: prepared scans, insertion of scans of any length and orientation, key slices
// from templates, coverage, recognition, and one model shared by many threads. Unit tests run a tiny
// fresh model on phantoms (behaviour, not accuracy); the real-data tests run the bundled model on
// held-out scans of ../shared/data and skip without it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <thread>

#include "model_fixtures.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/phantom.hpp"
#include "test_data.hpp"
#include "test_support.hpp"
#include "volume_variants.hpp"

namespace slicenav {
namespace {

using test::status_of;

Volume phantom(const std::string& orientation, std::size_t slices, double top_z_mm, double step_mm = 10.0) {
  return test::small_phantom(orientation, slices, top_z_mm, step_mm);
}

// A tiny fresh model with one template made from a phantom and its landmarks, and the phantom's atlas
// (lung apex = 0: the phantom's world z is already atlas mm).
Model model_with_template() {
  Model model(test::tiny_model_config(), 3);
  PhantomOptions o;
  o.size = {48, 40, 60};
  o.spacing = {10.0, 10.0, 10.0};
  o.top_z_mm = 50.0;
  const Phantom p = make_phantom(o);
  const PreparedScan scan = prepare_scan(model, p.volume);
  Template t;
  t.name = "phantom";
  t.slices = scan.slices.select(uniform_slices(scan.slice_count(), model.config().preprocess.max_slices));
  Atlas atlas;
  for (const auto& l : p.landmarks) {
    t.landmarks.push_back({l.name, l.world_z_mm});
    atlas.position_mm[l.name] = l.world_z_mm;
  }
  model.set_templates({t}, atlas);
  return model;
}

TEST(Navigation, PreparedScanHasEverySliceInCanonicalOrder) {
  const Model model(test::tiny_model_config(), 1);
  const PreparedScan scan = prepare_scan(model, phantom("LPS", 30, 40.0));
  ASSERT_EQ(scan.slice_count(), 30u);
  EXPECT_EQ(scan.slices.dim, 16u);
  EXPECT_EQ(scan.score.size(), 30u);
  EXPECT_DOUBLE_EQ(scan.slices.world_z_mm.front(), 40.0);
  EXPECT_DOUBLE_EQ(scan.slices.world_z_mm.back(), 40.0 - 29 * 10.0);
}

TEST(Navigation, ChunkedPreparationEqualsOneShotPreprocessing) {
  // 300 slices: more than one preparation chunk; one body centre for the whole scan.
  const Model model(test::tiny_model_config(), 1);
  PhantomOptions o;
  o.size = {32, 32, 300};
  o.spacing = {12.0, 12.0, 2.0};
  const Volume v = make_phantom(o).volume;
  const PreparedScan scan = prepare_scan(model, v);
  std::vector<std::size_t> all(300);
  std::iota(all.begin(), all.end(), std::size_t{0});
  const SliceEmbeddings direct = model.embed(preprocess(canonicalize(v), all, model.config().preprocess));
  ASSERT_EQ(direct.values.size(), scan.slices.values.size());
  for (std::size_t i = 0; i < direct.values.size(); ++i)
    ASSERT_NEAR(direct.values[i], scan.slices.values[i], 1e-5) << i;
}

TEST(Navigation, NonCtIntensitiesAreRejected) {
  const Model model(test::tiny_model_config(), 1);
  Geometry g;
  g.size = {16, 16, 8};
  g.spacing = {2.0, 2.0, 5.0};
  std::vector<float> voxels(g.voxel_count());
  for (std::size_t i = 0; i < voxels.size(); ++i) voxels[i] = static_cast<float>(i % 800);  // MR-like: 0..799
  const Volume mr(g, voxels);
  EXPECT_EQ(status_of([&] { prepare_scan(model, mr); }), Status::unsupported_input);
  try {
    prepare_scan(model, mr);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CT"), std::string::npos) << e.what();
  }
}

TEST(Navigation, InsertAnswersEveryQuerySliceOfALongScan) {
  // 100 query slices with max_slices 24: five interleaved passes; the target is sampled to 24 slots.
  const Model model(test::tiny_model_config(), 1);
  const PreparedScan query = prepare_scan(model, phantom("LPS", 100, 40.0, 4.0));
  const PreparedScan target = prepare_scan(model, phantom("LPS", 60, 0.0, 5.0));
  const Insertion ins = insert_scan(model, query, target, true);
  ASSERT_EQ(ins.slices.size(), 100u);
  ASSERT_EQ(ins.target_slots.size(), 24u);
  EXPECT_EQ(ins.target_slots.front(), 0u);
  EXPECT_EQ(ins.target_slots.back(), 59u);
  ASSERT_EQ(ins.distribution.size(), 100u * 26u);
  for (std::size_t k = 0; k < 100; ++k) {
    const float* row = &ins.distribution[k * 26];
    EXPECT_NEAR(std::accumulate(row, row + 26, 0.0), 1.0, 1e-4) << k;
    const SliceInsertion& s = ins.slices[k];
    EXPECT_DOUBLE_EQ(s.query_world_z_mm, 40.0 - 4.0 * static_cast<double>(k));
    EXPECT_GT(s.peak, 0.0f);
    if (s.target.where == InsertedSlice::Where::inside) {
      EXPECT_GE(s.target.canonical_slice, 0.0);
      EXPECT_LE(s.target.canonical_slice, 59.0);
      EXPECT_NEAR(s.target.world_z_mm, -5.0 * s.target.canonical_slice, 1e-9);
    }
  }
}

TEST(Navigation, OrientationOfTheFilesDoesNotChangeTheAnswers) {
  // The same anatomy stored LPS (slices ascending in z is reversed: k = 0 is superior) and RAI.
  const Model model(test::tiny_model_config(), 1);
  const PreparedScan q1 = prepare_scan(model, phantom("LPS", 20, 20.0));
  const PreparedScan q2 = prepare_scan(model, phantom("RAI", 20, 20.0));
  const PreparedScan target = prepare_scan(model, phantom("SLA", 24, 40.0));
  const Insertion a = insert_scan(model, q1, target);
  const Insertion b = insert_scan(model, q2, target);
  ASSERT_EQ(a.slices.size(), b.slices.size());
  for (std::size_t k = 0; k < a.slices.size(); ++k) {
    EXPECT_EQ(a.slices[k].target.where, b.slices[k].target.where);
    EXPECT_NEAR(a.slices[k].target.world_z_mm, b.slices[k].target.world_z_mm, 1e-3);
    EXPECT_NEAR(a.slices[k].peak, b.slices[k].peak, 1e-5);
    EXPECT_DOUBLE_EQ(a.slices[k].query_world_z_mm, b.slices[k].query_world_z_mm);
  }
  // Canonical slice 0 (most superior) is original slice 19 in LPS (index k runs to S) and 0 in RAI (to I).
  EXPECT_DOUBLE_EQ(a.slices[0].query_original_slice, 19.0);
  EXPECT_DOUBLE_EQ(b.slices[0].query_original_slice, 0.0);
}

TEST(Navigation, OneSliceAndTwoThousandSliceScansWork) {
  const Model model = model_with_template();
  const PreparedScan one = prepare_scan(model, phantom("LPS", 1, -100.0));
  PhantomOptions o;
  o.size = {16, 16, 2000};
  o.spacing = {30.0, 30.0, 0.5};
  o.top_z_mm = 300.0;
  const PreparedScan long_scan = prepare_scan(model, make_phantom(o).volume);
  EXPECT_EQ(insert_scan(model, one, long_scan).slices.size(), 1u);
  const Insertion into_one = insert_scan(model, long_scan, one);
  EXPECT_EQ(into_one.slices.size(), 2000u);
  EXPECT_EQ(into_one.target_slots.size(), 1u);
  EXPECT_FALSE(locate(model, one).empty());
  EXPECT_FALSE(locate(model, long_scan).empty());
}

TEST(Navigation, LocateReportsTheTemplatesLandmarksInAtlasOrder) {
  const Model model = model_with_template();
  const PreparedScan scan = prepare_scan(model, phantom("LPS", 50, 30.0));
  for (LocateMethod method : {LocateMethod::insertion, LocateMethod::score}) {
    const auto located = locate(model, scan, method);
    // The score method needs trained scores: a fresh model's may not rise superiorly, and then it shows none.
    if (method == LocateMethod::insertion) {
      ASSERT_FALSE(located.empty());
    }
    for (std::size_t i = 1; i < located.size(); ++i) EXPECT_GE(located[i - 1].atlas_mm, located[i].atlas_mm);
    for (const auto& l : located) {
      EXPECT_GT(l.votes, 0u) << l.name;
      EXPECT_GE(l.confidence, 0.0f);
      EXPECT_LE(l.confidence, 1.0f);
      if (l.position.where == InsertedSlice::Where::inside) {
        EXPECT_LE(l.position.world_z_mm, 30.0 + 5.0) << l.name;
        EXPECT_GE(l.position.world_z_mm, 30.0 - 49 * 10.0 - 5.0) << l.name;
      }
    }
  }
}

TEST(Navigation, PreparationMeasuresKeySlicesUnlessAskedNotTo) {
  const Model model(test::tiny_model_config(), 1);
  const Volume torso = make_phantom().volume;  // 4 x 4 x 5 mm, lung apex to thighs
  const PreparedScan measured = prepare_scan(model, torso);
  std::vector<std::string> names;
  for (const auto& m : measured.measured) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lung_apex", "carina", "lung_base", "femur_head_top"}));
  const PreparedScan plain = prepare_scan(model, torso, kWithoutMeasurement);
  EXPECT_TRUE(plain.measured.empty());
  EXPECT_EQ(plain.slices.values, measured.slices.values);
}

// A packed volume prepares to the same scan as its unpacked twin (rows flipped or not) and is never unpacked for
// it: its measured key slices and embeddings are read row by row from the packed voxels.
TEST(Navigation, PackedVolumesPrepareAsTheirTwinsWithoutUnpacking) {
  const Model model(test::tiny_model_config(), 1);
  for (const char* code : {"LPS", "RAS"}) {
    SCOPED_TRACE(code);
    PhantomOptions o;
    o.orientation = code;
    const Volume int16 = test::whole_hu_twins(make_phantom(o).volume).second;
    const Volume packed = pack_voxels(int16);
    const std::size_t bytes = packed.voxel_bytes();
    const PreparedScan a = prepare_scan(model, int16), b = prepare_scan(model, packed);
    EXPECT_EQ(b.slices.values, a.slices.values);
    EXPECT_EQ(b.score, a.score);
    ASSERT_EQ(b.measured.size(), 4u);
    ASSERT_EQ(b.measured.size(), a.measured.size());
    for (std::size_t m = 0; m < a.measured.size(); ++m) {
      EXPECT_EQ(b.measured[m].name, a.measured[m].name);
      EXPECT_EQ(b.measured[m].canonical_slice, a.measured[m].canonical_slice);
    }
    EXPECT_EQ(packed.voxel_bytes(), bytes);
  }
}

// A key slice measured in the image replaces the model's answer when the two agree within the measurement's
// window (40 mm for air, 60 mm for bone), and is ignored beyond it. The score method compares with its one
// answer; insertion compares again after the order checks, which may have moved its answer.
TEST(Navigation, MeasuredKeySlicesReplaceAnswersWithinTheWindow) {
  const Model model = model_with_template();
  PreparedScan scan = prepare_scan(model, phantom("LPS", 50, 30.0));
  scan.measured.clear();
  std::map<std::string, LocatedLandmark> learned;
  for (const auto& l : locate(model, scan, LocateMethod::score)) learned[l.name] = l;
  for (const auto& [name, l] : learned) EXPECT_FALSE(l.measured) << name;
  // Any landmark the model answers inside the scan; the measurement is put towards the scan's middle.
  const auto inside = std::find_if(learned.begin(), learned.end(), [](const auto& e) {
    return e.second.position.where == InsertedSlice::Where::inside;
  });
  ASSERT_NE(inside, learned.end());
  const std::string name = inside->first;
  const double z = inside->second.position.world_z_mm;
  const double towards_middle = z > 30.0 - 49 * 10.0 / 2 ? -1.0 : 1.0;
  for (const auto& [window, shift] : {std::pair{kAirMeasurementWindowMm, kAirMeasurementWindowMm - 10.0},
                                      std::pair{kAirMeasurementWindowMm, kAirMeasurementWindowMm + 10.0},
                                      std::pair{kBoneMeasurementWindowMm, kAirMeasurementWindowMm + 10.0},
                                      std::pair{kBoneMeasurementWindowMm, kBoneMeasurementWindowMm + 10.0}}) {
    SCOPED_TRACE(name + ": " + std::to_string(window) + " mm window, " + std::to_string(shift) + " mm away");
    const double measured_z = z + towards_middle * shift;
    scan.measured = {{name, scan.mapping.canonical_slice_at_z(measured_z), measured_z, window}};
    std::map<std::string, LocatedLandmark> found;
    for (const auto& l : locate(model, scan, LocateMethod::score)) found[l.name] = l;
    const LocatedLandmark& l = found.at(name);
    const bool replaced = shift < window;
    EXPECT_EQ(l.measured, replaced);
    EXPECT_EQ(l.position.where, InsertedSlice::Where::inside);
    EXPECT_NEAR(l.position.world_z_mm, replaced ? measured_z : z, 1e-6);
    EXPECT_NEAR(l.position.canonical_slice, scan.mapping.canonical_slice_at_z(l.position.world_z_mm), 1e-6);
    for (const auto& [other_name, other] : found) {
      if (other_name != name) {
        EXPECT_FALSE(other.measured) << other_name;
      }
    }
  }
}

TEST(Navigation, ModelsWithoutTemplatesOrAtlasSayWhy) {
  const Model bare(test::tiny_model_config(), 1);
  const PreparedScan scan = prepare_scan(bare, phantom("LPS", 10, 0.0));
  EXPECT_EQ(status_of([&] { locate(bare, scan); }), Status::unsupported_input);
  EXPECT_EQ(status_of([&] { locate(bare, scan, LocateMethod::score); }), Status::unsupported_input);
}

TEST(Navigation, RegionsAndCoverage) {
  const Model model = model_with_template();
  std::vector<std::string> names;
  for (const auto& r : regions(model)) names.push_back(r.name);
  for (const char* expected : {"lungs", "heart", "liver", "kidneys", "abdomen", "pelvis", "head-neck"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  const PreparedScan scan = prepare_scan(model, phantom("LPS", 50, 30.0));
  try {
    coverage(model, scan, "spleenx");
    FAIL() << "unknown region accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("liver"), std::string::npos) << e.what();
  }
  const Coverage c = coverage(model, scan, "lungs");
  EXPECT_EQ(c.region.name, "lungs");
  EXPECT_EQ(c.superior.name, "lungs:superior");
  if (c.status == Coverage::Status::full) {
    EXPECT_EQ(c.superior.position.where, InsertedSlice::Where::inside);
    EXPECT_EQ(c.inferior.position.where, InsertedSlice::Where::inside);
  }
}

TEST(Navigation, OneModelSharedByManyThreadsAnswersLikeSerialCalls) {
  const Model model = model_with_template();
  const PreparedScan a = prepare_scan(model, phantom("LPS", 40, 30.0));
  const PreparedScan b = prepare_scan(model, phantom("RAI", 30, -50.0));
  const Insertion serial = insert_scan(model, a, b, true);
  const auto serial_landmarks = locate(model, b);
  std::vector<Insertion> results(6);
  std::vector<std::vector<LocatedLandmark>> landmarks(6);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      results[t] = insert_scan(model, a, b, true);
      landmarks[t] = locate(model, b);
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t t = 0; t < results.size(); ++t) {
    ASSERT_EQ(results[t].distribution.size(), serial.distribution.size());
    for (std::size_t i = 0; i < serial.distribution.size(); ++i) {
      ASSERT_NEAR(results[t].distribution[i], serial.distribution[i], 1e-6) << "thread " << t << " value " << i;
    }
    ASSERT_EQ(landmarks[t].size(), serial_landmarks.size());
    for (std::size_t i = 0; i < serial_landmarks.size(); ++i) {
      EXPECT_EQ(landmarks[t][i].position.where, serial_landmarks[i].position.where);
      EXPECT_NEAR(landmarks[t][i].position.world_z_mm, serial_landmarks[i].position.world_z_mm, 1e-6);
    }
  }
}

// ---- The bundled model on real scans it was not trained on --------------------------------------

// The bundled model, a real scan prepared for it, and the scan's located key slices by name.
struct LocatedScan {
  Model model = Model::load(default_model_path());
  PreparedScan scan;
  std::map<std::string, LocatedLandmark> found;
  explicit LocatedScan(const std::string& path) : scan(prepare_scan(model, read_volume(path))) {
    for (const auto& l : locate(model, scan)) found[l.name] = l;
  }
};

// The truth of a case folder: its annotated landmarks by name.
std::map<std::string, double> case_truth(const std::string& ct_path) {
  std::map<std::string, double> truth;
  for (const auto& l : read_case_landmarks(std::filesystem::path(ct_path).parent_path().string()))
    truth[l.name] = l.z_mm;
  return truth;
}

TEST(NavigationRealData, HeldOutChestScanLandmarksAndCoverage) {
  SLICENAV_REQUIRE_DATA(path, "ct/lidc_0003/ct.nii.gz");
  const Model model = Model::load(default_model_path());
  const PreparedScan scan = prepare_scan(model, read_volume(path));
  EXPECT_TRUE(recognise(scan).recognised);
  std::map<std::string, double> truth = case_truth(path);
  std::size_t checked = 0;
  for (const auto& l : locate(model, scan)) {
    if (truth.count(l.name) == 0) continue;
    ASSERT_EQ(l.position.where, InsertedSlice::Where::inside) << l.name;
    if (l.name == "lung_apex" || l.name == "carina" || l.name == "lung_base") {
      // Measured in the image: the lung ends and the airway's split are crisp.
      EXPECT_TRUE(l.measured) << l.name;
      EXPECT_NEAR(l.position.world_z_mm, truth[l.name], 5.0) << l.name;
    } else {
      // A loose bound, several times the model's validation error (docs/model-card.md).
      EXPECT_NEAR(l.position.world_z_mm, truth[l.name], 40.0) << l.name;
    }
    ++checked;
  }
  EXPECT_GE(checked, 4u);
  EXPECT_EQ(coverage(model, scan, "lungs").status, Coverage::Status::full);
  EXPECT_EQ(coverage(model, scan, "pelvis").status, Coverage::Status::none);
}

// Landmarks beyond a scan's coverage must come back above / below it, not pinned to its end slices: the
// lower part of a held-out chest scan, cut 60 mm below the lung apex, still shows the lung base.
TEST(NavigationRealData, LandmarksBeyondTheScanAreAboveOrBelowIt) {
  SLICENAV_REQUIRE_DATA(path, "ct/lidc_0003/ct.nii.gz");
  const Model model = Model::load(default_model_path());
  const Volume whole = read_volume(path);
  std::map<std::string, double> truth = case_truth(path);
  ASSERT_EQ(truth.count("lung_apex"), 1u);
  ASSERT_EQ(truth.count("lung_base"), 1u);
  // The data folder stores slices inferior first (k increases superiorly, see ../shared/data/README.md).
  const Geometry& g = whole.geometry();
  ASSERT_GT(g.direction[8], 0.0);
  const auto keep = static_cast<std::size_t>((truth["lung_apex"] - 60.0 - g.origin[2]) / g.spacing[2]);
  ASSERT_GT(keep, 20u);
  const PreparedScan scan = prepare_scan(model, slice_range(whole, 2, 0, keep));
  std::map<std::string, LocatedLandmark> found;
  for (const auto& l : locate(model, scan)) found[l.name] = l;
  EXPECT_EQ(found.at("lung_apex").position.where, InsertedSlice::Where::above);
  ASSERT_EQ(found.at("lung_base").position.where, InsertedSlice::Where::inside);
  EXPECT_NEAR(found.at("lung_base").position.world_z_mm, truth["lung_base"], 40.0);
  EXPECT_EQ(coverage(model, scan, "lungs").status, Coverage::Status::partial);
}

// Head-and-neck PET/CT of a patient the model was not trained on: recognised, the skull base (measured in
// the bone) and C7 located inside it, the chest landmarks below the skull base in order, head-neck covered
// and the pelvis not.
TEST(NavigationRealData, HeldOutHeadNeckScanLocatesSkullBaseAndC7) {
  SLICENAV_REQUIRE_DATA(path, "ct/hnpetct_chus005/ct.nii.gz");
  const LocatedScan located(path);
  const auto& [model, scan, found] = located;
  EXPECT_TRUE(recognise(scan).recognised) << recognise(scan).score_slope;
  const auto truth = case_truth(path);
  for (const char* name : {"skull_base", "c7", "lung_apex"}) {
    ASSERT_EQ(found.count(name), 1u) << name;
    ASSERT_EQ(found.at(name).position.where, InsertedSlice::Where::inside) << name;
    EXPECT_GT(found.at(name).confidence, 0.0f) << name;
    EXPECT_NEAR(found.at(name).position.world_z_mm, truth.at(name), 30.0) << name;
  }
  EXPECT_TRUE(found.at("skull_base").measured);
  EXPECT_NEAR(found.at("skull_base").position.world_z_mm, truth.at("skull_base"), 10.0);
  // C7 between the measured skull base and lung apex, at its atlas fraction.
  EXPECT_FALSE(found.at("c7").measured);
  EXPECT_TRUE(found.at("lung_apex").measured);
  const double f = (found.at("c7").atlas_mm - found.at("lung_apex").atlas_mm) /
                   (found.at("skull_base").atlas_mm - found.at("lung_apex").atlas_mm);
  EXPECT_NEAR(found.at("c7").position.world_z_mm,
              found.at("lung_apex").position.world_z_mm +
                  f * (found.at("skull_base").position.world_z_mm - found.at("lung_apex").position.world_z_mm),
              1e-6);
  EXPECT_NEAR(found.at("c7").position.world_z_mm, truth.at("c7"), 15.0);
  EXPECT_GT(found.at("skull_base").position.world_z_mm, found.at("c7").position.world_z_mm);
  EXPECT_EQ(found.at("femur_head_top").position.where, InsertedSlice::Where::below);
  EXPECT_NE(coverage(model, scan, "head-neck").status, Coverage::Status::none);
  EXPECT_EQ(coverage(model, scan, "pelvis").status, Coverage::Status::none);
}

// An abdomen-pelvis CT of a patient the model was not trained on: recognised, the femoral heads (measured in
// the bone) and the kidneys' lower end located, the pelvis covered, the skull base above the scan.
TEST(NavigationRealData, HeldOutAbdomenPelvisScanLocatesThePelvis) {
  SLICENAV_REQUIRE_DATA(path, "ct/ts_example_ct/ct.nii.gz");
  const LocatedScan located(path);
  const auto& [model, scan, found] = located;
  EXPECT_TRUE(recognise(scan).recognised) << recognise(scan).score_slope;
  const auto truth = case_truth(path);
  for (const char* name : {"femur_head_top", "kidney_lower_end"}) {
    ASSERT_EQ(found.at(name).position.where, InsertedSlice::Where::inside) << name;
    EXPECT_NEAR(found.at(name).position.world_z_mm, truth.at(name), 40.0) << name;
  }
  EXPECT_TRUE(found.at("femur_head_top").measured);
  EXPECT_NEAR(found.at("femur_head_top").position.world_z_mm, truth.at("femur_head_top"), 10.0);
  EXPECT_EQ(found.at("skull_base").position.where, InsertedSlice::Where::above);
  EXPECT_EQ(found.at("c7").position.where, InsertedSlice::Where::above);
  EXPECT_NE(coverage(model, scan, "pelvis").status, Coverage::Status::none);
  EXPECT_EQ(coverage(model, scan, "head-neck").status, Coverage::Status::none);
}

// The whole-body scan (shoulders to thighs): every seed key slice is answered, the skull base above the
// scan and the others inside it, superior to inferior in the atlas order.
TEST(NavigationRealData, WholeBodyScanAnswersEverySeedKeySlice) {
  SLICENAV_REQUIRE_DATA(path, "ct/tcga_thca_de_a4ma/ct.nii.gz");
  const LocatedScan located(path);
  const auto& [model, scan, found] = located;
  EXPECT_TRUE(recognise(scan).recognised);
  EXPECT_EQ(found.at("skull_base").position.where, InsertedSlice::Where::above);
  double previous = HUGE_VAL;
  for (const char* name : {"aortic_arch", "liver_dome", "kidney_lower_end", "femur_head_top"}) {
    ASSERT_EQ(found.at(name).position.where, InsertedSlice::Where::inside) << name;
    EXPECT_LT(found.at(name).position.world_z_mm, previous) << name;
    previous = found.at(name).position.world_z_mm;
  }
  for (const char* region : {"lungs", "liver", "abdomen", "pelvis"}) {
    EXPECT_NE(coverage(model, scan, region).status, Coverage::Status::none) << region;
  }
}

TEST(NavigationRealData, ExtremityScanIsNotRecognisedAndHasNoConfidence) {
  SLICENAV_REQUIRE_DATA(path, "ood/ibsi_sts_001/ct.nii.gz");
  const Model model = Model::load(default_model_path());
  const PreparedScan scan = prepare_scan(model, read_volume(path));
  EXPECT_FALSE(recognise(scan).recognised);
  for (const auto& l : locate(model, scan)) EXPECT_EQ(l.confidence, 0.0f) << l.name;
  const Coverage c = coverage(model, scan, "liver");
  EXPECT_FALSE(c.recognised);
  EXPECT_EQ(c.status, Coverage::Status::none);
}

}  // namespace
}  // namespace slicenav
