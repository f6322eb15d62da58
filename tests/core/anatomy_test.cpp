#include "slicenav/anatomy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "slicenav/error.hpp"
#include "test_data.hpp"
#include "test_support.hpp"

namespace slicenav {
namespace {

class Anatomy : public test::TempDirTest {
 protected:
  void write(const std::string& relative, const std::string& text) {
    const std::filesystem::path p = dir_ / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
};

std::vector<std::string> names_of(const std::vector<Landmark>& landmarks) {
  std::vector<std::string> names;
  for (const Landmark& l : landmarks) names.push_back(l.name);
  return names;
}

const Atlas kAtlas{{{"a", 0.0}, {"b", -100.0}, {"c", -200.0}, {"d", -300.0}, {"e", -400.0}}};

}  // namespace

TEST_F(Anatomy, FitRecoversSyntheticAtlasAndOffsets) {
  // Known positions and case offsets; each case sees a different overlapping subset (a chain of overlaps),
  // plus a one-landmark case and a case in a separate group, which must not disturb the fit.
  const std::map<std::string, double> truth{{"lung_apex", 0.0},           {"carina", -95.5},
                                            {"liver_dome", -210.25},      {"lung_base", -260.0},
                                            {"kidney_lower_end", -420.0}, {"femur_head_top", -610.75}};
  const std::vector<std::pair<std::vector<std::string>, double>> design{
      {{"lung_apex", "carina", "liver_dome"}, 312.0},
      {{"carina", "liver_dome", "lung_base"}, -512.5},
      {{"liver_dome", "kidney_lower_end"}, 17.25},
      {{"kidney_lower_end", "femur_head_top"}, 1003.0},
      {{"lung_apex", "lung_base"}, -44.0},
  };
  std::vector<std::vector<Landmark>> cases;
  for (const auto& [names, offset] : design) {
    cases.emplace_back();
    for (const std::string& n : names) cases.back().push_back({n, truth.at(n) + offset});
  }
  cases.push_back({{"solo_only", 5.0}});                       // one landmark: no information
  cases.push_back({{"island_x", 10.0}, {"island_y", -20.0}});  // unconnected to the anchor group
  cases.push_back({});
  const Atlas atlas = fit_atlas(cases);
  ASSERT_EQ(atlas.position_mm.size(), truth.size());
  for (const auto& [name, mm] : truth) {
    ASSERT_TRUE(atlas.position_mm.count(name)) << name;
    EXPECT_NEAR(atlas.position_mm.at(name), mm, 1e-6) << name;
  }
  // The per-case maps recover each case's offset exactly (slope 1 everywhere).
  for (std::size_t c = 0; c < design.size(); ++c) {
    const AnatomicalMap map = AnatomicalMap::fit(cases[c], atlas);
    ASSERT_TRUE(map.valid());
    EXPECT_EQ(map.used().size(), cases[c].size());
    EXPECT_NEAR(map.to_atlas(50.0), 50.0 - design[c].second, 1e-6);
  }
  // Deterministic: the same input gives bit-identical output.
  EXPECT_EQ(fit_atlas(cases).position_mm, atlas.position_mm);
}

TEST_F(Anatomy, FitAnchorsAtMostSuperiorWithoutAnchorAndPicksLargestGroup) {
  const std::vector<std::vector<Landmark>> cases{
      {{"p", 10.0}, {"q", -40.0}, {"r", -90.0}},
      {{"q", 100.0}, {"r", 50.0}},
      {{"x", 0.0}, {"y", -5.0}},  // a smaller, unconnected group: left out
  };
  const Atlas atlas = fit_atlas(cases);
  ASSERT_EQ(atlas.position_mm.size(), 3u);
  EXPECT_NEAR(atlas.position_mm.at("p"), 0.0, 1e-9);
  EXPECT_NEAR(atlas.position_mm.at("q"), -50.0, 1e-9);
  EXPECT_NEAR(atlas.position_mm.at("r"), -100.0, 1e-9);
  // An anchor that exists picks its group even when it is smaller.
  const Atlas island = fit_atlas(cases, "y");
  ASSERT_EQ(island.position_mm.size(), 2u);
  EXPECT_NEAR(island.position_mm.at("x"), 5.0, 1e-9);
  EXPECT_EQ(island.position_mm.at("y"), 0.0);
  // Bad input.
  EXPECT_EQ(test::status_of([] { fit_atlas({{{"a", 1.0}, {"a", 2.0}}}); }), Status::invalid_argument);
  EXPECT_EQ(test::status_of([] { fit_atlas({{{"a", NAN}, {"b", 2.0}}}); }), Status::invalid_argument);
  EXPECT_TRUE(fit_atlas({{{"a", 1.0}}}).position_mm.empty());
}

TEST_F(Anatomy, FitAveragesInconsistentCasesInLeastSquares) {
  // Two cases disagree on the a-b distance (100 vs 110): least squares splits the difference.
  const Atlas atlas = fit_atlas({{{"a", 0.0}, {"b", -100.0}}, {{"a", 500.0}, {"b", 390.0}}}, "a");
  EXPECT_NEAR(atlas.position_mm.at("b"), -105.0, 1e-9);
}

TEST_F(Anatomy, MapIsPiecewiseLinearInvertibleAndSlopeOneOutside) {
  // World z: a 1000, b 880 (atlas step 100 over 120 mm), c 820 (100 over 60), d 720 (100 over 100).
  const AnatomicalMap map =
      AnatomicalMap::fit({{"a", 1000.0}, {"b", 880.0}, {"c", 820.0}, {"d", 720.0}, {"unknown", 0.0}}, kAtlas);
  ASSERT_TRUE(map.valid());
  EXPECT_EQ(names_of(map.used()), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_NEAR(map.to_atlas(1000.0), 0.0, 1e-12);
  EXPECT_NEAR(map.to_atlas(940.0), -50.0, 1e-12);
  EXPECT_NEAR(map.to_atlas(850.0), -150.0, 1e-12);
  EXPECT_NEAR(map.to_atlas(720.0), -300.0, 1e-12);
  EXPECT_NEAR(map.to_atlas(1037.5), 37.5, 1e-12);   // slope 1 above
  EXPECT_NEAR(map.to_atlas(700.0), -320.0, 1e-12);  // slope 1 below
  EXPECT_NEAR(map.to_world(-150.0), 850.0, 1e-12);
  double previous = -1e9;
  for (double z = 600.0; z <= 1100.0; z += 0.37) {
    const double a = map.to_atlas(z);
    EXPECT_GT(a, previous);
    previous = a;
    EXPECT_NEAR(map.to_world(a), z, 1e-9);
    EXPECT_NEAR(map.to_atlas(map.to_world(z - 1000.0)), z - 1000.0, 1e-9);
  }
}

TEST_F(Anatomy, MapWithOneLandmarkIsAnOffset) {
  const AnatomicalMap map = AnatomicalMap::fit({{"c", 55.0}}, kAtlas);
  ASSERT_TRUE(map.valid());
  EXPECT_DOUBLE_EQ(map.to_atlas(55.0), -200.0);
  EXPECT_DOUBLE_EQ(map.to_atlas(-45.0), -300.0);
  EXPECT_DOUBLE_EQ(map.to_world(0.0), 255.0);
}

TEST_F(Anatomy, MapDropsLandmarkThatContradictsAtlasOrder) {
  // c sits above b in world z but below it in the atlas; keeping a, b, d, e (offset 1000) is the largest
  // consistent set, and c's offset is the outlier.
  const AnatomicalMap map =
      AnatomicalMap::fit({{"a", 1000.0}, {"b", 900.0}, {"c", 950.0}, {"d", 700.0}, {"e", 600.0}}, kAtlas);
  EXPECT_EQ(names_of(map.used()), (std::vector<std::string>{"a", "b", "d", "e"}));
  EXPECT_NEAR(map.to_atlas(950.0), -50.0, 1e-12);
  // Two landmarks swapped: either could go; the one further from the median offset does.
  const AnatomicalMap swapped = AnatomicalMap::fit({{"a", 1000.0}, {"b", 900.0}, {"c", 800.0}, {"d", 805.0}}, kAtlas);
  EXPECT_EQ(names_of(swapped.used()), (std::vector<std::string>{"a", "b", "c"}));
  // Equal world z for two atlas landmarks cannot both be kept.
  EXPECT_EQ(AnatomicalMap::fit({{"a", 10.0}, {"b", 10.0}}, kAtlas).used().size(), 1u);
}

TEST_F(Anatomy, MapDropsLandmarkThatWouldBendSlopeOutOfRange) {
  // a-b-c-d are 100 mm apart in the atlas and in world z, except b, misplaced 80 mm down: slopes 100/180 and
  // 100/20 -> b goes (its offset is the outlier) and the rest keep slope 1.
  const AnatomicalMap map = AnatomicalMap::fit({{"a", 0.0}, {"b", -180.0}, {"c", -200.0}, {"d", -300.0}}, kAtlas);
  EXPECT_EQ(names_of(map.used()), (std::vector<std::string>{"a", "c", "d"}));
  // Slopes at the limits are kept: 100 atlas mm over 50 and over 200 world mm.
  const AnatomicalMap edge = AnatomicalMap::fit({{"a", 0.0}, {"b", -50.0}, {"c", -250.0}}, kAtlas);
  EXPECT_EQ(edge.used().size(), 3u);
  // Just beyond: with two landmarks and equal deviations, the superior one is dropped.
  const AnatomicalMap steep = AnatomicalMap::fit({{"a", 0.0}, {"b", -49.0}}, kAtlas);
  EXPECT_EQ(names_of(steep.used()), (std::vector<std::string>{"b"}));
  const AnatomicalMap flat = AnatomicalMap::fit({{"a", 0.0}, {"b", -201.0}}, kAtlas);
  EXPECT_EQ(names_of(flat.used()), (std::vector<std::string>{"b"}));
}

TEST_F(Anatomy, EmptyMapIsInvalidAndThrows) {
  for (const AnatomicalMap& map :
       {AnatomicalMap(), AnatomicalMap::fit({}, kAtlas), AnatomicalMap::fit({{"unknown", 3.0}}, kAtlas)}) {
    EXPECT_FALSE(map.valid());
    EXPECT_TRUE(map.used().empty());
    EXPECT_EQ(test::status_of([&] { map.to_atlas(0.0); }), Status::invalid_argument);
    EXPECT_EQ(test::status_of([&] { map.to_world(0.0); }), Status::invalid_argument);
  }
  EXPECT_EQ(test::status_of([] { AnatomicalMap::fit({{"a", 1.0}, {"a", 2.0}}, kAtlas); }), Status::invalid_argument);
}

TEST_F(Anatomy, ReadsCaseLandmarkFiles) {
  write("case/landmarks.json", R"({"case_id": "x", "landmarks": [
      {"name": "lung_apex", "method": "mask", "status": "ok", "z_mm": -354.5, "slice_index": 109},
      {"name": "lung_apex_left", "method": "mask", "status": "ok", "z_mm": -354.5},
      {"name": "kidney_left_upper_end", "method": "mask", "status": "ok", "z_mm": -500.0},
      {"name": "lung_base", "method": "auto-threshold", "status": "truncated", "truncated": true},
      {"name": "liver_dome", "method": "mask", "status": "dropped", "z_mm": -500.0},
      {"name": "heart_top", "method": "mask", "status": "ok", "z_mm": -420.0},
      {"name": "heart_bottom", "method": "mask", "status": "ok"}]})");
  write("case/manual_landmarks.json", R"({"case_id": "x", "landmarks": [
      {"name": "heart_top", "z_mm": -400.0, "confidence": "high"},
      {"name": "carina", "z_mm": -426.5, "confidence": "medium"},
      {"name": "liver_dome", "z_mm": -564.5, "confidence": "medium"}], "not_visible": []})");
  const std::vector<Landmark> got = read_case_landmarks(path("case"));
  EXPECT_EQ(names_of(got), (std::vector<std::string>{"lung_apex", "heart_top", "carina", "liver_dome"}));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].z_mm, -354.5);
  EXPECT_EQ(got[1].z_mm, -420.0);  // landmarks.json beats the manual value
  EXPECT_EQ(got[3].z_mm, -564.5);  // the dropped mask value does not hide the manual one

  // Each file is optional; a missing directory is not_found.
  write("manual_only/manual_landmarks.json", R"({"landmarks": [{"name": "carina", "z_mm": 1.5}]})");
  EXPECT_EQ(names_of(read_case_landmarks(path("manual_only"))), (std::vector<std::string>{"carina"}));
  std::filesystem::create_directories(path("none"));
  EXPECT_TRUE(read_case_landmarks(path("none")).empty());
  EXPECT_EQ(test::status_of([&] { read_case_landmarks(path("absent")); }), Status::not_found);

  // Malformed files fail with io and name the file.
  for (const std::string& bad : {std::string("{\"landmarks\": [ {\"name\": "), std::string("[1, 2]"),
                                 std::string(R"({"landmarks": [{"z_mm": 3}]})"),
                                 std::string(R"({"landmarks": [{"name": "carina", "z_mm": "high"}]})")}) {
    write("bad/manual_landmarks.json", bad);
    std::string message;
    EXPECT_EQ(test::status_of([&] { read_case_landmarks(path("bad")); }, &message), Status::io) << bad;
    EXPECT_NE(message.find("manual_landmarks.json"), std::string::npos) << message;
  }
}

TEST_F(Anatomy, AtlasJsonRoundTripsExactly) {
  Atlas atlas;
  atlas.position_mm = {{"lung_apex", 0.0}, {"carina", -95.123456789012345}, {"femur_head_top", -612.1 / 3.0}};
  const Atlas back = atlas_from_json(atlas_to_json(atlas));
  EXPECT_EQ(back.position_mm, atlas.position_mm);
  EXPECT_TRUE(atlas_from_json(atlas_to_json(Atlas{})).position_mm.empty());
  for (const char* bad : {"", "{", "[1]", R"({"a": "x"})", R"({"a": null})", R"({"": 1})"}) {
    EXPECT_EQ(test::status_of([&] { atlas_from_json(bad); }), Status::model_format) << bad;
  }
}

TEST_F(Anatomy, RealDataAtlasFollowsAnatomicalOrder) {
  SLICENAV_REQUIRE_DATA(ct_dir, "ct");
  std::vector<std::string> case_ids;
  for (const auto& entry : std::filesystem::directory_iterator(ct_dir)) {
    if (entry.is_directory()) case_ids.push_back(entry.path().filename().string());
  }
  std::sort(case_ids.begin(), case_ids.end());
  ASSERT_FALSE(case_ids.empty());
  std::vector<std::vector<Landmark>> cases;
  for (const std::string& id : case_ids) cases.push_back(read_case_landmarks(ct_dir + "/" + id));
  const Atlas atlas = fit_atlas(cases);

  std::vector<std::pair<std::string, double>> sorted(atlas.position_mm.begin(), atlas.position_mm.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::cout << "fitted atlas (" << case_ids.size() << " cases, mm, lung_apex = 0):\n"
            << std::fixed << std::setprecision(1);
  for (const auto& [name, mm] : sorted) std::cout << "  " << std::setw(22) << std::left << name << mm << "\n";

  const auto at = [&](const std::string& name) {
    EXPECT_TRUE(atlas.position_mm.count(name)) << name << " is missing from the atlas";
    return atlas.position_mm.count(name) ? atlas.position_mm.at(name) : 0.0;
  };
  EXPECT_EQ(at("lung_apex"), 0.0);
  EXPECT_GT(at("lung_apex"), at("aortic_arch"));
  EXPECT_GT(at("aortic_arch"), at("carina"));
  EXPECT_GT(at("carina"), at("liver_dome"));
  EXPECT_GT(at("liver_dome"), at("lung_base"));
  EXPECT_GT(at("lung_base"), at("kidney_lower_end"));
  EXPECT_GT(at("kidney_lower_end"), at("femur_head_top"));
  EXPECT_GT(at("heart_top"), at("heart_bottom"));
  EXPECT_GT(at("skull_base"), at("lung_apex"));
  // Plausible adult scale: apex to femoral head 450..750 mm.
  EXPECT_GT(at("lung_apex") - at("femur_head_top"), 450.0);
  EXPECT_LT(at("lung_apex") - at("femur_head_top"), 750.0);

  std::cout << "per-case maps (used / landmarks):\n";
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const AnatomicalMap map = AnatomicalMap::fit(cases[c], atlas);
    std::cout << "  " << std::setw(22) << std::left << case_ids[c] << map.used().size() << " / " << cases[c].size();
    for (const Landmark& l : cases[c]) {
      const auto& used = map.used();
      if (std::none_of(used.begin(), used.end(), [&](const Landmark& u) { return u.name == l.name; })) {
        std::cout << "  dropped " << l.name;
      }
    }
    std::cout << "\n";
    EXPECT_EQ(map.valid(), !cases[c].empty()) << case_ids[c];
    if (!map.valid()) continue;
    for (const Landmark& l : map.used()) EXPECT_NEAR(map.to_world(map.to_atlas(l.z_mm)), l.z_mm, 1e-9);
  }
}

}  // namespace slicenav
