// APE's self-supervised objective (seed anatomical-positional-embeddings, "improved training procedure"),
// shared by slicenav-train-ape and its tests: pairs of overlapping, differently resampled and augmented
// patches of one scan, positive voxel pairs at the same world point in both, and
// L = L_dist + lambda * L_equiv.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "slicenav/volume.hpp"

namespace slicenav::training {

// An axis-aligned patch of the world: voxel (i, j, k) (x fastest) at origin + spacing * (i, j, k).
struct ApePatch {
  Vec3 origin{0, 0, 0};
  Vec3 spacing{1, 1, 1};
  std::array<std::int64_t, 3> size{0, 0, 0};  // x, y, z voxels
  Vec3 last() const;                          // world position of the last voxel
};

struct ApePatchOptions {
  std::array<std::int64_t, 3> size{48, 48, 32};  // voxels per patch, x, y, z (multiples of 4)
  double min_xy_mm = 3.0, max_xy_mm = 5.0;        // in-plane spacing drawn per patch
  double min_z_mm = 3.0, max_z_mm = 6.0;          // slice spacing drawn per patch
  int points = 128;                               // positive voxel pairs per patch pair
};

struct ApePatchPair {
  ApePatch a, b;
  std::vector<Vec3> points;  // world points inside both patches
};

// Patch A centred on `centre`, patch B centred within half of the smaller extent from it along each axis
// (so the two overlap), each with its own spacing, and o.points world points drawn uniformly from their
// overlap.
ApePatchPair sample_patch_pair(const Vec3& centre, const ApePatchOptions& o, std::mt19937_64& rng);

// A scan resampled onto a world-aligned grid: [1, 1, Z, Y, X] HU, voxel (0, 0, 0) at `origin`.
struct ApeScan {
  torch::Tensor hu;
  Vec3 origin{0, 0, 0};
  double spacing_mm = 1;
  std::vector<Vec3> body;  // world positions of body voxels (above -500 HU), a subsample
};

// The patch's voxels read from the scan by trilinear interpolation: [1, 1, z, y, x] HU, air (-1000 HU)
// outside the scan.
torch::Tensor sample_patch(const ApeScan& scan, const ApePatch& patch);

// grid_sample coordinates (align_corners = true) of world points in a patch: [1, n, 1, 1, 3].
torch::Tensor patch_grid(const ApePatch& patch, const std::vector<Vec3>& points);

// The seed's augmentations of a HU patch, returned in [-1, 1]: a random HU window (low in [-1100, -500],
// high in [300, 1500]), Gaussian blur or sharpening, Gaussian noise and up to three masked boxes.
torch::Tensor augment_patch(const torch::Tensor& hu, std::mt19937_64& rng);

// L_dist + lambda * L_equiv for embeddings a, b ([N, 3]: the same N world points seen in patch A and in
// patch B) at world positions [N, 3] (mm): L_dist is the mean over i, j of (|a_i - b_j| - |p_i - p_j|)^2
// with positions centred and scaled to unit standard deviation, L_equiv the mean of |a_i - b_i|^2.
// `dist` and `equiv` receive the two terms.
torch::Tensor ape_loss(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& positions, double lambda,
                       double* dist = nullptr, double* equiv = nullptr);

}  // namespace slicenav::training
