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

}  // namespace
}  // namespace slicenav
