// The voxel embedding network (seed universal-anatomical-embedding, SAM): a small 3D CNN that gives every
// voxel of a CT resampled onto an isotropic world grid a unit-length embedding; the same anatomy gets
// similar embeddings in two scans of a patient whatever their rotation. Internal: includes <torch/torch.h>.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace slicenav::detail {

struct VoxelNetConfig {
  double voxel_mm = 4.0;                       // input grid spacing; the output grid is twice as coarse
  std::vector<int> widths{16, 32, 64, 64};     // stages at 2, 4, 8 and 16 input voxels
  int pyramid = 64;                            // width of the top-down pathway
  int dim = 32;                                // embedding length
  float hu_low = -1000.0f, hu_high = 1000.0f;  // window mapped to [-1, 1]
  // Throws Error(invalid_argument) naming the first bad field.
  void validate() const;
};

// [B, 1, Z, Y, X] in [-1, 1] (HU window) -> [B, dim, ceil(Z/2), ceil(Y/2), ceil(X/2)], unit length along dim.
// Four stride-2 stages (two 3x3x3 convolutions each) and a top-down pathway that adds every coarser stage,
// upsampled, to the finer one's 1x1x1 projection, so each output voxel sees about 400 mm of context.
struct VoxelNetImpl : torch::nn::Module {
  explicit VoxelNetImpl(const VoxelNetConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  VoxelNetConfig config;
  torch::nn::ModuleList stages{nullptr}, lateral{nullptr};
  torch::nn::Conv3d head{nullptr};
};
TORCH_MODULE(VoxelNet);

}  // namespace slicenav::detail
