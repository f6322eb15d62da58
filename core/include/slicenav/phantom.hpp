// Deterministic synthetic torso CT for unit tests and demos. It exists to test geometry and plumbing;
// no accuracy claim may rest on it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "slicenav/volume.hpp"

namespace slicenav {

struct PhantomOptions {
  std::array<std::size_t, 3> size{96, 80, 120};  // voxels along the file's index axes
  Vec3 spacing{4.0, 4.0, 5.0};                    // mm along the file's index axes
  // "To" letters of the file's index axes, any of the 48 axis permutations and flips ("LPS", "RAI",
  // "SLA", ...). The phantom's anatomy is the same in world space whatever the axis order.
  std::string orientation = "LPS";
  double top_z_mm = 0.0;                 // world z of the most superior slice's centre
  std::string patient_position = "HFS";  // recorded in the source info only
  double noise_hu = 10.0;                // std. dev. of additive noise; 0 for none
  std::uint64_t seed = 1;
};

struct PhantomLandmark {
  std::string name;   // landmark names of ../shared/data landmarks.json ("lung_apex", ...)
  double world_z_mm;  // anatomical level in the phantom's world frame
};

struct Phantom {
  Volume volume;
  // The phantom's anatomical levels; a landmark may lie outside the volume's z range.
  std::vector<PhantomLandmark> landmarks;
};

// The anatomy spans a fixed 600 mm from the lung apex (at world z = anatomy_top) downwards to below the
// femoral heads; options.top_z_mm places the volume's first slice relative to it.
Phantom make_phantom(const PhantomOptions& options = {});

// Geometry (direction and origin included) for an orientation code; throws Error(invalid_argument)
// for a code that is not a permutation of one letter from each of L/R, P/A, S/I.
Mat3 direction_from_code(const std::string& code);

}  // namespace slicenav
