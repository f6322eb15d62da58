/*
 * slicenav experimental C API: calls that may change between minor versions. Same conventions as
 * slicenav.h.
 */
#ifndef SLICENAV_EXPERIMENTAL_H
#define SLICENAV_EXPERIMENTAL_H

#include "slicenav.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slicenav_phantom_params {
  uint32_t struct_size;
  size_t size[3];           /* voxels along the file's index axes */
  double spacing[3];        /* mm */
  char orientation[4];      /* "to" letters of the index axes, e.g. "LPS", "RAI", "SLA" */
  double top_z_mm;          /* world z of the most superior slice's centre */
  char patient_position[8]; /* recorded only, e.g. "HFS" */
  double noise_hu;          /* std. dev. of additive noise */
  uint64_t seed;
} slicenav_phantom_params;

SLICENAV_API slicenav_phantom_params slicenav_phantom_default_params(void);

/* A deterministic synthetic torso CT for tests and demos (no accuracy claim rests on it).
 *   out     not NULL; receives a new volume.
 *   params  nullable (defaults); borrowed.
 * Returns SLICENAV_OK or INVALID_ARGUMENT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_phantom_create(slicenav_volume** out,
                                                                        const slicenav_phantom_params* params);

/* The phantom's known landmark levels for the same params: name and world z (mm).
 *   names     NULL (with z_mm NULL and capacity 0) for a size query, which returns SLICENAV_OK;
 *             otherwise not NULL; receives pointers to static strings.
 *   z_mm      NULL in a size query; otherwise not NULL.
 *   capacity  entries names and z_mm each hold.
 *   written   nullable, except in a size query; receives the landmark count (also on BUFFER_TOO_SMALL).
 *   params    nullable (defaults); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or BUFFER_TOO_SMALL. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_phantom_landmarks(const char** names, double* z_mm,
                                                                           size_t capacity, size_t* written,
                                                                           const slicenav_phantom_params* params);

#ifdef __cplusplus
}
#endif

#endif /* SLICENAV_EXPERIMENTAL_H */
