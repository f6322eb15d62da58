/*
 * slicenav: slice-level anatomical navigation in body CT. The stable C API.
 *
 * Usage: the key slices of a CT scan (tests/capi/CMakeLists.txt cuts this example out, compiles and runs it).
 *
 *   #include <slicenav.h>
 *   #include <stdio.h>
 *
 *   int main(int argc, char** argv) {
 *     slicenav_model* model = NULL;
 *     slicenav_volume* volume = NULL;
 *     slicenav_landmarks* landmarks = NULL;
 *     int rc = 1;
 *     if (argc < 2) return 2;
 *     if (slicenav_model_load(&model, NULL) == SLICENAV_OK &&
 *         slicenav_volume_read(&volume, argv[1], NULL) == SLICENAV_OK &&
 *         slicenav_volume_locate(&landmarks, model, volume, NULL) == SLICENAV_OK) {
 *       for (size_t i = 0; i < slicenav_landmarks_count(landmarks); ++i) {
 *         slicenav_landmark key = slicenav_landmark_init();
 *         if (slicenav_landmarks_get(&key, landmarks, i) != SLICENAV_OK) break;
 *         if (key.where == SLICENAV_INSIDE)
 *           printf("%-18s z %7.1f mm  slice %5.1f  confidence %.2f\n", key.name, key.world_z_mm,
 *                  key.original_slice, key.confidence);
 *         else
 *           printf("%-18s %s the scan\n", key.name, key.where == SLICENAV_ABOVE ? "above" : "below");
 *       }
 *       rc = 0;
 *     } else {
 *       fprintf(stderr, "slicenav: %s\n", slicenav_last_error());
 *     }
 *     slicenav_landmarks_free(landmarks);
 *     slicenav_volume_free(volume);
 *     slicenav_model_free(model);
 *     return rc;
 *   }
 *
 * Conventions (docs/conventions.md)
 * - Every fallible call returns slicenav_status: SLICENAV_OK (0) or a negative error code. The matching
 *   human-readable message is slicenav_last_error(), which is thread-local and owned by the library.
 * - Names are slicenav_<object>_<verb> (slicenav_volume_read, slicenav_scan_locate); calls on two objects
 *   of one kind are slicenav_<verb>[_<variant>] (slicenav_prealign, slicenav_prealign_rigid), and a variant's
 *   types carry the same suffix (slicenav_prealign_rigid_params).
 * - Outputs come first: T** out, a struct or value the call fills (out, out_*), a caller buffer
 *   (dst, capacity, written), or the file the call writes (out_path); the object the call works on follows,
 *   then the other inputs, params last. Objects the library allocates come back through T** out and are
 *   released with their matching *_free, which accepts NULL.
 * - Parameter structs start with uint32_t struct_size. Obtain them from the matching *_default_params()
 *   or *_init() function; fields are only ever added at the end. A struct_size that does not cover the
 *   first field after struct_size is INVALID_ARGUMENT. Input fields past struct_size (an older caller)
 *   take their defaults; output structs get at most struct_size bytes written; fields past this
 *   library's own struct (a newer caller) are ignored or left untouched. Structs embedded by value in
 *   others (slicenav_position) have no struct_size and never change.
 * - Bulk outputs go into caller buffers (dst, capacity, written). dst NULL with capacity 0 is a size
 *   query: SLICENAV_OK with *written set. A non-zero capacity that is too small is BUFFER_TOO_SMALL,
 *   *written still set.
 * - World coordinates are LPS millimetres (+x patient left, +y posterior, +z superior), as in DICOM and
 *   ITK. Canonical slice order runs from the most superior slice (0) to the most inferior.
 * - Threads: distinct objects may be used from any threads at once; a volume is never modified after
 *   creation, so one volume may be read by many threads at once. The one process-wide setting is the
 *   inference thread count (slicenav_model_params.threads), because LibTorch's thread pool is process-wide.
 * - No call aborts or lets an exception escape on any input.
 */
#ifndef SLICENAV_H
#define SLICENAV_H

#include <stddef.h>
#include <stdint.h>

#define SLICENAV_VERSION_MAJOR 0
#define SLICENAV_VERSION_MINOR 2
#define SLICENAV_VERSION_PATCH 0
/* The version this header belongs to as one number, for compile-time checks; compare with
 * slicenav_version_number() for the library actually loaded. */
#define SLICENAV_VERSION_NUMBER (SLICENAV_VERSION_MAJOR * 10000 + SLICENAV_VERSION_MINOR * 100 + SLICENAV_VERSION_PATCH)

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
#define SLICENAV_ERR_CANCELLED (-8)         /* a callback's abort stopped the call (slicenav_callbacks) */
#define SLICENAV_ERR_INTERNAL (-9)

/* The message of the last failed call on this thread; "" when none. Never NULL. As in libgit2, a
 * successful call does not clear it: check the returned status first, then read the message. Valid
 * until the next failed slicenav call on this thread. Other threads never change it. */
SLICENAV_API const char* slicenav_last_error(void);

/* Short name of a status ("ok", "invalid argument", ...). Never NULL. */
SLICENAV_API const char* slicenav_status_name(slicenav_status status);

/* ---- Progress and cancellation ------------------------------------------------------------------- */

/* The callbacks of a long call: the params struct of every call that reads, prepares, infers or writes a
 * volume has them as its field `callbacks`. Embedded by value, so it has no struct_size and never changes. Every
 * field may be NULL (the default: no reports, never stopped).
 *   progress   called on the calling thread with the share of the call's work done, 0..1 and non-decreasing,
 *              between the call's stages and within its long loops (every chunk of slices the encoder embeds,
 *              every DICOM slice); 1 last when the call succeeds.
 *   abort      called on the calling thread at the same points; a non-zero answer stops the call, which returns
 *              SLICENAV_ERR_CANCELLED and leaves nothing behind: *out stays NULL, no output struct is written,
 *              no file appears at out_path (an existing one is kept).
 *   user_data  passed to both.
 * Every call whose params carry callbacks may return SLICENAV_ERR_CANCELLED. A callback must not free or change
 * the objects of the call it is called from. */
typedef struct slicenav_callbacks {
  void (*progress)(double done, void* user_data);
  int32_t (*abort)(void* user_data);
  void* user_data;
} slicenav_callbacks;

/* ---- Versions --------------------------------------------------------------------------------- */

/* "MAJOR.MINOR.PATCH" of the library actually loaded. Never NULL; static storage. */
SLICENAV_API const char* slicenav_version(void);
/* MAJOR * 10000 + MINOR * 100 + PATCH of the library actually loaded (SLICENAV_VERSION_NUMBER is the header's). */
SLICENAV_API uint32_t slicenav_version_number(void);

/* ---- Volumes ---------------------------------------------------------------------------------- */

/* A CT volume: float HU voxels with world geometry. Immutable after creation. */
typedef struct slicenav_volume slicenav_volume;

typedef struct slicenav_read_params {
  uint32_t struct_size;
  /* DICOM directories only: the SeriesInstanceUID to read; NULL or "" for the directory's only CT
   * series. Borrowed for the duration of the call. */
  const char* dicom_series_uid;
  slicenav_callbacks callbacks; /* reported before the voxels are read and after every DICOM slice */
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

/* The image series of a DICOM directory, to choose one for slicenav_read_params.dicom_series_uid. */
typedef struct slicenav_dicom_series_list slicenav_dicom_series_list;

typedef struct slicenav_dicom_series {
  uint32_t struct_size;
  char series_uid[65];  /* SeriesInstanceUID (at most 64 characters) */
  char modality[17];    /* Modality ("CT", "PT", "MR", ...) or "" */
  char description[65]; /* SeriesDescription, cut to 64 bytes; "" when absent */
  size_t file_count;    /* image files of the series */
} slicenav_dicom_series;

SLICENAV_API slicenav_dicom_series slicenav_dicom_series_init(void);

/* Lists every series with image files in a directory (not recursive), in the order of their UIDs.
 *   out        not NULL; receives a new list (free with slicenav_dicom_series_list_free), NULL on failure.
 *   directory  not NULL; borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (NULL), NOT_FOUND (no such directory) or UNSUPPORTED_INPUT (no DICOM
 * image file in it). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_dicom_series_list_read(slicenav_dicom_series_list** out,
                                                                                const char* directory);
/* Number of series in the list; 0 for NULL. */
SLICENAV_API size_t slicenav_dicom_series_list_count(const slicenav_dicom_series_list* list);
/* The index-th series.
 *   out    not NULL; out->struct_size set (slicenav_dicom_series_init()); only that many bytes written.
 *   list   not NULL.   index  < count.
 * Returns SLICENAV_OK or INVALID_ARGUMENT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_dicom_series_list_get(slicenav_dicom_series* out,
                                                                               const slicenav_dicom_series_list* list,
                                                                               size_t index);
/* Releases a list. NULL is a no-op. */
SLICENAV_API void slicenav_dicom_series_list_free(slicenav_dicom_series_list* list);

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

/* How the calls that write images (slicenav_volume_write, slicenav_crop_record_crop_file,
 * slicenav_crop_record_uncrop_file) write them. */
typedef struct slicenav_write_params {
  uint32_t struct_size;
  /* gzip level of .nii.gz files: 0 (no compression: the fastest write, the largest file) to 12 (the smallest
   * file, the slowest write). The default, 1, suits intermediate files (a 512 x 512 x 300 CT in about 1.2 s
   * on 2 cores, about 10 % larger than gzip -6). .mha and .nrrd files are written at ITK's own setting. */
  int32_t gzip_level;
  slicenav_callbacks callbacks; /* reported before reading (crop, uncrop) and before writing */
} slicenav_write_params;

SLICENAV_API slicenav_write_params slicenav_write_default_params(void);

/* Writes a volume to .nii, .nii.gz, .mha or .nrrd atomically (temporary file + rename); int16 when all
 * voxels are integers in range, else float32.
 *   out_path  not NULL; borrowed.
 *   volume    not NULL; borrowed.
 *   params    nullable (defaults); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (NULL, a gzip level outside 0-12), UNSUPPORTED_INPUT (an extension
 * that is not one of those single-file formats) or IO (nothing is left at out_path). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_write(const char* out_path,
                                                                      const slicenav_volume* volume,
                                                                      const slicenav_write_params* params);

typedef struct slicenav_volume_info {
  uint32_t struct_size;
  size_t size[3];           /* voxels along the file's index axes */
  double spacing[3];        /* mm */
  double origin[3];         /* world LPS mm */
  double direction[9];      /* row-major; column a = direction of index axis a */
  char orientation[4];      /* "to" letters of the index axes, e.g. "LPS"; NUL-terminated */
  char patient_position[8]; /* DICOM PatientPosition ("HFS", "FFS", ...) or "" when unknown */
  char modality[8];         /* DICOM Modality or "" when unknown */
  char format[16];          /* "nifti", "metaimage", "nrrd", "dicom", "memory", "phantom" */
  size_t canonical_slice_count;
  double slice_step_mm;  /* distance between canonical slices along z */
  double world_z_min_mm; /* centre of the most inferior slice */
  double world_z_max_mm; /* centre of the most superior slice */
  double obliquity_deg;  /* largest angle between an index axis and its nearest world axis */
  size_t warning_count;  /* see slicenav_volume_warning */
} slicenav_volume_info;

/* A slicenav_volume_info with struct_size set and every other field zero. */
SLICENAV_API slicenav_volume_info slicenav_volume_info_init(void);

/* Fills *out for a volume. The volume's canonical geometry must exist: volumes more oblique than the
 * canonical tolerance are rejected at read or creation time, so this only fails on bad arguments.
 *   out     not NULL; out->struct_size must be set (slicenav_volume_info_init()); only that many bytes
 *           are written.
 *   volume  not NULL; borrowed.
 * Returns SLICENAV_OK or INVALID_ARGUMENT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_get_info(slicenav_volume_info* out,
                                                                         const slicenav_volume* volume);

/* The index-th warning noticed while reading or creating the volume (gantry tilt, uneven slices,
 * non-CT modality, ...), or NULL when index >= warning_count. Owned by the volume. */
SLICENAV_API const char* slicenav_volume_warning(const slicenav_volume* volume, size_t index);

/* The path the volume was read from ("" for in-memory volumes), or NULL for a NULL volume. Owned by the
 * volume. */
SLICENAV_API const char* slicenav_volume_source_path(const slicenav_volume* volume);

/* Copies the voxels (float HU, file index order, x fastest) into a caller buffer.
 *   dst       NULL with capacity 0 for a size query (returns SLICENAV_OK); otherwise not NULL.
 *   capacity  number of floats dst holds.
 *   written   nullable, except in a size query; receives the number of voxels (also on
 *             BUFFER_TOO_SMALL).
 *   volume    not NULL; borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or BUFFER_TOO_SMALL. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_copy_voxels(float* dst, size_t capacity,
                                                                            size_t* written,
                                                                            const slicenav_volume* volume);

/* Map canonical slice index <-> original index along the file's slice axis and world z (mm).
 *   out     not NULL; receives the mapped position (fractional indices are allowed).
 *   volume  not NULL; borrowed.
 *   the last argument: the position to map, finite.
 * Return SLICENAV_OK or INVALID_ARGUMENT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_canonical_to_original(double* out,
                                                                                      const slicenav_volume* volume,
                                                                                      double canonical_slice);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_original_to_canonical(double* out,
                                                                                      const slicenav_volume* volume,
                                                                                      double original_slice);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_canonical_to_world_z(double* out,
                                                                                     const slicenav_volume* volume,
                                                                                     double canonical_slice);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_world_z_to_canonical(double* out,
                                                                                     const slicenav_volume* volume,
                                                                                     double world_z_mm);

/* Releases a volume. NULL is a no-op. */
SLICENAV_API void slicenav_volume_free(slicenav_volume* volume);

/* ---- Models ----------------------------------------------------------------------------------- */

/* A loaded navigation model (insertion network, slice scores, key-slice templates, regions). Immutable
 * after loading: one model may be used by any number of threads at once, and gives them the same
 * answers as serial calls. */
typedef struct slicenav_model slicenav_model;

typedef struct slicenav_model_params {
  uint32_t struct_size;
  /* Model file; NULL or "" for the bundled default model ($SLICENAV_MODEL, then share/slicenav/models
   * beside the library, the install prefix, the source tree). Borrowed for the call. */
  const char* path;
  /* Intra-op threads for inference; 0 = hardware threads. LibTorch's thread pool is process-wide, so
   * this sets it for every model in the process. */
  int32_t threads;
  /* "cpu" (NULL or "" means cpu). "cuda:N" needs a CUDA-enabled LibTorch build; this build reports
   * UNSUPPORTED_INPUT for it. */
  const char* device;
} slicenav_model_params;

SLICENAV_API slicenav_model_params slicenav_model_default_params(void);

/* Loads a model.
 *   out     not NULL; receives a new model (free with slicenav_model_free), NULL on failure.
 *   params  nullable (defaults: bundled model, hardware threads, cpu); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (negative threads, unknown device), NOT_FOUND (no such file, or
 * no bundled model), IO, MODEL_FORMAT (damaged or foreign file), VERSION_MISMATCH (newer format),
 * UNSUPPORTED_INPUT (a device this build lacks). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_model_load(slicenav_model** out,
                                                                    const slicenav_model_params* params);

/* The model's metadata as a JSON object (architecture, preprocessing, atlas, templates, training,
 * metrics), owned by the model. NULL for a NULL model. */
SLICENAV_API const char* slicenav_model_metadata_json(const slicenav_model* model);

/* Releases a model. NULL is a no-op. */
SLICENAV_API void slicenav_model_free(slicenav_model* model);

/* ---- Positions -------------------------------------------------------------------------------- */

typedef enum slicenav_where {
  SLICENAV_INSIDE = 0, /* inside the scan's coverage: the position fields are valid */
  SLICENAV_ABOVE = 1,  /* superior to the scan's first slice */
  SLICENAV_BELOW = 2   /* inferior to its last slice */
} slicenav_where;

/* A level along a scan. Embedded by value in other structs, so it has no struct_size and never changes. */
typedef struct slicenav_position {
  slicenav_where where;
  double canonical_slice; /* INSIDE only: fractional canonical slice */
  double original_slice;  /* INSIDE only: fractional index along the file's slice axis */
  double world_z_mm;      /* INSIDE only */
  double confidence;      /* 0..1 */
} slicenav_position;

/* ---- Insertion -------------------------------------------------------------------------------- */

/* Where every slice of a query scan belongs in a target scan. */
typedef struct slicenav_insertion slicenav_insertion;

typedef struct slicenav_insert_params {
  uint32_t struct_size;
  /* Non-zero keeps every slice's whole distribution (see slicenav_insertion_distribution). */
  int32_t keep_distribution;
  slicenav_callbacks callbacks; /* volume calls: reported as each volume is prepared */
} slicenav_insert_params;

SLICENAV_API slicenav_insert_params slicenav_insert_default_params(void);

/* Inserts every slice of `query` into `target`. Both are canonicalized, so their orientations may
 * differ; every answer refers to the original slice indices and world z.
 *   out     not NULL; receives a new result (free with slicenav_insertion_free), NULL on failure.
 *   model, query, target  not NULL; borrowed.
 *   params  nullable (defaults); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT, UNSUPPORTED_INPUT (intensities that are not CT HU). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_insert(slicenav_insertion** out,
                                                                       const slicenav_model* model,
                                                                       const slicenav_volume* query,
                                                                       const slicenav_volume* target,
                                                                       const slicenav_insert_params* params);

typedef struct slicenav_inserted_slice {
  uint32_t struct_size;
  double query_original_slice; /* the query slice: index along its file's slice axis */
  double query_world_z_mm;
  slicenav_where where;
  double target_canonical_slice; /* INSIDE only: fractional canonical slice of the target */
  double target_original_slice;  /* INSIDE only: fractional index along the target file's slice axis */
  double target_world_z_mm;      /* INSIDE only */
  float peak;                    /* highest probability of the slice's distribution (confidence) */
  float entropy;                 /* of the distribution, nats */
} slicenav_inserted_slice;

SLICENAV_API slicenav_inserted_slice slicenav_inserted_slice_init(void);

/* Number of query slices (= the query's canonical slice count); 0 for NULL. */
SLICENAV_API size_t slicenav_insertion_count(const slicenav_insertion* insertion);

/* The answer for query canonical slice `index` (0 = most superior).
 *   out        not NULL; out->struct_size set (slicenav_inserted_slice_init()); only that many bytes written.
 *   insertion  not NULL.   index  < slicenav_insertion_count(insertion).
 * Returns SLICENAV_OK or INVALID_ARGUMENT (NULL, index >= count). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_insertion_get(slicenav_inserted_slice* out,
                                                                       const slicenav_insertion* insertion,
                                                                       size_t index);

/* The distributions' columns: slot 0 = above the target, slot slots-1 = below, slot s in between is
 * target canonical slice dst[s - 1] (up to the model's max slices, spread evenly).
 *   dst        receives the target canonical index of each inner slot; NULL with capacity 0 for a size query.
 *   capacity   number of values dst holds.
 *   written    receives the number of inner slots (slots - 2); nullable except in a size query.
 *   insertion  not NULL.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or BUFFER_TOO_SMALL. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_insertion_slots(size_t* dst, size_t capacity, size_t* written,
                                                                         const slicenav_insertion* insertion);

/* Every query slice's distribution over the slots (count x (inner slots + 2) floats, row-major, rows in
 * query canonical order, each row summing to 1), into a caller buffer.
 *   dst, capacity, written  the caller buffer (floats); a size query as usual.
 *   insertion               not NULL.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (also when the insertion was made without keep_distribution) or
 * BUFFER_TOO_SMALL. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_insertion_distribution(float* dst, size_t capacity,
                                                                                size_t* written,
                                                                                const slicenav_insertion* insertion);

/* Writes the insertion heat map (query slice down, target slot across; the insertion network paper's
 * Fig. 4) as a PNG, atomically.
 *   out_path   not NULL; borrowed.
 *   insertion  not NULL; made with keep_distribution.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or IO (nothing is left at out_path). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_insertion_write_png(const char* out_path,
                                                                             const slicenav_insertion* insertion);

/* Releases an insertion result. NULL is a no-op. */
SLICENAV_API void slicenav_insertion_free(slicenav_insertion* insertion);

/* ---- Slice scores ----------------------------------------------------------------------------- */

/* How a volume is prepared for a model (slicenav_volume_scores, slicenav_scan_prepare). */
typedef struct slicenav_prepare_params {
  uint32_t struct_size;
  slicenav_callbacks callbacks; /* reported after every chunk of slices the encoder embeds */
} slicenav_prepare_params;

SLICENAV_API slicenav_prepare_params slicenav_prepare_default_params(void);

/* One body-part score per canonical slice (0 = most superior), in atlas mm (superior positive, lung
 * apex = 0).
 *   dst, capacity, written  the caller buffer (doubles); a size query as usual.
 *   model, volume           not NULL; borrowed.
 *   params                  nullable (defaults); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT, UNSUPPORTED_INPUT, BUFFER_TOO_SMALL or CANCELLED. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_scores(double* dst, size_t capacity, size_t* written,
                                                                       const slicenav_model* model,
                                                                       const slicenav_volume* volume,
                                                                       const slicenav_prepare_params* params);

/* ---- Key slices ------------------------------------------------------------------------------- */

typedef enum slicenav_locate_method {
  SLICENAV_LOCATE_INSERTION = 0, /* bundled labelled templates inserted into the scan, ensembled */
  SLICENAV_LOCATE_SCORE = 1      /* a robust line through the slice scores */
} slicenav_locate_method;

typedef struct slicenav_locate_params {
  uint32_t struct_size;
  slicenav_locate_method method;
  slicenav_callbacks callbacks; /* volume calls: reported as the volume is prepared */
} slicenav_locate_params;

SLICENAV_API slicenav_locate_params slicenav_locate_default_params(void);

/* Key slices located in one scan. */
typedef struct slicenav_landmarks slicenav_landmarks;

/* Locates every key slice the model's templates label (skull_base, c7, lung_apex, aortic_arch, carina,
 * liver_dome, kidney_lower_end, femur_head_top, ...: the names of ../shared/data landmarks.json).
 *   out            not NULL; receives a new result (free with slicenav_landmarks_free), NULL on failure.
 *   model, volume  not NULL; borrowed.
 *   params         nullable (defaults: SLICENAV_LOCATE_INSERTION); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT, UNSUPPORTED_INPUT (not CT; a model without templates). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_locate(slicenav_landmarks** out,
                                                                       const slicenav_model* model,
                                                                       const slicenav_volume* volume,
                                                                       const slicenav_locate_params* params);

typedef struct slicenav_landmark {
  uint32_t struct_size;
  const char* name; /* owned by the result */
  slicenav_where where;
  double canonical_slice; /* INSIDE only */
  double original_slice;  /* INSIDE only */
  double world_z_mm;      /* INSIDE only */
  float confidence;       /* 0..1: insertion: peak probability of the ensembled distribution */
  double spread_mm;       /* insertion: standard deviation of the templates' individual answers */
  size_t votes;           /* templates (insertion) or slices (score) that contributed */
} slicenav_landmark;

SLICENAV_API slicenav_landmark slicenav_landmark_init(void);
/* Number of located key slices (one per atlas landmark, superior first); 0 for NULL. */
SLICENAV_API size_t slicenav_landmarks_count(const slicenav_landmarks* landmarks);
/* The index-th key slice.
 *   out        not NULL; out->struct_size set (slicenav_landmark_init()); only that many bytes written. The
 *              name belongs to the result.
 *   landmarks  not NULL.   index  < slicenav_landmarks_count(landmarks).
 * Returns SLICENAV_OK or INVALID_ARGUMENT (NULL, index >= count). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_landmarks_get(slicenav_landmark* out,
                                                                       const slicenav_landmarks* landmarks,
                                                                       size_t index);

/* 1 when the scan shows body anatomy the model knows, 0 when it does not (an extremity, anatomy beyond the
 * model's atlas, non-anatomical content; then every confidence is 0) or for NULL. The test: the slice
 * scores must rise superiorly at >= 0.25 atlas mm per mm (the bundled model on real head-and-neck to pelvis
 * scans: 0.46 to 1.35; extremity scans: -1.44 to 0.23); scans shorter than 60 mm count as recognised. */
SLICENAV_API int32_t slicenav_landmarks_recognised(const slicenav_landmarks* landmarks);
/* The robust (Theil-Sen) slope of slice score over world z behind that test; 0 for NULL. */
SLICENAV_API double slicenav_landmarks_score_slope(const slicenav_landmarks* landmarks);
/* 1 when landmark `index` is the key slice measured in the image (lung apex and base from the aerated lung,
 * carina from the airway's split, skull base and femoral head top from the bone) instead of the model's
 * answer; locate uses a measurement within 40 mm (air) or 60 mm (bone) of the model's answer. 0 otherwise, for NULL or
 * an index >= count. */
SLICENAV_API int32_t slicenav_landmarks_measured(const slicenav_landmarks* landmarks, size_t index);

/* Coronal and sagittal views of the volume with the located key slices drawn and labelled (dashed when
 * confidence < 0.3), as a PNG, atomically.
 *   out_path   not NULL; borrowed.
 *   landmarks  not NULL; located in `volume`.
 *   volume     not NULL; borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or IO (nothing is left at out_path). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_landmarks_write_png(const char* out_path,
                                                                             const slicenav_landmarks* landmarks,
                                                                             const slicenav_volume* volume);

/* Releases located key slices. NULL is a no-op. */
SLICENAV_API void slicenav_landmarks_free(slicenav_landmarks* landmarks);

/* ---- Coverage --------------------------------------------------------------------------------- */

typedef enum slicenav_coverage_status {
  SLICENAV_COVERAGE_NONE = 0,
  SLICENAV_COVERAGE_PARTIAL = 1,
  SLICENAV_COVERAGE_FULL = 2
} slicenav_coverage_status;

typedef struct slicenav_coverage {
  uint32_t struct_size;
  slicenav_coverage_status status;
  int32_t recognised;         /* see slicenav_landmarks_recognised; 0: status NONE, confidences 0 */
  slicenav_position superior; /* the region's superior end in the scan */
  slicenav_position inferior; /* its inferior end */
} slicenav_coverage;

SLICENAV_API slicenav_coverage slicenav_coverage_init(void);

/* Whether the volume covers a region ("lungs", "heart", "liver", "kidneys", "abdomen", "pelvis",
 * "head-neck", or any region in the model's table).
 *   out            not NULL; out->struct_size set (slicenav_coverage_init()); only that many bytes written.
 *   model, volume  not NULL; borrowed.
 *   region         not NULL; a name from slicenav_model_region_name(); borrowed.
 *   params         nullable (defaults); how the region's ends are located.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (also an unknown region: the message lists the known ones),
 * UNSUPPORTED_INPUT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_coverage(slicenav_coverage* out,
                                                                         const slicenav_model* model,
                                                                         const slicenav_volume* volume,
                                                                         const char* region,
                                                                         const slicenav_locate_params* params);

/* Number of regions the model knows, and the index-th name (owned by the model; NULL past the end). */
SLICENAV_API size_t slicenav_model_region_count(const slicenav_model* model);
SLICENAV_API const char* slicenav_model_region_name(const slicenav_model* model, size_t index);

/* Number of organs the model boxes with its anatomical positional embeddings (its APE organ templates,
 * docs/ape.md), and the index-th name (owned by the model; NULL past the end). Each is a name
 * slicenav_crop_record_plan takes besides the regions. */
SLICENAV_API size_t slicenav_model_organ_count(const slicenav_model* model);
SLICENAV_API const char* slicenav_model_organ_name(const slicenav_model* model, size_t index);

/* ---- Prepared scans --------------------------------------------------------------------------- */

/* A volume prepared once for one model: canonical slices, slice embeddings and scores. The calls above
 * prepare their volumes on every call (most of their cost); a prepared scan lets many calls on the same
 * scan (insert it into several targets, locate, coverage of several regions, a batch into one target)
 * share that work, with the same answers. It keeps what it needs, not the volume, and may be used by many
 * threads at once. It belongs to the model it was prepared with: using it with another model is
 * INVALID_ARGUMENT. */
typedef struct slicenav_scan slicenav_scan;

/* Prepares `volume` for `model`.
 *   out            not NULL; receives a new scan (free with slicenav_scan_free), NULL on failure.
 *   model, volume  not NULL; borrowed (the volume may be freed afterwards; the model must outlive the scan).
 *   params         nullable (defaults); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT, UNSUPPORTED_INPUT (intensities that are not CT HU) or CANCELLED. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_scan_prepare(slicenav_scan** out, const slicenav_model* model,
                                                                      const slicenav_volume* volume,
                                                                      const slicenav_prepare_params* params);

/* Canonical slices of the scan; 0 for NULL. */
SLICENAV_API size_t slicenav_scan_slice_count(const slicenav_scan* scan);

/* The scan's slice scores, as slicenav_volume_scores gives them, without inference.
 *   dst, capacity, written  the caller buffer (doubles); a size query as usual.
 *   scan                    not NULL.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or BUFFER_TOO_SMALL. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_scan_scores(double* dst, size_t capacity, size_t* written,
                                                                     const slicenav_scan* scan);

/* slicenav_volume_insert, slicenav_volume_locate and slicenav_volume_coverage on prepared scans (same arguments,
 * results and statuses). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_scan_insert(slicenav_insertion** out,
                                                                     const slicenav_model* model,
                                                                     const slicenav_scan* query,
                                                                     const slicenav_scan* target,
                                                                     const slicenav_insert_params* params);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_scan_locate(slicenav_landmarks** out,
                                                                     const slicenav_model* model,
                                                                     const slicenav_scan* scan,
                                                                     const slicenav_locate_params* params);
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_scan_coverage(slicenav_coverage* out,
                                                                       const slicenav_model* model,
                                                                       const slicenav_scan* scan, const char* region,
                                                                       const slicenav_locate_params* params);

/* Releases a scan. NULL is a no-op. */
SLICENAV_API void slicenav_scan_free(slicenav_scan* scan);

/* ---- Cropping --------------------------------------------------------------------------------- */

/* Where to crop a scan to one region, and how to undo it: the original grid (size, spacing, origin,
 * direction, pixel type), the box in index and world coordinates, the region, the model version, the
 * margins and whether the region was fully covered. Its JSON form is all uncrop needs: no original image. */
typedef struct slicenav_crop_record slicenav_crop_record;

typedef struct slicenav_crop_params {
  uint32_t struct_size;
  const char* region;            /* a name from slicenav_model_region_name() or slicenav_model_organ_name();
                                    borrowed for the call */
  slicenav_locate_method method; /* how the region's ends are located (default INSERTION) */
  slicenav_callbacks callbacks;  /* reported as the volume is prepared */
} slicenav_crop_params;

/* region NULL (must be set), method SLICENAV_LOCATE_INSERTION. */
SLICENAV_API slicenav_crop_params slicenav_crop_default_params(void);

/* Decides the crop box of `region` in `volume`: along z the region's ends located by the model plus the
 * region's calibrated margins, in-plane the body (table and air removed) plus a margin. A region partly
 * outside the scan gives the part that exists, flagged partial; a region not in the scan is
 * SLICENAV_ERR_UNSUPPORTED_INPUT (never an empty crop); an unknown name is SLICENAV_ERR_INVALID_ARGUMENT
 * naming the known ones. An organ's crop is its region's crop cut to the organ's APE box; the record's
 * JSON "ape" block says whether the box was used (the region's crop is kept, with a warning, when the
 * organ's edge points do not match the scan, when the region is only partly in the scan, or when none of
 * the region's other organs in the model is found to corroborate the box).
 *   out     not NULL; receives a new record (free with slicenav_crop_record_free), NULL on failure.
 *   model, volume  not NULL; borrowed.
 *   params  not NULL (params->region required); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT, UNSUPPORTED_INPUT (not CT HU; region not in the scan; a scan the
 * model does not recognise, the message says why). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_crop_record_plan(slicenav_crop_record** out,
                                                                          const slicenav_model* model,
                                                                          const slicenav_volume* volume,
                                                                          const slicenav_crop_params* params);

/* Reads a record written by slicenav_crop_record_write (or the CLI's --record).
 *   out   not NULL; receives a new record (free with slicenav_crop_record_free), NULL on failure.
 *   path  not NULL; borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (NULL; not a crop record, or an inconsistent one: the message
 * names the field), NOT_FOUND, IO. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_crop_record_read(slicenav_crop_record** out, const char* path);

/* Writes the record as JSON, atomically (temporary file + rename).
 *   out_path  not NULL; borrowed.   record  not NULL.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or IO (nothing is left at out_path on failure). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_crop_record_write(const char* out_path,
                                                                           const slicenav_crop_record* record);

/* The record as JSON text, owned by the record; NULL for NULL. */
SLICENAV_API const char* slicenav_crop_record_json(const slicenav_crop_record* record);

/* 1 when the region is not fully covered by the scan (the crop holds the part that exists), 0 when it is
 * or for NULL. */
SLICENAV_API int32_t slicenav_crop_record_partial(const slicenav_crop_record* record);

/* Crops an image on the record's original grid (any scalar voxel type, kept: int16 CT stays int16,
 * uint8 labels stay uint8) to the box, and writes it atomically; the output's origin places every voxel
 * at its original world position. An image on another grid is SLICENAV_ERR_INVALID_ARGUMENT naming the
 * mismatch.
 *   out_path    not NULL; borrowed. .nii, .nii.gz, .mha or .nrrd.
 *   record      not NULL.
 *   image_path  not NULL; borrowed.
 *   params      nullable (defaults: gzip level 1); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT, NOT_FOUND, IO (nothing is left at out_path), UNSUPPORTED_INPUT (not
 * a 3D scalar image; an unknown extension). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_crop_record_crop_file(const char* out_path,
                                                                               const slicenav_crop_record* record,
                                                                               const char* image_path,
                                                                               const slicenav_write_params* params);

/* Pastes an image on the record's cropped grid (a label map or probabilities, any scalar voxel type, kept)
 * back into the original grid, background 0, and writes it atomically. Crop then uncrop is bit-exact
 * inside the box. An image on another grid is SLICENAV_ERR_INVALID_ARGUMENT naming the mismatch.
 * Arguments and statuses as slicenav_crop_record_crop_file, with the prediction's path for the image's. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_crop_record_uncrop_file(const char* out_path,
                                                                                 const slicenav_crop_record* record,
                                                                                 const char* prediction_path,
                                                                                 const slicenav_write_params* params);

/* Releases a record. NULL is a no-op. */
SLICENAV_API void slicenav_crop_record_free(slicenav_crop_record* record);

/* ---- Transform files -------------------------------------------------------------------------- */

/* A rigid transform in the convention of elastix and ITK: it maps a point p of the fixed image's
 * physical space to the corresponding point T(p) of the moving image's,
 *   T(p) = R (p - centre_mm) + centre_mm + translation_mm,  R = Rz Rx Ry (elastix EulerTransform,
 * ITK Euler3DTransform, ComputeZYX false). With all angles 0, T(p) = p + translation_mm: an anatomical
 * level at world z_f in the fixed scan and z_m in the moving scan has translation_mm[2] = z_m - z_f. */
typedef struct slicenav_rigid_transform {
  uint32_t struct_size;
  double translation_mm[3]; /* fixed point p -> moving point p + translation (elastix -t0 convention), LPS mm */
  double rotation_rad[3];   /* Euler angles (elastix EulerTransform); all 0 -> TranslationTransform */
  double centre_mm[3];      /* centre of rotation, LPS mm */
} slicenav_rigid_transform;

/* The identity: struct_size set, every other field 0. */
SLICENAV_API slicenav_rigid_transform slicenav_rigid_transform_init(void);

/* Writes an elastix TransformParameters file usable as elastix's initial transform (-t0) and by
 * transformix: a TranslationTransform when every rotation is 0, else an EulerTransform about centre_mm;
 * the fixed image's Size, Spacing, Origin and Direction (so transformix resamples the moving image onto
 * the fixed grid); "NoInitialTransform"; CT resampling defaults (cubic B-spline, -1024 outside, int16
 * .nii.gz). Written atomically (temporary file + rename).
 *   out_path   not NULL, not ""; borrowed. Passed to elastix, it should be absolute.
 *   transform  not NULL; struct_size must cover translation_mm (fields past it are 0); borrowed.
 *   fixed      not NULL; the registration's fixed image; borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (NULL, a non-finite value) or IO (unwritable; nothing is left at
 * out_path). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_rigid_transform_write_elastix(
    const char* out_path, const slicenav_rigid_transform* transform, const slicenav_volume* fixed);

/* Writes the same transform as an ITK transform file (.tfm, "#Insight Transform File V1.0"):
 * TranslationTransform_double_3_3, or Euler3DTransform_double_3_3 when a rotation is non-zero. ITK's
 * transforms also map fixed (output) points to moving (input) points. Written atomically.
 *   out_path   not NULL, not ""; borrowed.
 *   transform  not NULL, as above.
 * Returns SLICENAV_OK, INVALID_ARGUMENT or IO (nothing is left at out_path). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status
slicenav_rigid_transform_write_itk(const char* out_path, const slicenav_rigid_transform* transform);

/* ---- Prealignment ----------------------------------------------------------------------------- */

/* How slicenav_prealign finds the z translation between two scans (docs/prealign.md). */
typedef enum slicenav_prealign_method {
  SLICENAV_PREALIGN_SCORE = 0,       /* slice-score curves matched by L1 shift */
  SLICENAV_PREALIGN_THREE_SLICE = 1, /* scores of 3 slices */
  SLICENAV_PREALIGN_INSERTION = 2,   /* insertion + robust line */
  SLICENAV_PREALIGN_INTENSITY = 3,   /* model-free baseline; model may be NULL */
  SLICENAV_PREALIGN_EMBEDDING = 4,   /* slice embeddings, each slice centred on its own, matched by L1 shift */
  SLICENAV_PREALIGN_KEY_SLICES = 5,  /* key slices located in both scans; across patients (atlas to patient) */
  SLICENAV_PREALIGN_AUTO = 6         /* embedding, key slices or intensity, chosen by their evidence */
} slicenav_prealign_method;

typedef struct slicenav_prealign_params {
  uint32_t struct_size;
  slicenav_prealign_method method; /* default SLICENAV_PREALIGN_AUTO */
  /* Shifts with less overlap are not considered (score, embedding, intensity); for the others less overlap
   * means no shared anatomy. Finite, >= 0; default 30 mm. Scans shorter than this use 80 % of the
   * shorter scan's extent, so a one-slice moving scan still gets an answer. */
  double min_overlap_mm;
  int32_t in_plane;             /* 1: x/y from body-mask centroids (voxels above -500 HU) over the shared z range */
  slicenav_callbacks callbacks; /* reported as each scan is prepared and each method has answered */
} slicenav_prealign_params;

SLICENAV_API slicenav_prealign_params slicenav_prealign_default_params(void);

typedef struct slicenav_prealignment {
  uint32_t struct_size;
  double translation_mm[3]; /* fixed point p -> moving point p + translation (elastix -t0 convention), LPS mm */
  double confidence;        /* 0..1; 0 whenever shared_anatomy is 0 */
  double overlap_mm;        /* z extent shared by the two scans after alignment */
  int32_t shared_anatomy;   /* 0: the scans show no common anatomy; the translation is then not meaningful */
  int32_t fixed_recognised; /* the model recognises each scan's anatomy (always 1 for intensity) */
  int32_t moving_recognised;
  slicenav_prealign_method method; /* the method that answered (for SLICENAV_PREALIGN_AUTO, the one chosen) */
  char note[160];                  /* why the confidence is low or the anatomy not shared; "" otherwise */
  /* The evidence of the method that answered (docs/prealign.md, "Confidence and the shared-anatomy verdict"); other
   * methods' fields are 0. */
  size_t shifts_tried;      /* score, embedding, intensity: shifts of the curve match tried */
  double match_cost;        /* score: mean |score difference| at the best shift, atlas mm; embedding, intensity: mean
                             * |embedding (slice image) difference| at the best shift relative to the median shift's
                             * (about 1 when nothing matches) */
  double match_contrast;    /* score: rise of that cost 20 mm either side of the best shift, atlas mm per mm;
                             * embedding, intensity: the same relative to the median cost */
  size_t line_inliers;      /* insertion: slice answers on the robust line */
  double off_line_share;    /* insertion: share of the slices expected inside the other scan whose answers are off
                             * the line */
  size_t key_slices_shared; /* key slices: key slices located in both scans */
  double key_slice_deviation_mm; /* key slices: median |one key slice's shift - the answer| */
  double fixed_score_slope;      /* three-slice: the fixed scan's slice-score slope, atlas mm per mm */
} slicenav_prealignment;

/* struct_size set, every other field 0. */
SLICENAV_API slicenav_prealignment slicenav_prealignment_init(void);

/* The translation that takes a point of the fixed scan to the same anatomy in the moving scan: an
 * anatomical level at world z_f in the fixed scan and z_m in the moving scan gives translation_mm[2] =
 * z_m - z_f. Both scans are canonicalized, so their orientations and patient positions (HFS, FFS) may
 * differ. Without in_plane, x and y are 0. A scan the model does not recognise (see
 * slicenav_landmarks_recognised) gets shared_anatomy 0 from the score, three-slice, insertion and key-slice
 * methods; the embedding method reports recognition but judges by how alike the embeddings are. The default,
 * SLICENAV_PREALIGN_AUTO, works for two scans of one patient and across patients (docs/prealign.md).
 *   out     not NULL; out->struct_size set (slicenav_prealignment_init()); only that many bytes written.
 *   model   may be NULL only for SLICENAV_PREALIGN_INTENSITY; borrowed.
 *   fixed, moving  not NULL; any number of slices (1 included); borrowed.
 *   params  nullable (defaults); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (NULL, unknown method, bad min_overlap_mm, a NULL model for a
 * learned method) or UNSUPPORTED_INPUT (intensities that are not CT HU). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_prealign(slicenav_prealignment* out,
                                                                  const slicenav_model* model,
                                                                  const slicenav_volume* fixed,
                                                                  const slicenav_volume* moving,
                                                                  const slicenav_prealign_params* params);

/* ---- Rigid prealignment ------------------------------------------------------------------------ */

typedef struct slicenav_prealign_rigid_params {
  uint32_t struct_size;
  /* Fixed-scan points matched (spread over its body); >= 3; default 1500. */
  uint32_t points;
  /* Rotations beyond this about any axis (degrees) are answered with confidence at most 0.2 and a note;
   * finite, > 0; default 25 (the range the voxel embedding was trained on). */
  double max_rotation_deg;
  uint64_t seed;                /* of the point choice and the consensus sampling; default 1 */
  slicenav_callbacks callbacks; /* reported as each scan is embedded and the points are matched */
} slicenav_prealign_rigid_params;

SLICENAV_API slicenav_prealign_rigid_params slicenav_prealign_rigid_default_params(void);

typedef struct slicenav_prealignment_rigid {
  uint32_t struct_size;
  /* T(p) = R (p - centre_mm) + centre_mm + translation_mm takes a fixed point p to the same anatomy in the
   * moving scan (elastix -t0 convention, LPS mm); R = Rz Rx Ry from rotation_rad (elastix EulerTransform,
   * ITK Euler3DTransform, ComputeZYX false). The same fields as slicenav_rigid_transform, for
   * slicenav_rigid_transform_write_elastix and slicenav_rigid_transform_write_itk. */
  double translation_mm[3];
  double rotation_rad[3];
  double centre_mm[3];
  double confidence;      /* 0..1; 0 whenever shared_anatomy is 0 */
  int32_t shared_anatomy; /* 0: no common anatomy found; the transform is then not meaningful */
  size_t points;          /* fixed-scan points matched */
  size_t consistent;      /* matches that map back to their point (forward-backward consistent) */
  size_t inliers;         /* consistent matches that agree with the fitted transform */
  double residual_mm;     /* RMS distance of the inliers to the fitted transform */
  char note[160];         /* why the confidence is low or the anatomy not shared; "" otherwise */
} slicenav_prealignment_rigid;

/* struct_size set, every other field 0. */
SLICENAV_API slicenav_prealignment_rigid slicenav_prealignment_rigid_init(void);

/* Rotation and translation between two CT scans from matched anatomical points (docs/prealign.md,
 * "Rigid"): points spread over the fixed scan's body are matched in the moving scan by nearest neighbour
 * in the model's voxel embedding, forward-backward consistent matches kept, and the transform fitted by
 * least squares inside a RANSAC consensus. Orientation and patient position of the files do not matter.
 *   out     not NULL; out->struct_size set (slicenav_prealignment_rigid_init()); only that many bytes written.
 *   model   not NULL; must hold the voxel embedding network (the bundled model does); borrowed.
 *   fixed, moving  not NULL; borrowed.
 *   params  nullable (defaults); borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (NULL, bad params) or UNSUPPORTED_INPUT (intensities that are not
 * CT HU, a model without the voxel network, a volume too large to resample). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_prealign_rigid(slicenav_prealignment_rigid* out,
                                                                        const slicenav_model* model,
                                                                        const slicenav_volume* fixed,
                                                                        const slicenav_volume* moving,
                                                                        const slicenav_prealign_rigid_params* params);

/* ---- Anatomical positional embeddings ------------------------------------------------------------ */

/* A grid aligned with the world (LPS) axes: voxel (x, y, z) at origin + spacing_mm * (x, y, z). */
typedef struct slicenav_world_grid {
  uint32_t struct_size;
  size_t size[3];    /* voxels along x, y, z */
  double spacing_mm; /* between voxel centres along every axis */
  double origin[3];  /* world LPS mm of voxel (0, 0, 0) */
} slicenav_world_grid;

/* struct_size set, every other field 0. */
SLICENAV_API slicenav_world_grid slicenav_world_grid_init(void);

/* The anatomical positional embedding (APE) map of a CT (docs/ape.md): 3 floats per voxel of a grid aligned
 * with the world axes, the model's APE spacing (4 mm) apart, covering the scan's bounding box. Their distances
 * follow the distances between the anatomy of an average patient, so the same organ gets nearby values in
 * every patient. Channel c of voxel (x, y, z) is dst[c * n + x + size[0] * (y + size[1] * z)], n = the grid's
 * voxel count (numpy: shape (3, z, y, x)).
 *   dst, capacity, written  the caller buffer (floats, 3 per voxel); a size query (dst NULL, capacity 0) does
 *                           not run the network.
 *   grid    nullable; grid->struct_size set (slicenav_world_grid_init()); receives the grid.
 *   model   not NULL; must hold the APE network (the bundled model does); borrowed.
 *   volume  not NULL; borrowed.
 * Returns SLICENAV_OK, INVALID_ARGUMENT (NULL), BUFFER_TOO_SMALL or UNSUPPORTED_INPUT (a model without the APE
 * network, intensities that are not CT HU, a volume too large to resample). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_ape_map(float* dst, size_t capacity, size_t* written,
                                                                 slicenav_world_grid* grid,
                                                                 const slicenav_model* model,
                                                                 const slicenav_volume* volume);

/* Writes the APE map of a CT atomically as a .nii or .nii.gz vector image of 3 float components on its grid.
 *   out_path  not NULL; .nii or .nii.gz; borrowed.
 *   model, volume  as for slicenav_ape_map.
 *   params    nullable (defaults); borrowed.
 * Returns what slicenav_ape_map returns, UNSUPPORTED_INPUT for another extension, INVALID_ARGUMENT for a gzip
 * level outside 0-12, or IO (nothing is left at out_path). */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_ape_write(const char* out_path, const slicenav_model* model,
                                                                   const slicenav_volume* volume,
                                                                   const slicenav_write_params* params);

/* ---- Voxel access ----------------------------------------------------------------------------- */

/* The volume's voxels as float HU in file index order, x fastest, as slicenav_volume_copy_voxels gives
 * them (value(i, j, k) = voxels[i + size[0] * (j + size[1] * k)]). A volume read from a file of whole HU
 * within 16-bit integers (the usual int16 CT) keeps its voxels as int16, half the memory of float: for it
 * the first call makes the float copy once (4 bytes per voxel, owned by the volume); otherwise they are
 * the volume's own voxels, without a copy.
 *   out        not NULL; receives a pointer to size[0] * size[1] * size[2] floats owned by the volume,
 *              valid until slicenav_volume_free(volume). Read-only: volumes are immutable, so any number of
 *              threads may read it at once. NULL on failure.
 *   out_count  nullable; receives the number of voxels.
 *   volume     not NULL; borrowed.
 * Returns SLICENAV_OK or INVALID_ARGUMENT. */
SLICENAV_API SLICENAV_NODISCARD slicenav_status slicenav_volume_voxels(const float** out, size_t* out_count,
                                                                       const slicenav_volume* volume);

#ifdef __cplusplus
}
#endif

#endif /* SLICENAV_H */
