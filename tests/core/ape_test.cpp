// Anatomical positional embeddings: the network's shape contract, the model file's APE section, the map's grid,
// its vector NIfTI, and bad input. A small untrained network on phantoms: what is tested is the plumbing, not
// the embedding's quality (docs/ape.md has the real-data measurements).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "ape_network.hpp"
#include "model_fixtures.hpp"
#include "nifti.hpp"
#include "slice_network.hpp"
#include "slicenav/ape.hpp"
#include "slicenav/error.hpp"
#include "slicenav/model_file.hpp"
#include "test_support.hpp"

namespace slicenav {
namespace {

using test::status_of;

detail::ApeNetConfig small_ape_config() {
  detail::ApeNetConfig c;
  c.widths = {4, 8};
  c.voxel_mm = 20.0;
  return c;
}

// A tiny navigation model with a small APE network of random weights (batch-norm statistics as initialised).
Model model_with_ape() {
  Model model(test::tiny_model_config(), 1);
  torch::manual_seed(2);
  model.impl().ape = detail::ApeNet(small_ape_config());
  model.impl().ape->eval();
  return model;
}

TEST(ApeNetwork, GivesThreeChannelsOnTheInputGridAndRejectsOtherShapes) {
  detail::ApeNet net(small_ape_config());
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor out = net->forward(torch::rand({2, 1, 8, 12, 20}) * 2 - 1);
  EXPECT_EQ(out.sizes().vec(), (std::vector<std::int64_t>{2, 3, 8, 12, 20}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_EQ(status_of([&] { net->forward(torch::zeros({1, 1, 8, 12, 18})); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { net->forward(torch::zeros({1, 2, 8, 12, 20})); }), Status::invalid_argument);
  EXPECT_EQ(status_of([] { detail::ApeNet(detail::ApeNetConfig{0.0}); }), Status::invalid_argument);
}

TEST(ApeNetwork, FinalBatchNormHasNoAffineParametersAndNormalisesEachChannel) {
  detail::ApeNet net(small_ape_config());
  for (const auto& p : net->named_parameters()) EXPECT_NE(p.key().rfind("norm.", 0), 0u) << p.key();
  net->train();
  torch::NoGradGuard no_grad;
  // In training mode the embeddings of a batch have zero mean and unit variance per channel before the
  // upsampling, which averages neighbours: the mean stays 0 and the variance at most 1.
  const torch::Tensor out = net->forward(torch::rand({4, 1, 16, 16, 16}) * 2 - 1);
  for (std::int64_t c = 0; c < 3; ++c) {
    const torch::Tensor channel = out.select(1, c);
    EXPECT_NEAR(channel.mean().item<double>(), 0.0, 1e-3);
    EXPECT_LE(channel.var().item<double>(), 1.01);
    EXPECT_GT(channel.var().item<double>(), 0.05);
  }
}

class ApeFiles : public test::TempDirTest {};

TEST_F(ApeFiles, ModelFileKeepsTheNetworkAndRefusesTensorsWithoutItsSection) {
  const Model model = model_with_ape();
  const std::string path = this->path("ape.snm");
  model.save(path);
  const Model loaded = Model::load(path);
  ASSERT_TRUE(loaded.has_ape_network());
  EXPECT_EQ(loaded.impl().ape->config.widths, small_ape_config().widths);
  EXPECT_DOUBLE_EQ(loaded.impl().ape->config.voxel_mm, 20.0);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::rand({1, 1, 8, 8, 8}) * 2 - 1;
  EXPECT_TRUE(torch::equal(model.impl().ape->forward(x), loaded.impl().ape->forward(x)));
  EXPECT_FALSE(Model(test::tiny_model_config(), 1).has_ape_network());

  ModelFile file = load_model_file(path);
  const std::size_t at = file.metadata_json.find("\"ape_network\"");
  ASSERT_NE(at, std::string::npos);
  file.metadata_json.replace(at, 13, "\"ape_networx\"");
  save_model_file(file, this->path("orphan.snm"));
  std::string message;
  EXPECT_EQ(status_of([&] { Model::load(this->path("orphan.snm")); }, &message), Status::model_format);
  EXPECT_NE(message.find("APE network tensors"), std::string::npos) << message;
}

TEST(Ape, MapCoversTheScanOnTheWorldGridOfTheNetworksSpacing) {
  const Model model = model_with_ape();
  const Volume ct = test::small_phantom("LPS", 24, 40.0, 10.0);
  const ApeMap map = ape_map(model, ct);
  const WorldGrid expected = world_grid_geometry(ct, 20.0);
  EXPECT_EQ(map.grid.size, expected.size);
  EXPECT_DOUBLE_EQ(map.grid.spacing_mm, 20.0);
  for (std::size_t a = 0; a < 3; ++a) EXPECT_DOUBLE_EQ(map.grid.origin[a], expected.origin[a]);
  ASSERT_EQ(map.grid.values.size(), kApeChannels * map.voxel_count());
  for (float v : map.grid.values) ASSERT_TRUE(std::isfinite(v));
  const WorldGrid grid = ape_grid(model, ct);
  EXPECT_EQ(grid.size, map.grid.size);
  EXPECT_TRUE(grid.values.empty());
  // The map of a scan in another axis order is the same map: the grid follows the world, not the file.
  const ApeMap other = ape_map(model, test::small_phantom("RAI", 24, 40.0, 10.0));
  ASSERT_EQ(other.grid.size, map.grid.size);
  for (std::size_t i = 0; i < map.grid.values.size(); ++i) {
    ASSERT_NEAR(other.grid.values[i], map.grid.values[i], 1e-4) << i;
  }
}

TEST(Ape, BadInputSaysWhy) {
  const Volume ct = test::small_phantom("LPS", 24, 40.0, 10.0);
  std::string message;
  EXPECT_EQ(status_of([&] { ape_map(Model(test::tiny_model_config(), 1), ct); }, &message),
            Status::unsupported_input);
  EXPECT_NE(message.find("positional embedding"), std::string::npos) << message;
  // Not CT: no voxel in air's range.
  std::vector<float> mr(ct.voxel_count(), 300.0f);
  const Volume not_ct(ct.geometry(), std::move(mr));
  EXPECT_EQ(status_of([&] { ape_map(model_with_ape(), not_ct); }, &message), Status::unsupported_input);
  EXPECT_NE(message.find("CT"), std::string::npos) << message;
  // A single slice spans one voxel of the map's grid along z: fewer than one cell of the network's first
  // convolution. The size query refuses it too.
  const Volume one_slice = test::small_phantom("LPS", 1, 40.0, 10.0);
  EXPECT_EQ(status_of([&] { ape_map(model_with_ape(), one_slice); }, &message), Status::unsupported_input);
  EXPECT_NE(message.find("along world axis z"), std::string::npos) << message;
  EXPECT_EQ(status_of([&] { ape_grid(model_with_ape(), one_slice); }), Status::unsupported_input);
  // Four slices 20 mm apart (the test network's spacing) are one cell: a map.
  EXPECT_EQ(ape_map(model_with_ape(), test::small_phantom("LPS", 4, 40.0, 20.0)).grid.size[2], 4u);
}

TEST_F(ApeFiles, WritesAThreeComponentFloatNiftiOnTheMapsGrid) {
  const ApeMap map = ape_map(model_with_ape(), test::small_phantom("LPS", 24, 40.0, 10.0));
  for (const std::string name : {"ape.nii.gz", "ape.nii"}) {
    const std::string out = path(name);
    write_ape_map(map, out, 1);
    const auto header = detail::read_nifti_header(out);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->dim[0], 5);
    EXPECT_EQ(header->dim[5], 3);
    EXPECT_EQ(header->datatype, 16u);
    for (std::size_t a = 0; a < 3; ++a) {
      EXPECT_EQ(header->dim[a + 1], static_cast<std::int64_t>(map.grid.size[a]));
      EXPECT_DOUBLE_EQ(header->pixdim[a], 20.0);
    }
    const detail::NiftiRaw raw = detail::read_nifti_raw(out, *header, kApeChannels * map.voxel_count());
    ASSERT_EQ(raw.bytes.size(), map.grid.values.size() * sizeof(float));
    EXPECT_EQ(std::memcmp(raw.bytes.data(), map.grid.values.data(), raw.bytes.size()), 0);
  }
  EXPECT_EQ(status_of([&] { write_ape_map(map, path("ape.mha")); }), Status::unsupported_input);
  EXPECT_EQ(status_of([&] { write_ape_map(map, path("bad.nii.gz"), 13); }), Status::invalid_argument);
  ApeMap empty;
  EXPECT_EQ(status_of([&] { write_ape_map(empty, path("empty.nii.gz")); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { write_ape_map(map, path("missing/ape.nii.gz")); }), Status::io);
  EXPECT_FALSE(std::filesystem::exists(path("ape.mha")));
  EXPECT_FALSE(std::filesystem::exists(path("bad.nii.gz")));
  EXPECT_FALSE(std::filesystem::exists(path("empty.nii.gz")));
}

// A map whose embedding is the world position / 100 mm: 21 x 11 x 31 voxels of 10 mm from (-100, 0, 50).
ApeMap linear_map() {
  ApeMap m;
  m.grid.size = {21, 11, 31};
  m.grid.spacing_mm = 10.0;
  m.grid.origin = {-100.0, 0.0, 50.0};
  const std::size_t n = m.voxel_count();
  m.grid.values.resize(kApeChannels * n);
  for (std::size_t z = 0; z < 31; ++z) {
    for (std::size_t y = 0; y < 11; ++y) {
      for (std::size_t x = 0; x < 21; ++x) {
        const Vec3 w = m.grid.world({static_cast<double>(x), static_cast<double>(y), static_cast<double>(z)});
        for (std::size_t c = 0; c < 3; ++c) m.grid.values[c * n + x + 21 * (y + 11 * z)] = static_cast<float>(w[c] / 100);
      }
    }
  }
  return m;
}

TEST(ApeBoxes, EmbeddingsAreReadTrilinearlyAndFoundByNearestNeighbour) {
  const ApeMap m = linear_map();
  const ApeEmbedding e = ape_at(m, {-23.0, 41.5, 77.7});
  EXPECT_NEAR(e[0], -0.23, 1e-6);
  EXPECT_NEAR(e[1], 0.415, 1e-6);
  EXPECT_NEAR(e[2], 0.777, 1e-6);
  // Beyond the grid: the nearest voxel's value.
  EXPECT_NEAR(ape_at(m, {500.0, -30.0, 0.0})[0], 1.0, 1e-6);
  EXPECT_NEAR(ape_at(m, {500.0, -30.0, 0.0})[1], 0.0, 1e-6);
  EXPECT_NEAR(ape_at(m, {500.0, -30.0, 0.0})[2], 0.5, 1e-6);
  const std::vector<ApeMatch> found =
      ape_nearest(m, {ApeEmbedding{-0.23f, 0.416f, 0.777f}, ApeEmbedding{9.f, 9.f, 9.f}});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].world, (Vec3{-20.0, 40.0, 80.0}));
  EXPECT_NEAR(found[0].distance, std::sqrt(0.03 * 0.03 + 0.016 * 0.016 + 0.023 * 0.023), 1e-6);
  EXPECT_EQ(found[1].world, (Vec3{100.0, 100.0, 350.0}));  // the far corner
  EXPECT_EQ(status_of([] { ape_nearest(ApeMap{}, {ApeEmbedding{}}); }), Status::invalid_argument);
  // Searched within a box: the nearest voxel inside it, even where a better one lies outside.
  const WorldBox low_x{{-1e9, -1e9, -1e9}, {-40.0, 1e9, 1e9}};
  const std::vector<ApeMatch> inside = ape_nearest(m, {ApeEmbedding{-0.23f, 0.416f, 0.777f}}, low_x);
  EXPECT_EQ(inside[0].world, (Vec3{-40.0, 40.0, 80.0}));
  EXPECT_NEAR(inside[0].distance, std::sqrt(0.17 * 0.17 + 0.016 * 0.016 + 0.023 * 0.023), 1e-6);
  // A box thinner than a voxel, between two grid planes: the voxels whose cells it overlaps.
  const WorldBox thin{{-1e9, -1e9, 83.0}, {1e9, 1e9, 84.0}};
  EXPECT_EQ(ape_nearest(m, {ApeEmbedding{-0.23f, 0.416f, 0.777f}}, thin)[0].world, (Vec3{-20.0, 40.0, 80.0}));
  const WorldBox beside{{-1e9, -1e9, -1e9}, {-106.0, 1e9, 1e9}};
  EXPECT_EQ(status_of([&] { ape_nearest(m, {ApeEmbedding{}}, beside); }), Status::invalid_argument);
}

TEST(ApeBoxes, BoxIsTheMeanOfEachTemplatesRetrievedEdges) {
  const ApeMap m = linear_map();
  const auto at = [](double x, double y, double z) {
    return ApeEmbedding{static_cast<float>(x / 100), static_cast<float>(y / 100), static_cast<float>(z / 100)};
  };
  // Template 1 points at the box x -50..50, y 20..80, z 100..200; template 2 at x -30..70, y 0..60, z 120..260.
  ApeOrganTemplate t1{"a", {at(-50, 50, 150), at(50, 50, 150), at(0, 20, 150), at(0, 80, 150), at(0, 50, 100),
                            at(0, 50, 200)}};
  ApeOrganTemplate t2{"b", {at(-30, 30, 190), at(70, 30, 190), at(20, 0, 190), at(20, 60, 190), at(20, 30, 120),
                            at(20, 30, 260)}};
  const WorldBox one = ape_box(m, {t1});
  EXPECT_EQ(one.lo, (Vec3{-50.0, 20.0, 100.0}));
  EXPECT_EQ(one.hi, (Vec3{50.0, 80.0, 200.0}));
  const WorldBox both = ape_box(m, {t1, t2});
  EXPECT_EQ(both.lo, (Vec3{-40.0, 10.0, 110.0}));
  EXPECT_EQ(both.hi, (Vec3{60.0, 70.0, 230.0}));
  const WorldBox big = both.enlarged(2.0);
  EXPECT_EQ(big.lo, (Vec3{-90.0, -20.0, 50.0}));
  EXPECT_EQ(big.hi, (Vec3{110.0, 100.0, 290.0}));
  EXPECT_TRUE(big.contains({0.0, 0.0, 60.0}));
  EXPECT_FALSE(both.contains({0.0, 0.0, 60.0}));
  EXPECT_EQ(status_of([&] { ape_box(m, {}); }), Status::invalid_argument);
}

TEST(ApeBoxes, MaskEdgePointsAreTheCentroidsOfTheExtremePlanes) {
  // A 20 x 20 x 10 grid of 2 x 2 x 5 mm; the mask is the block x 4..9, y 2..13, z 3..6 and one extra voxel
  // (x 15, y 8, z 5) that alone makes the +x edge.
  Geometry g;
  g.size = {20, 20, 10};
  g.spacing = {2.0, 2.0, 5.0};
  g.origin = {10.0, -20.0, 100.0};
  std::vector<std::int16_t> v(g.voxel_count(), 0);
  for (std::size_t z = 3; z <= 6; ++z)
    for (std::size_t y = 2; y <= 13; ++y)
      for (std::size_t x = 4; x <= 9; ++x) v[x + 20 * (y + 20 * z)] = 1;
  v[15 + 20 * (8 + 20 * 5)] = 1;
  const std::array<Vec3, 6> e = mask_edge_points(Volume(g, v));
  // -x: the planes x = 4 and 5 (within 2 mm of the lowest): centre y = 7.5, z = 4.5 in index units.
  EXPECT_NEAR(e[0][0], 10.0 + 2 * 4.5, 1e-9);
  EXPECT_NEAR(e[0][1], -20.0 + 2 * 7.5, 1e-9);
  EXPECT_NEAR(e[0][2], 100.0 + 5 * 4.5, 1e-9);
  EXPECT_NEAR(e[1][0], 10.0 + 2 * 15, 1e-9);  // the lone voxel
  EXPECT_NEAR(e[1][2], 100.0 + 5 * 5, 1e-9);
  EXPECT_NEAR(e[4][2], 100.0 + 5 * 3, 1e-9);  // -z: plane z = 3 only (5 mm apart)
  EXPECT_NEAR(e[5][2], 100.0 + 5 * 6, 1e-9);
  EXPECT_EQ(status_of([&] { mask_edge_points(Volume(g, std::vector<std::int16_t>(g.voxel_count(), 0))); }),
            Status::invalid_argument);
  // From the voxels' world positions, in any order, the same points.
  std::vector<Vec3> world;
  for (std::size_t n = v.size(); n-- > 0;) {
    if (v[n] != 0) {
      world.push_back(g.index_to_world({static_cast<double>(n % 20), static_cast<double>((n / 20) % 20),
                                        static_cast<double>(n / 400)}));
    }
  }
  const std::array<Vec3, 6> from_points = edge_points(world);
  for (std::size_t s = 0; s < 6; ++s) {
    for (std::size_t a = 0; a < 3; ++a) EXPECT_NEAR(from_points[s][a], e[s][a], 1e-9) << s << " " << a;
  }
  EXPECT_EQ(status_of([] { edge_points({}); }), Status::invalid_argument);
}

ApeOrganTemplate box_template(const std::string& id, Vec3 lo, Vec3 hi) {
  const auto at = [](double x, double y, double z) {
    return ApeEmbedding{static_cast<float>(x / 100), static_cast<float>(y / 100), static_cast<float>(z / 100)};
  };
  const Vec3 c{(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2};
  return {id,
          {at(lo[0], c[1], c[2]), at(hi[0], c[1], c[2]), at(c[0], lo[1], c[2]), at(c[0], hi[1], c[2]),
           at(c[0], c[1], lo[2]), at(c[0], c[1], hi[2])}};
}

TEST(ApeBoxes, OrgansRoundTripThroughJsonAndBadSectionsAreRefused) {
  ApeOrgan liver{"liver", "abdomen", 1.5, 0.05, {box_template("a", {-50, 20, 100}, {50, 80, 200})}, true};
  const std::vector<ApeOrgan> back = ape_organs_from_json(ape_organs_to_json({liver}));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].name, "liver");
  EXPECT_EQ(back[0].region, "abdomen");
  EXPECT_TRUE(back[0].search_region);
  // A section written before "search" existed searches the whole scan.
  const std::string old = "{\"liver\": {\"region\": \"abdomen\", \"factor\": 2, \"max_distance\": 1, \"templates\": "
                          "[{\"case\": \"a\", \"edges\": [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]]}]}}";
  EXPECT_FALSE(ape_organs_from_json(old).at(0).search_region);
  std::string everywhere = old;
  everywhere.insert(everywhere.find("\"templates\""), "\"search\": \"everywhere\", ");
  std::string message;
  EXPECT_EQ(status_of([&] { ape_organs_from_json(everywhere); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("'search' must be"), std::string::npos) << message;
  EXPECT_DOUBLE_EQ(back[0].factor, 1.5);
  EXPECT_DOUBLE_EQ(back[0].max_distance, 0.05);
  ASSERT_EQ(back[0].templates.size(), 1u);
  EXPECT_EQ(back[0].templates[0].case_id, "a");
  EXPECT_EQ(back[0].templates[0].edges, liver.templates[0].edges);
  for (const std::string bad :
       {"[]", "{\"liver\": {\"factor\": 2, \"max_distance\": 1, \"templates\": [{\"case\": \"a\"}]}}",
        "{\"liver\": {\"region\": \"\", \"factor\": 2, \"max_distance\": 1, \"templates\": []}}",
        "{\"liver\": {\"region\": \"abdomen\", \"factor\": 0.5, \"max_distance\": 1, \"templates\": []}}",
        "{\"liver\": {\"region\": \"abdomen\", \"factor\": 2, \"max_distance\": 1, \"templates\": []}}",
        "{\"liver\": {\"region\": \"abdomen\", \"factor\": 2, \"max_distance\": -1, \"templates\": [{\"case\": \"a\"}]}}",
        "{\"liver\": {\"region\": \"abdomen\", \"factor\": 2, \"max_distance\": 1, \"templates\": [{\"case\": \"a\", \"edges\": [[1, 2]]}]}}",
        "not json"}) {
    EXPECT_EQ(status_of([&] { ape_organs_from_json(bad); }), Status::invalid_argument) << bad;
  }
  // The section is checked when it is set and when a file is loaded.
  Model without(test::tiny_model_config(), 1);
  EXPECT_EQ(status_of([&] { without.set_metadata_section("ape_organs", ape_organs_to_json({liver})); }),
            Status::invalid_argument);
  Model model = model_with_ape();
  EXPECT_EQ(status_of([&] { model.set_metadata_section("ape_organs", "{\"liver\": 1}"); }), Status::invalid_argument);
  model.set_metadata_section("ape_organs", ape_organs_to_json({liver}));
  EXPECT_EQ(ape_organs(model).size(), 1u);
  EXPECT_TRUE(ape_organs(model_with_ape()).empty());
}

TEST(ApeBoxes, OrganBoxIsEnlargedCutToTheScanAndNotFoundWhenItsEdgesDoNotMatch) {
  const ApeMap m = linear_map();  // x -100..100, y 0..100, z 50..350
  Model model = model_with_ape();
  const ApeOrgan liver{"liver", "abdomen", 2.0, 0.05, {box_template("a", {-50, 20, 100}, {50, 80, 200})}};
  // A "heart" whose edges lie 1 m away from anything in the map.
  const ApeOrgan heart{"heart", "heart", 1.2, 0.05, {box_template("b", {900, 900, 900}, {1000, 1000, 1000})}};
  model.set_metadata_section("ape_organs", ape_organs_to_json({liver, heart}));
  const OrganBox b = ape_organ_box(model, m, "liver");
  EXPECT_TRUE(b.found) << b.note;
  EXPECT_EQ(b.retrieved.lo, (Vec3{-50.0, 20.0, 100.0}));
  EXPECT_EQ(b.retrieved.hi, (Vec3{50.0, 80.0, 200.0}));
  // Enlarged twice about its centre (0, 50, 150): x -100..100, y -10..110 cut to 0..100, z 50..250.
  EXPECT_EQ(b.box.lo, (Vec3{-100.0, 0.0, 50.0}));
  EXPECT_EQ(b.box.hi, (Vec3{100.0, 100.0, 250.0}));
  EXPECT_TRUE(b.partial);
  EXPECT_DOUBLE_EQ(b.factor, 2.0);
  EXPECT_EQ(b.templates, 1u);
  EXPECT_NEAR(b.match_distance, 0.0, 1e-6);
  // The six edge points found, in the template's order -x, +x, -y, +y, -z, +z.
  ASSERT_EQ(b.edges.size(), 6u);
  EXPECT_EQ(b.edges[0].world[0], -50.0);
  EXPECT_EQ(b.edges[1].world[0], 50.0);
  EXPECT_EQ(b.edges[3].world[1], 80.0);
  EXPECT_EQ(b.edges[4].world[2], 100.0);
  EXPECT_NEAR(b.edges[5].distance, 0.0, 1e-6);
  // Searched for in a part of the scan only (plan_crop passes an organ's region crop), and cut to it: the -y
  // edge (y 20) is found on the part's face.
  const OrganBox part = ape_organ_box(model, m, "liver", WorldBox{{-1e9, 30.0, -1e9}, {1e9, 1e9, 1e9}});
  EXPECT_TRUE(part.found) << part.note;
  EXPECT_EQ(part.retrieved.lo, (Vec3{-50.0, 30.0, 100.0}));
  EXPECT_EQ(part.retrieved.hi, b.retrieved.hi);
  EXPECT_EQ(part.box.lo[1], 30.0);
  EXPECT_EQ(part.box.hi[1], 100.0);
  const OrganBox h = ape_organ_box(model, m, "heart");
  EXPECT_FALSE(h.found);
  EXPECT_GT(h.match_distance, 1.0);
  EXPECT_NE(h.note.find("not found"), std::string::npos) << h.note;
  std::string message;
  EXPECT_EQ(status_of([&] { ape_organ_box(model, m, "spleen"); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("heart, liver"), std::string::npos) << message;
  EXPECT_EQ(status_of([&] { ape_organ_box(model_with_ape(), m, "liver"); }), Status::unsupported_input);
}

}  // namespace
}  // namespace slicenav
