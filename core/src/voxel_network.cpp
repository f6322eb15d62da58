#include "voxel_network.hpp"

#include <string>

#include "slicenav/error.hpp"

namespace slicenav::detail {

void VoxelNetConfig::validate() const {
  if (!(voxel_mm > 0.0)) fail(Status::invalid_argument, "voxel network: voxel_mm must be > 0");
  if (widths.size() < 2) fail(Status::invalid_argument, "voxel network: at least two stages");
  for (int w : widths) {
    if (w <= 0) fail(Status::invalid_argument, "voxel network: stage widths must be > 0");
  }
  if (pyramid <= 0 || dim <= 0) fail(Status::invalid_argument, "voxel network: pyramid and dim must be > 0");
  if (!(hu_high > hu_low)) fail(Status::invalid_argument, "voxel network: hu_high must exceed hu_low");
}

namespace {

torch::nn::Conv3dOptions conv(int in, int out, int kernel, int stride) {
  return torch::nn::Conv3dOptions(in, out, kernel).stride(stride).padding(kernel / 2);
}

}  // namespace

VoxelNetImpl::VoxelNetImpl(const VoxelNetConfig& c) : config(c) {
  config.validate();
  stages = register_module("stages", torch::nn::ModuleList());
  lateral = register_module("lateral", torch::nn::ModuleList());
  int in = 1;
  for (int w : config.widths) {
    stages->push_back(torch::nn::Sequential(torch::nn::Conv3d(conv(in, w, 3, 2)), torch::nn::ReLU(),
                                            torch::nn::Conv3d(conv(w, w, 3, 1)), torch::nn::ReLU()));
    lateral->push_back(torch::nn::Conv3d(conv(w, config.pyramid, 1, 1)));
    in = w;
  }
  head = register_module("head", torch::nn::Conv3d(conv(config.pyramid, config.dim, 1, 1)));
}

torch::Tensor VoxelNetImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> levels;
  torch::Tensor h = x;
  for (const auto& stage : *stages) {
    h = stage->as<torch::nn::Sequential>()->forward(h);
    levels.push_back(h);
  }
  torch::Tensor p;
  for (auto k = static_cast<std::ptrdiff_t>(levels.size()) - 1; k >= 0; --k) {
    const auto& level = levels[static_cast<std::size_t>(k)];
    auto lat = lateral[static_cast<std::size_t>(k)]->as<torch::nn::Conv3d>()->forward(level);
    if (p.defined()) {
      lat = lat + torch::nn::functional::interpolate(
                      p, torch::nn::functional::InterpolateFuncOptions()
                             .size(std::vector<std::int64_t>{level.size(2), level.size(3), level.size(4)})
                             .mode(torch::kTrilinear)
                             .align_corners(false));
    }
    p = lat;
  }
  return torch::nn::functional::normalize(head->forward(torch::relu(p)),
                                          torch::nn::functional::NormalizeFuncOptions().dim(1));
}

}  // namespace slicenav::detail
