// Scans and points tilted about the world's left-right axis, as a head bends forward or back between scans.
#pragma once

#include "slicenav/volume.hpp"

namespace slicenav::training {

// The world position of a grid's centre.
Vec3 grid_centre(const Geometry& grid);

// A world point turned by `degrees` about the world's left-right (x) axis through `centre`: positive angles
// take the anterior side (-y) down (-z), as a head bends forward (flexion).
Vec3 tilt(const Vec3& point, const Vec3& centre, double degrees);

// A volume tilted by `degrees` (tilt) about its grid's centre and resampled on its own grid: trilinear,
// `outside` where the tilted volume has no voxel. The voxels are stored as int16 (CT HU, rounded).
Volume tilted(const Volume& volume, double degrees, float outside);

}  // namespace slicenav::training
