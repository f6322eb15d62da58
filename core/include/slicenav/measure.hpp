// Key slices read directly off the CT image, where their definition is crisp in HU: the most superior and
// the most inferior slice of aerated lung (lung_apex, lung_base), the first slice, going down, where the
// trachea has split into the two main bronchi (carina), and in bone the skull base (the lower edge of the
// occipital bone around the foramen magnum) and the top of the femoral heads (femur_head_top). Navigation (locate) uses
// them to sharpen its learned answers (navigation.hpp); docs/navigation.md gives the rules and how they compare with
// the learned ones.
#pragma once

#include <string>
#include <vector>

#include "slicenav/orientation.hpp"

namespace slicenav {

// How far the model's answer may lie from a measured key slice for locate() to take the measurement instead.
// The air rules (lung ends, carina) keep 40 mm. The bone rules (skull base, femoral heads) look for one
// structure of a fixed shape (the brain cavity's floor at the foramen magnum, a left-right pair of domes) with
// no other such structure within 60 mm (the iliac crests lie 100 mm or more above the femoral heads), and the
// model alone is least precise there (its mean error 14-36 mm on validation, docs/model-card.md).
constexpr double kAirMeasurementWindowMm = 40.0;
constexpr double kBoneMeasurementWindowMm = 60.0;

struct MeasuredKeySlice {
  std::string name;            // atlas landmark name: skull_base, lung_apex, carina, lung_base or femur_head_top
  double canonical_slice = 0;  // canonical slice index (0 = most superior)
  double world_z_mm = 0;       // world z of that slice's centre
  double window_mm = kAirMeasurementWindowMm;  // kAirMeasurementWindowMm or kBoneMeasurementWindowMm
};

// The key slices this scan shows whole, superior first; a landmark is left out when the scan cuts its
// structure (lungs touching the first or last slice), when no lungs are found, when the airway cannot be
// followed from above the lungs to its split, when no brain enclosed by bone lies above the lungs, or no
// left-right pair of femoral-head domes below them (measure_bone.hpp). Reads the voxels a slab at a time
// (cells of mean HU of about 3 mm for the lungs, 2 mm for the airway, 1 mm for the skull, a 2 mm grid for
// the hips); memory does not grow with the scan.
std::vector<MeasuredKeySlice> measure_key_slices(const CanonicalView& view);

}  // namespace slicenav
