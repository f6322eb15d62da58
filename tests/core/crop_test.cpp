// ROI cropping: the crop decision (z from the bundled model's located region ends plus margins, in-plane
// from the body without the table), crop records, and crop / uncrop of image files of several voxel types.
// Phantom tests check behaviour and plumbing only; the real-data test checks recall on held-out scans of
// ../shared/data and skips without them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "crop_fixtures.hpp"
#include "model_fixtures.hpp"
#include "slicenav/ape.hpp"
#include "slicenav/crop.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/phantom.hpp"
#include "slicenav/regions.hpp"
#include "test_data.hpp"
#include "test_support.hpp"

namespace slicenav {
namespace {

using test::status_of;

const Model& bundled_model() {
  static const Model model = Model::load(default_model_path());
  return model;
}

// A tiny fresh model whose atlas is the phantom's anatomy (lung apex at world z 0, so world z is atlas mm).
const Model& phantom_model() {
  static const Model model = [] {
    Model m(test::tiny_model_config(), 3);
    Atlas atlas;
    for (const auto& l : make_phantom(PhantomOptions{}).landmarks) atlas.position_mm[l.name] = l.world_z_mm;
    m.set_templates({}, atlas);
    return m;
  }();
  return model;
}

// The phantom prepared with a perfect body-part score (each slice's atlas position, its world z), so the
// score method locates every region end exactly: the decision is tested apart from the network's accuracy.
PreparedScan exact_scan(const Volume& volume) {
  PreparedScan scan = prepare_scan(phantom_model(), volume);
  scan.score = scan.slices.world_z_mm;
  return scan;
}

CropRecord plan_exact(const Volume& volume, const std::string& region) {
  return plan_crop(phantom_model(), exact_scan(volume), volume, region, LocateMethod::score);
}

// The default trunk phantom on the same world grid in any orientation: 96 x 80 x 120 voxels of 4 x 4 x 5 mm
// along world x, y, z; world z from top_z_mm down 595 mm.
Volume phantom(double top_z_mm, const std::string& orientation = "LPS") {
  PhantomOptions o;
  o.top_z_mm = top_z_mm;
  o.orientation = orientation;
  const std::string letters = "LRPAIS";
  for (int a = 0; a < 3; ++a) {
    const auto world = letters.find(orientation[static_cast<std::size_t>(a)]) / 2;  // 0 x, 1 y, 2 z
    o.size[static_cast<std::size_t>(a)] = std::array<std::size_t, 3>{96, 80, 120}[world];
    o.spacing[static_cast<std::size_t>(a)] = Vec3{4.0, 4.0, 5.0}[world];
  }
  return make_phantom(o).volume;
}

// The phantom with a patient table: a slab of 0 HU, 8 mm thick, 20 mm behind the body (posterior, +y),
// across the whole width and length of an LPS volume.
Volume with_table(const Volume& v) {
  std::vector<float> voxels = v.voxels_as_float();
  const Geometry& g = v.geometry();
  for (std::size_t k = 0; k < g.size[2]; ++k) {
    for (std::size_t j = 0; j < g.size[1]; ++j) {
      const double y = g.index_to_world({0, static_cast<double>(j), 0})[1];
      if (y < 130.0 || y > 138.0) continue;
      for (std::size_t i = 0; i < g.size[0]; ++i) voxels[i + g.size[0] * (j + g.size[1] * k)] = 0.0f;
    }
  }
  return Volume(g, std::move(voxels), v.source());
}

// World extent (min, max) of the box along world axis a.
std::array<double, 2> box_world(const CropRecord& r, int a) {
  const Geometry c = r.cropped();
  const Vec3 first = c.origin;
  const Vec3 last = c.index_to_world(
      {static_cast<double>(c.size[0]) - 1, static_cast<double>(c.size[1]) - 1, static_cast<double>(c.size[2]) - 1});
  return {std::min(first[a], last[a]), std::max(first[a], last[a])};
}

TEST(Crop, LiverDecisionIsTheLocatedEndsPlusMarginsAndTheBodyWithoutTheTable) {
  const CropRecord r = plan_exact(with_table(phantom(40.0)), "liver");
  EXPECT_EQ(r.coverage, "full");
  EXPECT_FALSE(r.partial);
  EXPECT_TRUE(r.recognised);
  // The region runs from the phantom's liver dome (world z -180) to its kidneys' lower end (-360), plus the
  // region's offsets; the crop adds its margins.
  const Region& liver = r.region;
  ASSERT_EQ(liver.inferior_landmark, "kidney_lower_end");
  const auto z = box_world(r, 2);
  EXPECT_NEAR(z[1], -180.0 + liver.superior_offset_mm + liver.crop_superior_margin_mm, 5.0);
  EXPECT_NEAR(z[0], -360.0 + liver.inferior_offset_mm - liver.crop_inferior_margin_mm, 5.0);
  EXPECT_NEAR(r.superior.position.world_z_mm, -180.0 + liver.superior_offset_mm, 1e-6);
  // In-plane: the body (|x| <= 160, |y| <= 110 mm) plus the margin, and not the table at y >= 130.
  const auto y = box_world(r, 1);
  const auto x = box_world(r, 0);
  EXPECT_LE(y[0], -110.0);
  EXPECT_GE(y[1], 110.0);
  EXPECT_LT(y[1], 130.0);
  EXPECT_LE(x[0], -160.0);
  EXPECT_GE(x[1], 160.0);
  EXPECT_GT(r.volume_ratio(), 2.0);
  EXPECT_EQ(r.method, "score");
}

TEST(Crop, DecisionIsTheSameWorldBoxInAnyFileOrientation) {
  const CropRecord lps = plan_exact(phantom(40.0, "LPS"), "kidneys");
  for (const std::string code : {"RAI", "SLA"}) {
    SCOPED_TRACE(code);
    const CropRecord other = plan_exact(phantom(40.0, code), "kidneys");
    for (int a = 0; a < 3; ++a) {
      const auto w = box_world(lps, a), v = box_world(other, a);
      EXPECT_NEAR(w[0], v[0], 1e-6) << "axis " << a;
      EXPECT_NEAR(w[1], v[1], 1e-6) << "axis " << a;
    }
  }
}

TEST(Crop, RegionPartlyOutsideTheScanGivesThePartThatExistsFlagged) {
  // Top slice at z = -250 mm: the liver dome (-180) lies above the scan, its lower end (-300) inside.
  const Volume v = phantom(-250.0);
  const CropRecord r = plan_exact(v, "liver");
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.coverage, "partial");
  EXPECT_EQ(r.superior.position.where, InsertedSlice::Where::above);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings.front().find("partly"), std::string::npos);
  // The crop starts at the scan's top slice (index axis k runs superior in LPS, so its end is the last slice).
  EXPECT_EQ(r.box.end[2], v.geometry().size[2]);
  EXPECT_GT(r.box.begin[2], 0u);
}

TEST(Crop, RegionNotInTheScanIsAnErrorNeverAnEmptyCrop) {
  // Pelvis and thighs only (z -420 .. -595): the lungs, even with their margins, are far above.
  PhantomOptions o;
  o.size = {96, 80, 36};
  o.top_z_mm = -420.0;
  const Volume v = make_phantom(o).volume;
  std::string message;
  EXPECT_EQ(status_of([&] { plan_exact(v, "lungs"); }, &message), Status::unsupported_input);
  EXPECT_NE(message.find("not in the scan"), std::string::npos) << message;
  EXPECT_NE(message.find("above"), std::string::npos) << message;
  EXPECT_NO_THROW(plan_exact(v, "pelvis"));
}

TEST(Crop, UnknownRegionListsTheKnownOnes) {
  std::string message;
  EXPECT_EQ(status_of([&] { plan_crop(bundled_model(), phantom(40.0), "spleen"); }, &message),
            Status::invalid_argument);
  EXPECT_NE(message.find("unknown region or organ 'spleen'"), std::string::npos) << message;
  for (const char* name : {"lungs", "heart", "liver", "kidneys", "abdomen", "pelvis", "head-neck"}) {
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
}

TEST(Crop, EveryBundledRegionHasCalibratedMargins) {
  for (const Region& r : regions(bundled_model())) {
    SCOPED_TRACE(r.name);
    EXPECT_GT(r.crop_superior_margin_mm, 0.0);
    EXPECT_GT(r.crop_inferior_margin_mm, 0.0);
    EXPECT_GT(r.crop_in_plane_margin_mm, 0.0);
  }
}

// The bundled model (for its APE network) with the phantom's atlas, and the phantom prepared with it and
// the exact body-part score, as plan_exact; organs are added per test.
Model organ_model(const std::vector<ApeOrgan>& organs) {
  Model m = bundled_model();
  Atlas atlas;
  for (const auto& l : make_phantom(PhantomOptions{}).landmarks) atlas.position_mm[l.name] = l.world_z_mm;
  m.set_templates({}, atlas);
  m.set_metadata_section("ape_organs", ape_organs_to_json(organs));
  return m;
}

CropRecord plan_organ(const Model& m, const Volume& v, const std::string& name) {
  PreparedScan scan = prepare_scan(m, v);
  scan.score = scan.slices.world_z_mm;
  return plan_crop(m, scan, v, name, LocateMethod::score);
}

// A template whose six edges are the map's own embeddings at the faces' centres of the grid box lo..hi.
ApeOrganTemplate grid_template(const ApeMap& map, std::array<std::size_t, 3> lo, std::array<std::size_t, 3> hi) {
  const auto at = [&](std::size_t x, std::size_t y, std::size_t z) {
    return ApeEmbedding{map.at(0, x, y, z), map.at(1, x, y, z), map.at(2, x, y, z)};
  };
  std::array<std::size_t, 3> c{};
  for (std::size_t a = 0; a < 3; ++a) c[a] = (lo[a] + hi[a]) / 2;
  return {"phantom",
          {at(lo[0], c[1], c[2]), at(hi[0], c[1], c[2]), at(c[0], lo[1], c[2]), at(c[0], hi[1], c[2]),
           at(c[0], c[1], lo[2]), at(c[0], c[1], hi[2])}};
}

// A box of a map's grid in the body at world z -240 (inside the liver region, -180 .. -300): its lowest and
// highest grid voxels.
std::array<std::array<std::size_t, 3>, 2> liver_grid_box(const WorldGrid& g) {
  const auto k = static_cast<std::size_t>(std::lround((-240.0 - g.origin[2]) / g.spacing_mm));
  return {{{g.size[0] / 2 - 6, g.size[1] / 2 - 4, k - 5}, {g.size[0] / 2 + 6, g.size[1] / 2 + 4, k + 5}}};
}

TEST(Crop, OrganCropIsItsRegionsCropCutToItsApeBox) {
  const Volume v = phantom(40.0);
  const ApeMap map = ape_map(bundled_model(), v);
  const WorldGrid& g = map.grid;
  const auto [lo, hi] = liver_grid_box(g);
  const Model m = organ_model({{"liver_box", "liver", 1.0, 1e6, {grid_template(map, lo, hi)}}});
  const CropRecord region = plan_organ(m, v, "liver");
  const CropRecord r = plan_organ(m, v, "liver_box");
  EXPECT_TRUE(region.ape.organ.empty());
  ASSERT_EQ(r.ape.organ, "liver_box");
  EXPECT_TRUE(r.ape.used) << r.ape.note;
  EXPECT_EQ(r.region.name, "liver");
  EXPECT_EQ(r.ape.templates, 1u);
  EXPECT_NEAR(r.ape.match_distance, 0.0, 1e-6);
  // The template's own edges are found where they were taken: the retrieved box is the grid box.
  EXPECT_EQ(r.ape.retrieved.lo, g.world({double(lo[0]), double(lo[1]), double(lo[2])}));
  EXPECT_EQ(r.ape.retrieved.hi, g.world({double(hi[0]), double(hi[1]), double(hi[2])}));
  const IndexBox expected = intersection(region.box, index_box(v.geometry(), r.ape.box));
  EXPECT_EQ(r.box.begin, expected.begin);
  EXPECT_EQ(r.box.end, expected.end);
  EXPECT_GT(r.volume_ratio(), 5 * region.volume_ratio());
  // The record says so, and reads back.
  const CropRecord back = CropRecord::from_json(r.to_json());
  EXPECT_EQ(back.ape.organ, "liver_box");
  EXPECT_TRUE(back.ape.used);
  EXPECT_EQ(back.ape.box.lo, r.ape.box.lo);
  EXPECT_EQ(back.ape.retrieved.hi, r.ape.retrieved.hi);
  EXPECT_TRUE(CropRecord::from_json(region.to_json()).ape.organ.empty());
}

TEST(Crop, OrganCropSearchesItsRegionsCropOnly) {
  const Volume v = phantom(40.0);
  const CropRecord region = plan_organ(organ_model({}), v, "liver");
  const WorldBox crop = world_box(v.geometry(), region.box);
  // Edges taken at the lungs (above the liver region's crop) are searched for in the region's crop only: the
  // retrieved box lies inside it (up to half a map voxel: the voxels whose cells overlap it are searched), and
  // the organ's box is cut to it.
  const ApeMap all = ape_map(bundled_model(), v);
  const auto k = static_cast<std::size_t>(std::lround((-60.0 - all.grid.origin[2]) / all.grid.spacing_mm));
  ASSERT_GT(-60.0, crop.hi[2]);
  const std::array<std::size_t, 3> lo{all.grid.size[0] / 2 - 6, all.grid.size[1] / 2 - 4, k - 3},
      hi{all.grid.size[0] / 2 + 6, all.grid.size[1] / 2 + 4, k + 3};
  const ApeOrganTemplate lungs = grid_template(all, lo, hi);
  const Model m = organ_model({{"lung_thing", "liver", 1.0, 1e6, {lungs}, true}, {"lung_anywhere", "liver", 1.0, 1e6, {lungs}}});
  const CropRecord r = plan_organ(m, v, "lung_thing");
  ASSERT_TRUE(r.ape.used) << r.ape.note;
  EXPECT_TRUE(r.ape.search_region);
  EXPECT_TRUE(CropRecord::from_json(r.to_json()).ape.search_region);
  for (std::size_t a = 0; a < 3; ++a) {
    EXPECT_GE(r.ape.retrieved.lo[a], crop.lo[a] - all.grid.spacing_mm / 2) << a;
    EXPECT_LE(r.ape.retrieved.hi[a], crop.hi[a] + all.grid.spacing_mm / 2) << a;
    EXPECT_GE(r.ape.box.lo[a], crop.lo[a] - 1e-9) << a;
    EXPECT_LE(r.ape.box.hi[a], crop.hi[a] + 1e-9) << a;
  }
  // Searched for in the whole scan, the same edges are found at the lungs, outside the region's crop, which
  // is kept with a warning.
  const CropRecord anywhere = plan_organ(m, v, "lung_anywhere");
  EXPECT_FALSE(anywhere.ape.used);
  EXPECT_FALSE(anywhere.ape.search_region);
  EXPECT_NE(anywhere.to_json().find("\"search\": \"scan\""), std::string::npos);
  EXPECT_GT(anywhere.ape.retrieved.lo[2], crop.hi[2]);
  EXPECT_EQ(anywhere.box.begin, region.box.begin);
  EXPECT_EQ(anywhere.box.end, region.box.end);
  ASSERT_FALSE(anywhere.warnings.empty());
  EXPECT_NE(anywhere.warnings.back().find("lies outside region 'liver''s crop"), std::string::npos) << anywhere.warnings.back();
  // The world box of an index box spans its corner voxels' centres (LPS: first to last voxel).
  const auto centre = [&](const std::array<std::size_t, 3>& i) {
    return v.geometry().index_to_world({double(i[0]), double(i[1]), double(i[2])});
  };
  const Vec3 first = centre(region.box.begin), last = centre({region.box.end[0] - 1, region.box.end[1] - 1, region.box.end[2] - 1});
  for (std::size_t a = 0; a < 3; ++a) {
    EXPECT_NEAR(crop.lo[a], std::min(first[a], last[a]), 1e-9) << a;
    EXPECT_NEAR(crop.hi[a], std::max(first[a], last[a]), 1e-9) << a;
  }
}

TEST(Crop, OrganNotMatchedKeepsItsRegionsCropAndOrganOutsideTheScanIsRefused) {
  const ApeOrganTemplate far{"far", {}};  // every edge at embedding (0, 0, 0) ...
  ApeOrganTemplate distant = far;
  for (auto& e : distant.edges) e = {50.0f, 50.0f, 50.0f};  // ... or 86 units from anything in a map
  const Model m = organ_model({{"liver_box", "liver", 1.5, 0.5, {distant}}, {"lung_box", "lungs", 1.5, 1e6, {far}}});
  const Volume v = phantom(40.0);
  const CropRecord r = plan_organ(m, v, "liver_box");
  EXPECT_FALSE(r.ape.used);
  EXPECT_GT(r.ape.match_distance, 0.5);
  const CropRecord region = plan_organ(m, v, "liver");
  EXPECT_EQ(r.box.begin, region.box.begin);
  EXPECT_EQ(r.box.end, region.box.end);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings.back().find("not found"), std::string::npos) << r.warnings.back();
  // Pelvis and thighs only: the lungs' organ is refused with its region, naming both.
  PhantomOptions o;
  o.size = {96, 80, 36};
  o.top_z_mm = -420.0;
  std::string message;
  EXPECT_EQ(status_of([&] { plan_organ(m, make_phantom(o).volume, "lung_box"); }, &message),
            Status::unsupported_input);
  EXPECT_NE(message.find("organ 'lung_box' (region 'lungs')"), std::string::npos) << message;
  EXPECT_NE(message.find("not in the scan"), std::string::npos) << message;
  // Top slice at -260 mm: the lungs region (10 .. -240) lies above the scan and only its crop margin
  // (50 atlas mm) reaches in. The region's crop is made, flagged partial; the organ's is refused.
  const Volume below_lungs = phantom(-260.0);
  EXPECT_TRUE(plan_organ(m, below_lungs, "lungs").partial);
  EXPECT_EQ(status_of([&] { plan_organ(m, below_lungs, "lung_box"); }, &message), Status::unsupported_input);
  EXPECT_NE(message.find("lies above the scan"), std::string::npos) << message;
  EXPECT_NE(message.find("only the region's crop margin reaches in"), std::string::npos) << message;
  // An unknown name lists the organs beside the regions; crop_targets gives the same names.
  EXPECT_EQ(status_of([&] { plan_crop(m, v, "spleen"); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("liver_box, lung_box"), std::string::npos) << message;
  const std::vector<std::string> targets = crop_targets(m);
  EXPECT_EQ(targets.back(), "lung_box");
  EXPECT_EQ(targets.size(), regions(m).size() + 2);
}

TEST(Crop, OrganBoxNeedsAnotherOrganOfItsRegionFoundToo) {
  const Volume v = phantom(40.0);
  const ApeMap map = ape_map(bundled_model(), v);
  const auto [lo, hi] = liver_grid_box(map.grid);
  const ApeOrganTemplate here = grid_template(map, lo, hi);
  ApeOrganTemplate distant{"distant", {}};
  for (auto& e : distant.edges) e = {50.0f, 50.0f, 50.0f};
  // Its region's other organs are not in the scan: the box is not used, and the warning names them.
  const Model alone = organ_model({{"liver_box", "liver", 1.0, 1e6, {here}},
                                   {"gallbladder", "liver", 1.0, 0.5, {distant}},
                                   {"lung_box", "lungs", 1.0, 1e6, {here}}});
  const CropRecord r = plan_organ(alone, v, "liver_box");
  EXPECT_NEAR(r.ape.match_distance, 0.0, 1e-6);
  EXPECT_FALSE(r.ape.used);
  EXPECT_TRUE(r.ape.corroborated_by.empty());
  const CropRecord region = plan_organ(alone, v, "liver");
  EXPECT_EQ(r.box.begin, region.box.begin);
  EXPECT_EQ(r.box.end, region.box.end);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings.back().find("none of region 'liver''s other organs (gallbladder) is found"), std::string::npos)
      << r.warnings.back();
  EXPECT_NE(r.ape.note.find("none of region"), std::string::npos) << r.ape.note;
  // One of them found corroborates it (an organ of another region does not), and the record says which.
  const Model corroborated = organ_model({{"liver_box", "liver", 1.0, 1e6, {here}},
                                          {"gallbladder", "liver", 1.0, 0.5, {distant}},
                                          {"liver_edge", "liver", 1.0, 1e6, {distant}}});
  const CropRecord c = plan_organ(corroborated, v, "liver_box");
  EXPECT_TRUE(c.ape.used) << c.ape.note;
  EXPECT_EQ(c.ape.corroborated_by, "liver_edge");
  EXPECT_LT(c.box.voxel_count(), region.box.voxel_count());
  EXPECT_EQ(CropRecord::from_json(c.to_json()).ape.corroborated_by, "liver_edge");
  // A region only partly in the scan (top slice at -220 mm, the liver region from -180): the organ may lie
  // beyond the scan, so the box, found and corroborated as above, is not used.
  const Volume cut = phantom(-220.0);
  const CropRecord cut_region = plan_organ(corroborated, cut, "liver");
  ASSERT_TRUE(cut_region.partial);
  const CropRecord p = plan_organ(corroborated, cut, "liver_box");
  EXPECT_FALSE(p.ape.used);
  EXPECT_EQ(p.box.begin, cut_region.box.begin);
  EXPECT_EQ(p.box.end, cut_region.box.end);
  EXPECT_NE(p.ape.note.find("is only partly in the scan"), std::string::npos) << p.ape.note;
}

TEST(Crop, BodyBoxIgnoresAirAndThinStructures) {
  const Volume v = with_table(phantom(40.0));
  const CanonicalVolume c = canonicalize(v);
  const auto box = body_in_plane_box(CanonicalView(c), 60, 70, 0.0);
  // Canonical j runs anterior -> posterior (world y up): the box ends before the table (y >= 130 mm).
  const double y_last = c.volume.geometry().index_to_world({0, static_cast<double>(box[1][1]) - 1, 0})[1];
  EXPECT_LT(y_last, 130.0);
  EXPECT_GE(y_last, 106.0);
  std::vector<float> air(v.voxels_as_float().size(), -1000.0f);
  const Volume empty(v.geometry(), std::move(air));
  EXPECT_EQ(status_of([&] { body_in_plane_box(CanonicalView(canonicalize(empty)), 0, 10, 10.0); }),
            Status::unsupported_input);
}

class CropFiles : public test::TempDirTest {
 protected:
  static CropRecord record() { return test::small_crop_record(find_region(bundled_model(), "liver")); }

  // A raw image of `type` (ITK name) on `g` with deterministic random bytes that are valid values.
  template <typename T>
  static RawImage image(const Geometry& g, const std::string& type, std::uint32_t seed) {
    RawImage im;
    im.geometry = g;
    im.component_type = type;
    im.component_size = sizeof(T);
    std::mt19937 rng(seed);
    std::vector<T> values(g.voxel_count());
    for (auto& v : values) {
      // Integers wrap into T's range (well defined); a double would not.
      if constexpr (std::is_floating_point<T>::value) {
        v = static_cast<T>(std::uniform_real_distribution<double>(-1e3, 1e3)(rng));
      } else {
        v = static_cast<T>(std::uniform_int_distribution<int>(-30000, 30000)(rng));
      }
    }
    im.bytes.resize(values.size() * sizeof(T));
    std::memcpy(im.bytes.data(), values.data(), im.bytes.size());
    return im;
  }

  template <typename T>
  void round_trip(const std::string& type, const std::string& ext) {
    SCOPED_TRACE(type + " " + ext);
    const CropRecord r = record();
    const RawImage original = image<T>(r.original, type, 7);
    write_raw_image(original, path("in" + ext));
    crop_file(r, path("in" + ext), path("crop" + ext));
    const RawImage cropped = read_raw_image(path("crop" + ext));
    EXPECT_EQ(cropped.component_type, type);
    EXPECT_EQ(cropped.geometry.size, r.box.size());
    uncrop_file(r, path("crop" + ext), path("full" + ext));
    const RawImage full = read_raw_image(path("full" + ext));
    ASSERT_EQ(full.component_type, type);
    ASSERT_EQ(full.geometry.size, r.original.size);
    const auto& s = r.original.size;
    std::size_t inside = 0, outside_zero = 0, outside = 0;
    for (std::size_t k = 0; k < s[2]; ++k) {
      for (std::size_t j = 0; j < s[1]; ++j) {
        for (std::size_t i = 0; i < s[0]; ++i) {
          const std::size_t at = (i + s[0] * (j + s[1] * k)) * sizeof(T);
          const bool in = i >= 5 && i < 25 && j >= 3 && j < 17 && k >= 2 && k < 14;
          if (in) {
            inside += std::memcmp(full.bytes.data() + at, original.bytes.data() + at, sizeof(T)) == 0;
          } else {
            ++outside;
            T value;
            std::memcpy(&value, full.bytes.data() + at, sizeof(T));
            outside_zero += value == T(0);
          }
        }
      }
    }
    EXPECT_EQ(inside, r.box.voxel_count());  // bit-exact inside the box
    EXPECT_EQ(outside_zero, outside);        // background 0 outside
  }
};

TEST_F(CropFiles, CropThenUncropIsBitExactForEveryVoxelType) {
  round_trip<std::int16_t>("short", ".nii.gz");
  round_trip<std::uint8_t>("unsigned_char", ".nii.gz");
  round_trip<float>("float", ".nii.gz");
  round_trip<double>("double", ".nrrd");
  round_trip<std::int32_t>("int", ".mha");
}

TEST_F(CropFiles, RecordRoundTripsThroughJsonAndFiles) {
  const CropRecord r = plan_exact(phantom(-250.0), "liver");
  const CropRecord back = CropRecord::from_json(r.to_json());
  EXPECT_EQ(back.to_json(), r.to_json());
  write_crop_record(r, path("rec.json"));
  EXPECT_EQ(read_crop_record(path("rec.json")).to_json(), r.to_json());
  EXPECT_TRUE(back.partial);
  EXPECT_EQ(back.box.begin, r.box.begin);
}

TEST_F(CropFiles, ImageOnAnotherGridIsAClearError) {
  const CropRecord r = record();
  Geometry other = r.original;
  other.size[0] = 31;
  write_raw_image(image<std::uint8_t>(other, "unsigned_char", 1), path("bigger.nii.gz"));
  std::string message;
  EXPECT_EQ(status_of([&] { crop_file(r, path("bigger.nii.gz"), path("out.nii.gz")); }, &message),
            Status::invalid_argument);
  EXPECT_NE(message.find("size 31x20x16 is not 30x20x16"), std::string::npos) << message;
  // A prediction of the cropped size but shifted by one voxel.
  Geometry shifted = r.cropped();
  shifted.origin[2] += 3.0;
  write_raw_image(image<float>(shifted, "float", 2), path("shifted.nii.gz"));
  EXPECT_EQ(status_of([&] { uncrop_file(r, path("shifted.nii.gz"), path("out.nii.gz")); }, &message),
            Status::invalid_argument);
  EXPECT_NE(message.find("origin"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(path("out.nii.gz")));
}

TEST_F(CropFiles, MalformedRecordsNameTheField) {
  std::string message;
  EXPECT_EQ(status_of([&] { CropRecord::from_json("{\"format\": \"something else\"}"); }, &message),
            Status::invalid_argument);
  EXPECT_NE(message.find("not a crop record"), std::string::npos) << message;
  // Found by fuzz_crop_record: a number as "format" let a JSON type error escape instead of the library's error.
  EXPECT_EQ(status_of([&] { CropRecord::from_json("{\"format\": 3}"); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("not a crop record"), std::string::npos) << message;
  nlohmann::json j = nlohmann::json::parse(record().to_json());
  j["box"]["index_end"][0] = 31;
  EXPECT_EQ(status_of([&] { CropRecord::from_json(j.dump()); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("box"), std::string::npos) << message;
  j = nlohmann::json::parse(record().to_json());
  j["cropped"]["origin"][0] = 0.0;
  EXPECT_EQ(status_of([&] { CropRecord::from_json(j.dump()); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("disagrees"), std::string::npos) << message;
  // Found by fuzz_crop_record: numbers that do not fit the field's type were cast regardless (undefined behaviour).
  for (const auto& [field, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"format_version", 2.2e67}, {"format_version", 1.5}, {"box.index_begin", -3}, {"box.index_end", 1e30}}) {
    j = nlohmann::json::parse(record().to_json());
    const auto dot = field.find('.');
    nlohmann::json& target = dot == std::string::npos ? j[field] : j[field.substr(0, dot)][field.substr(dot + 1)][0];
    target = value;
    EXPECT_EQ(status_of([&] { CropRecord::from_json(j.dump()); }, &message), Status::invalid_argument) << field;
    EXPECT_NE(message.find(field.substr(0, dot)), std::string::npos) << message;
  }
  // An organ crop's "search" is "region" or "scan"; a record without it (written before it existed) searched
  // the whole scan.
  CropRecord organ = record();
  organ.ape.organ = "parotids";
  organ.ape.search_region = true;
  j = nlohmann::json::parse(organ.to_json());
  EXPECT_EQ(j["ape"]["search"], "region");
  EXPECT_TRUE(CropRecord::from_json(j.dump()).ape.search_region);
  j["ape"].erase("search");
  EXPECT_FALSE(CropRecord::from_json(j.dump()).ape.search_region);
  // "corroborated_by" names the organ of the region also found; records written before it read as "".
  EXPECT_EQ(j["ape"]["corroborated_by"], "");
  j["ape"]["corroborated_by"] = "mandible";
  EXPECT_EQ(CropRecord::from_json(j.dump()).ape.corroborated_by, "mandible");
  j["ape"].erase("corroborated_by");
  EXPECT_TRUE(CropRecord::from_json(j.dump()).ape.corroborated_by.empty());
  j["ape"]["corroborated_by"] = 3;
  EXPECT_EQ(status_of([&] { CropRecord::from_json(j.dump()); }, &message), Status::invalid_argument);
  j["ape"]["search"] = "everywhere";
  EXPECT_EQ(status_of([&] { CropRecord::from_json(j.dump()); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("'search' must be"), std::string::npos) << message;
  EXPECT_EQ(status_of([&] { read_crop_record(path("missing.json")); }), Status::not_found);
}

TEST_F(CropFiles, RecallCountsMaskVoxelsInsideTheBox) {
  const CropRecord r = record();
  std::vector<float> voxels(r.original.voxel_count(), 0.0f);
  const auto at = [&](std::size_t i, std::size_t j, std::size_t k) -> float& {
    return voxels[i + r.original.size[0] * (j + r.original.size[1] * k)];
  };
  EXPECT_EQ(crop_recall(r, Volume(r.original, voxels)), 1.0);  // empty mask
  at(5, 3, 2) = at(24, 16, 13) = at(10, 10, 10) = 1.0f;        // inside (both box corners)
  at(4, 3, 2) = 1.0f;                                          // just outside along i
  EXPECT_DOUBLE_EQ(crop_recall(r, Volume(r.original, voxels)), 0.75);
  Geometry other = r.original;
  other.size[2] = 15;
  EXPECT_EQ(status_of([&] { (void)crop_recall(r, Volume(other, std::vector<float>(other.voxel_count()))); }),
            Status::invalid_argument);
}

TEST_F(CropFiles, UnwritableOutputLeavesNoFile) {
  const CropRecord r = record();
  write_raw_image(image<std::int16_t>(r.original, "short", 3), path("in.nii.gz"));
  EXPECT_EQ(status_of([&] { crop_file(r, path("in.nii.gz"), path("no/such/dir/out.nii.gz")); }), Status::io);
  EXPECT_EQ(status_of([&] { crop_file(r, path("in.nii.gz"), path("out.png")); }), Status::unsupported_input);
  EXPECT_FALSE(std::filesystem::exists(path("out.png")));
}

TEST(CropRealData, HeldOutOrganMasksKeepRecall) {
  SCOPED_TRACE("held-out cases of the bundled model (its metadata's validation_cases)");
  SLICENAV_REQUIRE_DATA(liver_case, "ct/ircad_1_17");
  SLICENAV_REQUIRE_DATA(lung_case, "ct/lung1_001");
  struct Case {
    std::string dir, region;
    std::vector<std::string> masks;
  };
  for (const Case& c : {Case{liver_case, "liver", {"liver"}}, Case{lung_case, "lungs", {"lung_left", "lung_right"}}}) {
    SCOPED_TRACE(c.dir);
    const Volume ct = read_volume(c.dir + "/ct.nii.gz");
    const CropRecord r = plan_crop(bundled_model(), ct, c.region);
    for (const auto& m : c.masks) EXPECT_GE(crop_recall(r, read_volume(c.dir + "/masks/" + m + ".nii.gz")), 0.99) << m;
    EXPECT_GT(r.volume_ratio(), 1.0);
  }
}

TEST(CropRealData, OrganCropsKeepTheOrganAndAreRefusedWhereItIsNot) {
  SLICENAV_REQUIRE_DATA(hn, "hn/openkbp_pt001");
  SLICENAV_REQUIRE_DATA(pelvis, "ct/pelvref_003");
  SLICENAV_REQUIRE_DATA(extremity, "ood/ibsi_sts_001");
  // The scans' own templates are in the bundled model: this checks the whole path on real anatomy, not
  // held-out accuracy (docs/ape.md measures that leave-one-patient-out).
  struct Case {
    std::string dir, organ;
    std::vector<std::string> masks;
  };
  for (const Case& c : {Case{hn, "parotids", {"parotid_left", "parotid_right"}}, Case{hn, "brainstem", {"brainstem"}},
                        Case{hn, "mandible", {"mandible"}}, Case{pelvis, "urinary_bladder", {"urinary_bladder"}},
                        Case{pelvis, "femur_heads", {"femur_left", "femur_right"}}}) {
    SCOPED_TRACE(c.dir + " " + c.organ);
    const Volume ct = read_volume(c.dir + "/ct.nii.gz");
    const CropRecord r = plan_crop(bundled_model(), ct, c.organ);
    EXPECT_TRUE(r.ape.used) << r.ape.note;
    const CropRecord region = plan_crop(bundled_model(), ct, r.region.name);
    EXPECT_GT(r.volume_ratio(), 1.5 * region.volume_ratio());
    for (const auto& m : c.masks) EXPECT_GE(crop_recall(r, read_volume(c.dir + "/masks/" + m + ".nii.gz")), 0.99) << m;
  }
  // Where the organ is not: its region is not in the scan, or the scan is not recognised (the head-and-neck
  // region keeps such scans, and the edges then do not match); never a box.
  std::string message;
  const Volume pelvis_ct = read_volume(pelvis + "/ct.nii.gz");
  EXPECT_EQ(status_of([&] { plan_crop(bundled_model(), pelvis_ct, "parotids"); }, &message), Status::unsupported_input);
  EXPECT_NE(message.find("organ 'parotids'"), std::string::npos) << message;
  EXPECT_EQ(status_of([&] { plan_crop(bundled_model(), read_volume(hn + "/ct.nii.gz"), "urinary_bladder"); }),
            Status::unsupported_input);
  const Volume extremity_ct = read_volume(extremity + "/ct.nii.gz");
  EXPECT_EQ(status_of([&] { plan_crop(bundled_model(), extremity_ct, "urinary_bladder"); }), Status::unsupported_input);
  const CropRecord hn_organ = plan_crop(bundled_model(), extremity_ct, "brainstem");
  EXPECT_FALSE(hn_organ.ape.used);
  EXPECT_EQ(hn_organ.coverage, "unlocated");
  // The larynx's edges match this extremity's soft tissue about as well as a real larynx, but none of the
  // head-and-neck's other organs is found there to corroborate them.
  const CropRecord larynx = plan_crop(bundled_model(), extremity_ct, "larynx");
  EXPECT_LE(larynx.ape.match_distance, larynx.ape.max_distance);
  EXPECT_FALSE(larynx.ape.used);
  EXPECT_NE(larynx.ape.note.find("none of region 'head-neck''s other organs"), std::string::npos) << larynx.ape.note;
}

TEST(CropRealData, LarynxIsBoxedWhereItsRegionsOtherOrgansAreFound) {
  SLICENAV_REQUIRE_DATA(hn, "hn/openkbp_pt004");
  const Volume ct = read_volume(hn + "/ct.nii.gz");
  const CropRecord r = plan_crop(bundled_model(), ct, "larynx");
  EXPECT_TRUE(r.ape.used) << r.ape.note;
  EXPECT_FALSE(r.ape.corroborated_by.empty());
  EXPECT_NE(r.ape.corroborated_by, "larynx");
  // The box is cut to the region's crop: never larger (here, enlarged to cover heads tilted by 10 degrees, it
  // spans all of it).
  EXPECT_GE(r.volume_ratio(), plan_crop(bundled_model(), ct, "head-neck").volume_ratio());
  EXPECT_GE(crop_recall(r, read_volume(hn + "/masks/larynx.nii.gz")), 0.99);
}

TEST(CropRealData, ChestScanGetsNoHeadAndNeckOrganBox) {
  // A chest CT from the thoracic inlet down: the head-and-neck region is only partly in it, and the
  // mandible's and brainstem's edges match what lies nearest them there (the organs corroborate each other),
  // so the region's partial crop is kept, never their boxes.
  SLICENAV_REQUIRE_DATA(chest, "ct/lidc_0001");
  const Volume ct = read_volume(chest + "/ct.nii.gz");
  for (const char* organ : {"mandible", "brainstem", "parotids", "larynx"}) {
    SCOPED_TRACE(organ);
    const CropRecord r = plan_crop(bundled_model(), ct, organ);
    EXPECT_EQ(r.coverage, "partial");
    EXPECT_FALSE(r.ape.used);
    const CropRecord region = plan_crop(bundled_model(), ct, "head-neck");
    EXPECT_EQ(r.box.begin, region.box.begin);
    EXPECT_EQ(r.box.end, region.box.end);
    ASSERT_FALSE(r.warnings.empty());
  }
}

TEST(CropRealData, UnrecognisedScanIsRefusedOrKeepsEverySliceForHeadNeck) {
  SLICENAV_REQUIRE_DATA(dir, "ood/ibsi_sts_001");
  const Volume ct = read_volume(dir + "/ct.nii.gz");
  std::string message;
  EXPECT_EQ(status_of([&] { plan_crop(bundled_model(), ct, "liver"); }, &message), Status::unsupported_input);
  EXPECT_NE(message.find("does not recognise"), std::string::npos) << message;
  const CropRecord r = plan_crop(bundled_model(), ct, "head-neck");
  EXPECT_EQ(r.coverage, "unlocated");
  EXPECT_FALSE(r.recognised);
  EXPECT_EQ(r.box.size()[2], ct.geometry().size[2]);
  EXPECT_FALSE(r.warnings.empty());
}

}  // namespace
}  // namespace slicenav
