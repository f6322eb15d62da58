// Key slices read directly off the CT image, where their definition is crisp in HU: the most superior and
// the most inferior slice of aerated lung (lung_apex, lung_base) and the first slice, going down, where the
// trachea has split into the two main bronchi (carina). Navigation (locate) uses them to sharpen its learned
// answers (navigation.hpp); docs/navigation.md gives the rules and how they compare with the learned ones.
#pragma once

#include <string>
#include <vector>

#include "slicenav/orientation.hpp"

namespace slicenav {

struct MeasuredKeySlice {
  std::string name;            // atlas landmark name: lung_apex, lung_base or carina
  double canonical_slice = 0;  // canonical slice index (0 = most superior)
  double world_z_mm = 0;       // world z of that slice's centre
};

// The key slices this scan shows whole, superior first; a landmark is left out when the scan cuts its
// structure (lungs touching the first or last slice), when no lungs are found, or when the airway cannot be
// followed from above the lungs to its split. Reads the voxels slice by slice on cells of mean HU (about 3 mm
// for the lungs, 2 mm for the airway); memory does not grow with the scan.
std::vector<MeasuredKeySlice> measure_key_slices(const CanonicalView& view);

}  // namespace slicenav
