// Rigid 3D prealignment of two CT scans (seed universal-anatomical-embedding): rotation and translation
// from matched anatomical points, for a registration tool's initial transform (elastix -t0, an
// EulerTransform). Points spread over the fixed scan's body are matched in the moving scan by nearest
// neighbour in the model's voxel embedding (a 3D network trained, self-supervised, to give the same anatomy
// the same embedding under rotation), only forward-backward consistent matches are kept (the seed's fixed
// points), and the rotation and translation are fitted by least squares (Arun / Kabsch) inside a RANSAC
// consensus. docs/prealign.md, "Rigid".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "slicenav/model.hpp"
#include "slicenav/progress.hpp"
#include "slicenav/transform_files.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

// A volume resampled onto a grid aligned with the world (LPS) axes: value(x, y, z) at
// origin + spacing * (x, y, z), x fastest. Points outside the volume read as air (-1000 HU).
struct WorldGrid {
  std::array<std::size_t, 3> size{0, 0, 0};
  double spacing_mm = 0;
  Vec3 origin{0.0, 0.0, 0.0};
  std::vector<float> values;
  Vec3 world(const Vec3& index) const {
    return {origin[0] + spacing_mm * index[0], origin[1] + spacing_mm * index[1], origin[2] + spacing_mm * index[2]};
  }
};

// Trilinear resampling of `volume` onto the world-aligned grid of `spacing_mm` that covers its bounding box.
// Throws Error(invalid_argument) for a spacing that is not finite and > 0, and Error(unsupported_input)
// when the grid would exceed 64 million voxels.
WorldGrid resample_to_world_grid(const Volume& volume, double spacing_mm);
// The grid resample_to_world_grid fills, without its values (cheap). Throws like it.
WorldGrid world_grid_geometry(const Volume& volume, double spacing_mm);

// p' = rotation * p + translation (rotation row-major).
struct PointTransform {
  Mat3 rotation{1, 0, 0, 0, 1, 0, 0, 0, 1};
  Vec3 translation{0.0, 0.0, 0.0};
  Vec3 apply(const Vec3& p) const;
};

// Least-squares rigid fit (Arun, Huang and Blostein 1987) of to[i] ~ R from[i] + t, optionally weighted;
// a proper rotation (det +1) even for degenerate or mirrored point sets. Throws Error(invalid_argument) for
// fewer than 3 pairs, sizes that differ, or weights that are negative, non-finite or all zero.
PointTransform fit_rigid(const std::vector<Vec3>& from, const std::vector<Vec3>& to,
                         const std::vector<double>& weights = {});

// Euler angles (radians, about world x, y, z) of R = Rz * Rx * Ry, the convention of elastix's
// EulerTransform and ITK's Euler3DTransform (ComputeZYX false), and back.
Vec3 euler_angles(const Mat3& rotation);
Mat3 rotation_matrix(const Vec3& euler_rad);

// The rigid transform as T(p) = R (p - centre) + centre + translation (RigidTransform, transform_files.hpp)
// about the given centre.
RigidTransform as_rigid_transform(const PointTransform& t, const Vec3& centre);

struct RigidOptions {
  // Fixed-scan points matched (spread over its body); more cost more and change little.
  std::size_t points = 1500;
  // Rotations beyond this (any Euler angle, degrees) lie outside what the embedding was trained on: the
  // answer is kept but its confidence is capped at kBeyondRangeConfidence and the note says so.
  double max_rotation_deg = 25.0;
  std::uint64_t seed = 1;  // of the point choice and the consensus sampling
  Progress progress;       // reported as each scan is embedded and the points are matched
};

struct RigidPrealignment {
  static constexpr double kBeyondRangeConfidence = 0.2;
  RigidTransform transform;  // fixed point p -> moving point T(p) (elastix -t0 convention), LPS mm
  double confidence = 0.0;   // 0..1; 0 whenever shared_anatomy is false
  bool shared_anatomy = false;
  std::size_t points = 0;      // fixed-scan points matched
  std::size_t consistent = 0;  // of those, matches that map back to their point (forward-backward)
  std::size_t inliers = 0;     // consistent matches within the consensus's distance of the fitted transform
  double residual_mm = 0.0;    // RMS distance of the inliers to the fitted transform
  std::string note;            // why the confidence is low or the anatomy not shared; "" otherwise
};

// Rigid prealignment of `moving` to `fixed`. Throws Error(unsupported_input) when the model holds no voxel
// embedding network (Model::has_voxel_network) or a scan's intensities are not CT HU.
RigidPrealignment prealign_rigid(const Model& model, const Volume& fixed, const Volume& moving,
                                 const RigidOptions& options = {});

}  // namespace slicenav
