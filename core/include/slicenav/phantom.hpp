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
  Vec3 spacing{4.0, 4.0, 5.0};                   // mm along the file's index axes
  // "To" letters of the file's index axes, any of the 48 axis permutations and flips ("LPS", "RAI",
  // "SLA", ...). The phantom's anatomy is the same in world space whatever the axis order.
  std::string orientation = "LPS";
  double top_z_mm = 40.0;                // world z of the most superior slice's centre (lung apex at 0)
  std::string patient_position = "HFS";  // recorded in the source info only
  double noise_hu = 10.0;                // std. dev. of additive noise; 0 for none
  std::uint64_t seed = 1;
};

struct PhantomLandmark {
  const char* name;   // landmark names of ../shared/data landmarks.json ("lung_apex", ...); static storage
  double world_z_mm;  // anatomical level in the phantom's world frame
};

struct Phantom {
  Volume volume;
  // The phantom's anatomical levels; a landmark may lie outside the volume's z range.
  std::vector<PhantomLandmark> landmarks;
};

// The anatomy is fixed in world space: neck base at z = +60 mm, lung apex at 0, the airway split in two at the
// carina (-60 mm), femoral heads' tops at -500 mm, thighs down to -600 mm, centred on x = y = 0. The grid is centred
// in-plane and its most superior slice centre is put at options.top_z_mm. Throws Error(invalid_argument) for a bad
// size, spacing, orientation code or noise level.
Phantom make_phantom(const PhantomOptions& options = {});

// Direction matrix for an orientation code ("to" letters of the index axes); throws Error(invalid_argument)
// for a code that is not a permutation of one letter from each of L/R, P/A, S/I.
Mat3 direction_from_code(const std::string& code);

}  // namespace slicenav
