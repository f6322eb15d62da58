#include "ape_network.hpp"

#include <string>

#include "slicenav/error.hpp"

namespace slicenav::detail {

void ApeNetConfig::validate() const {
  if (!(voxel_mm > 0.0 && voxel_mm <= 64.0)) fail(Status::invalid_argument, "APE network: voxel_mm must be in (0, 64]");
  if (widths.size() < 2 || widths.size() > 6) fail(Status::invalid_argument, "APE network: 2 to 6 levels");
  for (int w : widths) {
    if (w <= 0 || w > 1024) fail(Status::invalid_argument, "APE network: level widths must be in [1, 1024]");
  }
  if (!(hu_high > hu_low)) fail(Status::invalid_argument, "APE network: hu_high must exceed hu_low");
}

namespace {

namespace nn = torch::nn;

// Two 3x3x3 convolutions with batch norm and ReLU; the first one strided when `stride` is 2.
nn::Sequential conv_block(int in, int out, int stride) {
  return nn::Sequential(nn::Conv3d(nn::Conv3dOptions(in, out, 3).stride(stride).padding(1).bias(false)),
                        nn::BatchNorm3d(out), nn::ReLU(),
                        nn::Conv3d(nn::Conv3dOptions(out, out, 3).padding(1).bias(false)), nn::BatchNorm3d(out),
                        nn::ReLU());
}

torch::Tensor resize(const torch::Tensor& x, const torch::Tensor& like) {
  return nn::functional::interpolate(x, nn::functional::InterpolateFuncOptions()
                                            .size(std::vector<std::int64_t>{like.size(2), like.size(3), like.size(4)})
                                            .mode(torch::kTrilinear)
                                            .align_corners(false));
}

}  // namespace

ApeNetImpl::ApeNetImpl(const ApeNetConfig& c) : config(c) {
  config.validate();
  const auto& w = config.widths;
  stem = register_module(
      "stem", nn::Sequential(nn::Conv3d(nn::Conv3dOptions(1, w[0], kApeStride).stride(kApeStride).bias(false)),
                             nn::BatchNorm3d(w[0]), nn::ReLU(),
                             nn::Conv3d(nn::Conv3dOptions(w[0], w[0], 3).padding(1).bias(false)),
                             nn::BatchNorm3d(w[0]), nn::ReLU()));
  down = register_module("down", nn::ModuleList());
  up = register_module("up", nn::ModuleList());
  for (std::size_t k = 1; k < w.size(); ++k) {
    down->push_back(conv_block(w[k - 1], w[k], 2));
    up->push_back(conv_block(w[k] + w[k - 1], w[k - 1], 1));
  }
  head = register_module("head", nn::Conv3d(nn::Conv3dOptions(w[0], kApeDim, 1)));
  norm = register_module("norm", nn::BatchNorm3d(nn::BatchNorm3dOptions(kApeDim).affine(false)));
}

torch::Tensor ApeNetImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 5 || x.size(1) != 1 || x.size(2) % kApeStride || x.size(3) % kApeStride || x.size(4) % kApeStride) {
    fail(Status::invalid_argument, "APE network: input must be [B, 1, Z, Y, X] with Z, Y, X multiples of 4");
  }
  std::vector<torch::Tensor> levels{stem->forward(x)};
  for (const auto& block : *down) levels.push_back(block->as<nn::Sequential>()->forward(levels.back()));
  torch::Tensor h = levels.back();
  for (auto k = static_cast<std::ptrdiff_t>(up->size()) - 1; k >= 0; --k) {
    const torch::Tensor& skip = levels[static_cast<std::size_t>(k)];
    h = up[static_cast<std::size_t>(k)]->as<nn::Sequential>()->forward(torch::cat({resize(h, skip), skip}, 1));
  }
  return resize(norm->forward(head->forward(h)), x);
}

}  // namespace slicenav::detail
