// The C API's transform files: thin shims over core/include/slicenav/transform_files.hpp.
#include <cstring>

#include "capi_support.hpp"
#include "slicenav.h"
#include "slicenav/transform_files.hpp"

namespace {

using namespace slicenav::capi;

// The caller's transform; fields past its struct_size keep the identity's values.
slicenav::RigidTransform rigid_transform(const slicenav_rigid_transform* transform) {
  require(transform, "transform");
  check_struct_size(*transform, &slicenav_rigid_transform::translation_mm, "transform");
  slicenav::RigidTransform out;
  for (int a = 0; a < 3; ++a) out.translation_mm[a] = transform->translation_mm[a];
  if (has_field(*transform, &slicenav_rigid_transform::rotation_rad)) {
    for (int a = 0; a < 3; ++a) out.rotation_rad[a] = transform->rotation_rad[a];
  }
  if (has_field(*transform, &slicenav_rigid_transform::centre_mm)) {
    for (int a = 0; a < 3; ++a) out.centre_mm[a] = transform->centre_mm[a];
  }
  return out;
}

}  // namespace

extern "C" {

slicenav_rigid_transform slicenav_rigid_transform_init(void) {
  slicenav_rigid_transform transform;
  std::memset(&transform, 0, sizeof transform);
  transform.struct_size = sizeof(slicenav_rigid_transform);
  return transform;
}

slicenav_status slicenav_rigid_transform_write_elastix(const char* path, const slicenav_rigid_transform* transform,
                                                       const slicenav_volume* fixed) {
  return guarded("slicenav_rigid_transform_write_elastix", [&] {
    const slicenav::RigidTransform t = rigid_transform(transform);
    require(fixed, "fixed");
    require(path, "path");
    slicenav::write_elastix_transform(t, fixed->volume.geometry(), path);
  });
}

slicenav_status slicenav_rigid_transform_write_itk(const char* path, const slicenav_rigid_transform* transform) {
  return guarded("slicenav_rigid_transform_write_itk", [&] {
    const slicenav::RigidTransform t = rigid_transform(transform);
    require(path, "path");
    slicenav::write_itk_transform(t, path);
  });
}

}  // extern "C"
