/*
 * slicenav: slice-level anatomical navigation in body CT. The stable C API.
 *
 * Usage:
 *
 *   #include <slicenav.h>
 *   #include <stdio.h>
 *
 *   int main(int argc, char** argv) {
 *     slicenav_volume* volume = NULL;
 *     slicenav_volume_info info = slicenav_volume_info_init();
 *     if (argc < 2) return 2;
 *     if (slicenav_volume_read(&volume, argv[1], NULL) != SLICENAV_OK ||
 *         slicenav_volume_get_info(volume, &info) != SLICENAV_OK) {
 *       fprintf(stderr, "slicenav: %s\n", slicenav_last_error());
 *       slicenav_volume_free(volume);
 *       return 1;
 *     }
 *     printf("%zu canonical slices, world z %.1f..%.1f mm\n", info.canonical_slice_count,
 *            info.world_z_min_mm, info.world_z_max_mm);
 *     slicenav_volume_free(volume);
 *     return 0;
 *   }
 *
 * Conventions
 * - Every fallible call returns slicenav_status: SLICENAV_OK (0) or a negative error code. The matching
 *   human-readable message is slicenav_last_error(), which is thread-local and owned by the library.
 * - Outputs come first and are named out. Objects the library allocates come back through T** out and
 *   are released with their matching *_free, which accepts NULL.
 * - Parameter structs start with uint32_t struct_size. Obtain them from the matching *_default_params()
 *   or *_init() function; fields are only ever added at the end. A struct_size that does not cover the
 *   first field after struct_size is INVALID_ARGUMENT. Input fields past struct_size (an older caller)
 *   take their defaults; output structs get at most struct_size bytes written; fields past this
 *   library's own struct (a newer caller) are ignored or left untouched.
 * - Bulk outputs go into caller buffers (dst, capacity, written). dst NULL with capacity 0 is a size
 *   query: SLICENAV_OK with *written set. A non-zero capacity that is too small is BUFFER_TOO_SMALL,
 *   *written still set.
 * - World coordinates are LPS millimetres (+x patient left, +y posterior, +z superior), as in DICOM and
 *   ITK. Canonical slice order runs from the most superior slice (0) to the most inferior.
 * - Threads: distinct objects may be used from any threads at once; a volume is never modified after
 *   creation, so one volume may be read by many threads at once.
 * - No call aborts or lets an exception escape on any input.
 */
#ifndef SLICENAV_H
#define SLICENAV_H

#include <stddef.h>
#include <stdint.h>

#define SLICENAV_VERSION_MAJOR 0
#define SLICENAV_VERSION_MINOR 1
#define SLICENAV_VERSION_PATCH 0

#if defined(_WIN32)
#  if defined(SLICENAV_BUILDING_LIBRARY)
#    define SLICENAV_API __declspec(dllexport)
#  else
#    define SLICENAV_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SLICENAV_API __attribute__((visibility("default")))
#else
#  define SLICENAV_API
#endif

#if defined(__GNUC__)
#  define SLICENAV_NODISCARD __attribute__((warn_unused_result))
#else
#  define SLICENAV_NODISCARD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes ----------------------------------------------------------------------------- */

typedef int32_t slicenav_status;

#define SLICENAV_OK 0
#define SLICENAV_ERR_INVALID_ARGUMENT (-1)  /* NULL where not allowed, bad sizes, bad geometry */
#define SLICENAV_ERR_NOT_FOUND (-2)         /* a file or directory does not exist */
#define SLICENAV_ERR_IO (-3)                /* unreadable, truncated or unwritable file */
#define SLICENAV_ERR_UNSUPPORTED_INPUT (-4) /* readable, but not something slicenav can use */
#define SLICENAV_ERR_MODEL_FORMAT (-5)      /* damaged or foreign model file */
#define SLICENAV_ERR_VERSION_MISMATCH (-6)  /* model file from a newer format version */
#define SLICENAV_ERR_BUFFER_TOO_SMALL (-7)  /* caller buffer smaller than the data */
#define SLICENAV_ERR_CANCELLED (-8)
#define SLICENAV_ERR_INTERNAL (-9)

/* The message of the last failed call on this thread; "" when none. Never NULL. As in libgit2, a
 * successful call does not clear it: check the returned status first, then read the message. Valid
 * until the next failed slicenav call on this thread. Other threads never change it. */
SLICENAV_API const char* slicenav_last_error(void);

/* Short name of a status ("ok", "invalid argument", ...). Never NULL. */
SLICENAV_API const char* slicenav_status_name(slicenav_status status);

/* ---- Versions --------------------------------------------------------------------------------- */

/* "MAJOR.MINOR.PATCH" of the library actually loaded. Never NULL; static storage. */
SLICENAV_API const char* slicenav_version(void);
/* MAJOR * 10000 + MINOR * 100 + PATCH of the library actually loaded. */
SLICENAV_API uint32_t slicenav_version_number(void);

/* ---- Volumes ---------------------------------------------------------------------------------- */

/* A CT volume: float HU voxels with world geometry. Immutable after creation. */
typedef struct slicenav_volume slicenav_volume;

typedef struct slicenav_read_params {
  uint32_t struct_size;
  /* DICOM directories only: the SeriesInstanceUID to read; NULL or "" for the directory's only CT
   * series. Borrowed for the duration of the call. */
  const char* dicom_series_uid;
} slicenav_read_params;

SLICENAV_API slicenav_read_params slicenav_read_default_params(void);

/* Reads a NIfTI (.nii, .nii.gz), MetaImage (.mha, .mhd) or NRRD (.nrrd, .nhdr) file, or a directory
 * holding a DICOM series.
 *   out     not NULL; receives a new volume (free with slicenav_volume_free), NULL on failure.
 *   path    not NULL; UTF-8; borrowed for the call.
 *   params  nullable (defaults); borrowed for the call.
 * Returns SLICENAV_OK, or INVALID_ARGUMENT (NULL, non-finite voxels, zero or negative spacing),
 * NOT_FOUND, IO (unreadable or truncated), UNSUPPORTED_INPUT (unknown extension, not a 3D scalar
 * image, no CT series or several CT series in a directory). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_read(slicenav_volume** out, const char* path,
                                                                     const slicenav_read_params* params);

typedef enum slicenav_pixel_type {
  SLICENAV_PIXEL_INT16 = 0,
  SLICENAV_PIXEL_UINT8 = 1,
  SLICENAV_PIXEL_INT32 = 2,
  SLICENAV_PIXEL_FLOAT32 = 3,
  SLICENAV_PIXEL_FLOAT64 = 4
} slicenav_pixel_type;

/* Creates a volume by copying a caller buffer of HU values, x fastest:
 * value(i, j, k) = data[i + dims[0] * (j + dims[1] * k)].
 *   out        not NULL; receives a new volume, NULL on failure.
 *   data       not NULL; dims[0] * dims[1] * dims[2] values of pixel_type; copied.
 *   dims       not NULL; 3 sizes, each > 0.
 *   spacing    not NULL; 3 finite values > 0 (mm).
 *   origin     not NULL; 3 finite values: world LPS position of voxel (0, 0, 0)'s centre (mm).
 *   direction  nullable (identity); 9 values, row-major, column a = world direction of index axis a.
 * Returns SLICENAV_OK or INVALID_ARGUMENT naming the offending argument (also for non-finite values). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_from_buffer(
    slicenav_volume** out, const void* data, slicenav_pixel_type pixel_type, const size_t dims[3],
    const double spacing[3], const double origin[3], const double direction[9]);

/* Writes a volume to .nii, .nii.gz, .mha, .mhd or .nrrd atomically (temporary file + rename); int16
 * when all voxels are integers in range, else float32.
 *   volume  not NULL; borrowed.   path  not NULL; borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT, UNSUPPORTED_INPUT (extension) or IO. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_write(const slicenav_volume* volume,
                                                                      const char* path);

typedef struct slicenav_volume_info {
  uint32_t struct_size;
  size_t size[3];          /* voxels along the file's index axes */
  double spacing[3];       /* mm */
  double origin[3];        /* world LPS mm */
  double direction[9];     /* row-major; column a = direction of index axis a */
  char orientation[4];     /* "to" letters of the index axes, e.g. "LPS"; NUL-terminated */
  char patient_position[8];/* DICOM PatientPosition ("HFS", "FFS", ...) or "" when unknown */
  char modality[8];        /* DICOM Modality or "" when unknown */
  char format[16];         /* "nifti", "metaimage", "nrrd", "dicom", "memory", "phantom" */
  size_t canonical_slice_count;
  double slice_step_mm;    /* distance between canonical slices along z */
  double world_z_min_mm;   /* centre of the most inferior slice */
  double world_z_max_mm;   /* centre of the most superior slice */
  double obliquity_deg;    /* largest angle between an index axis and its nearest world axis */
  size_t warning_count;    /* see slicenav_volume_warning */
} slicenav_volume_info;

/* A slicenav_volume_info with struct_size set and every other field zero. */
SLICENAV_API slicenav_volume_info slicenav_volume_info_init(void);

/* Fills *out for a volume. The volume's canonical geometry must exist: volumes more oblique than the
 * canonical tolerance are rejected at read or creation time, so this only fails on bad arguments.
 *   out     not NULL; out->struct_size must be set (slicenav_volume_info_init()); only that many bytes
 *           are written.
 *   volume  not NULL; borrowed.
 * Returns SLICENAV_OK or INVALID_ARGUMENT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_get_info(const slicenav_volume* volume,
                                                                         slicenav_volume_info* out);

/* The index-th warning noticed while reading or creating the volume (gantry tilt, uneven slices,
 * non-CT modality, ...), or NULL when index >= warning_count. Owned by the volume. */
SLICENAV_API const char* slicenav_volume_warning(const slicenav_volume* volume, size_t index);

/* The path the volume was read from ("" for in-memory volumes), or NULL for a NULL volume. Owned by the
 * volume. */
SLICENAV_API const char* slicenav_volume_source_path(const slicenav_volume* volume);

/* Copies the voxels (float HU, file index order, x fastest) into a caller buffer.
 *   volume    not NULL; borrowed.
 *   dst       NULL with capacity 0 for a size query (returns SLICENAV_OK); otherwise not NULL.
 *   capacity  number of floats dst holds.
 *   written   nullable, except in a size query; receives the number of voxels (also on
 *             BUFFER_TOO_SMALL).
 * Returns SLICENAV_OK, INVALID_ARGUMENT or BUFFER_TOO_SMALL. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_copy_voxels(const slicenav_volume* volume,
                                                                            float* dst, size_t capacity,
                                                                            size_t* written);

/* Maps canonical slice index <-> original index along the file's slice axis and world z (mm). Fractional
 * indices are allowed; out not NULL. Returns SLICENAV_OK or INVALID_ARGUMENT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_canonical_to_original(
    const slicenav_volume* volume, double canonical_slice, double* out);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_original_to_canonical(
    const slicenav_volume* volume, double original_slice, double* out);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_canonical_to_world_z(
    const slicenav_volume* volume, double canonical_slice, double* out);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_world_z_to_canonical(
    const slicenav_volume* volume, double world_z_mm, double* out);

/* Releases a volume. NULL is a no-op. */
SLICENAV_API void slicenav_volume_free(slicenav_volume* volume);

#ifdef __cplusplus
}
#endif

#endif /* SLICENAV_H */
