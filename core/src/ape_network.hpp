// The anatomical positional embedding network (seed anatomical-positional-embeddings, APE): a UNet-like 3D CNN
// that maps a CT on an isotropic world grid to 3 values per voxel whose distances follow the anatomy's
// distances in an average patient. Internal: includes <torch/torch.h>.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace slicenav::detail {

struct ApeNetConfig {
  double voxel_mm = 4.0;                       // grid spacing the map is computed on at inference
  std::vector<int> widths{16, 32, 64, 128};    // encoder levels at 4, 8, 16 and 32 input voxels
  float hu_low = -1000.0f, hu_high = 1000.0f;  // window mapped to [-1, 1] at inference
  // Throws Error(invalid_argument) naming the first bad field.
  void validate() const;
};

constexpr int kApeDim = 3;  // embedding length: one value per physical axis
constexpr int kApeStride = 4;

// [B, 1, Z, Y, X] in [-1, 1], each of Z, Y, X a multiple of kApeStride -> [B, 3, Z, Y, X].
// A stride-4 4x4x4 stem convolution, an encoder of stride-2 levels and a decoder that upsamples each level
// onto the finer one's grid and joins its skip connection (two 3x3x3 convolutions, batch norm and ReLU per
// level), a 1x1x1 convolution to 3 channels, batch norm without affine parameters (zero mean and unit
// variance per channel, by construction), and a trilinear x4 upsampling back onto the input grid.
struct ApeNetImpl : torch::nn::Module {
  explicit ApeNetImpl(const ApeNetConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  ApeNetConfig config;
  torch::nn::Sequential stem{nullptr};
  torch::nn::ModuleList down{nullptr}, up{nullptr};
  torch::nn::Conv3d head{nullptr};
  torch::nn::BatchNorm3d norm{nullptr};
};
TORCH_MODULE(ApeNet);

}  // namespace slicenav::detail
