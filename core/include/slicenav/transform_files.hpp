// Rigid transforms written for other tools: elastix TransformParameters files (usable as elastix's -t0
// and by transformix) and ITK transform files (.tfm).
//
// Both tools define a registration transform as the map from a point of the fixed (output) image's
// physical space to the corresponding point of the moving (input) image's physical space, and so does
// RigidTransform: with zero rotation, fixed point p corresponds to moving point p + translation_mm. If an
// anatomical slice lies at world z_f in the fixed scan and z_m in the moving scan, translation_mm[2] is
// z_m - z_f. World coordinates are LPS mm.
#pragma once

#include <array>
#include <string>

#include "slicenav/volume.hpp"

namespace slicenav {

// T(p) = R (p - centre_mm) + centre_mm + translation_mm, with R = Rz * Rx * Ry built from the Euler angles
// rotation_rad (radians, about world x, y, z): ITK's Euler3DTransform and elastix's EulerTransform with
// ComputeZYX false. All angles zero give the pure translation T(p) = p + translation_mm.
struct RigidTransform {
  Vec3 translation_mm{0.0, 0.0, 0.0};
  Vec3 rotation_rad{0.0, 0.0, 0.0};
  Vec3 centre_mm{0.0, 0.0, 0.0};

  bool has_rotation() const { return rotation_rad[0] != 0.0 || rotation_rad[1] != 0.0 || rotation_rad[2] != 0.0; }
  // Throws Error(invalid_argument) naming the first non-finite value.
  void validate() const;
  // The Euler transform's parameters in elastix's and ITK's order: rotations (x, y, z), then translation.
  std::array<double, 6> euler_parameters() const {
    return {rotation_rad[0], rotation_rad[1], rotation_rad[2], translation_mm[0], translation_mm[1], translation_mm[2]};
  }
};

// The elastix TransformParameters text: a TranslationTransform without rotation, else an EulerTransform
// about centre_mm; with the fixed image's Size, Spacing, Origin and Direction, so transformix can resample
// the moving image onto the fixed grid; no initial transform; CT resampling defaults (B-spline order 3,
// air -1024 outside, int16 .nii.gz result).
std::string elastix_transform_text(const RigidTransform& transform, const Geometry& fixed);
// Writes elastix_transform_text to `path` atomically. Throws Error(invalid_argument) for a non-finite
// transform or fixed geometry, Error(io) when the file cannot be written.
void write_elastix_transform(const RigidTransform& transform, const Geometry& fixed, const std::string& path);

// The ITK transform file text ("#Insight Transform File V1.0"): TranslationTransform_double_3_3 without
// rotation, else Euler3DTransform_double_3_3 (fixed parameters: the centre and ComputeZYX = 0).
std::string itk_transform_text(const RigidTransform& transform);
// Writes itk_transform_text to `path` atomically; errors as write_elastix_transform.
void write_itk_transform(const RigidTransform& transform, const std::string& path);

}  // namespace slicenav
