/* Tests of the C API (libslicenav.so), in plain C. Usage: capi_test [temp dir]. */
#define _POSIX_C_SOURCE 200809L

#include <slicenav.h>
#include <slicenav_experimental.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "c_check.h"

static const size_t k_dims[3] = {4, 3, 5};
static const double k_spacing[3] = {0.75, 0.8, 2.5};
static const double k_origin[3] = {-10.5, 20.25, -300.0};
static const double k_identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
static const double k_flip_z[9] = {1, 0, 0, 0, 1, 0, 0, 0, -1};
#define K_COUNT 60

/* A 4x3x5 volume of integer HU values -1000 + 7 n. */
static slicenav_volume* make_volume(const double direction[9]) {
  float data[K_COUNT];
  slicenav_volume* volume = NULL;
  int n;
  for (n = 0; n < K_COUNT; ++n) data[n] = (float)(-1000 + 7 * n);
  if (slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, k_spacing, k_origin, direction) !=
      SLICENAV_OK) {
    fprintf(stderr, "make_volume: %s\n", slicenav_last_error());
    return NULL;
  }
  return volume;
}

/* ---- Tests ------------------------------------------------------------------------------------- */

static void test_version_matches_macros(void) {
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", SLICENAV_VERSION_MAJOR, SLICENAV_VERSION_MINOR,
           SLICENAV_VERSION_PATCH);
  CHECK(strcmp(slicenav_version(), expected) == 0);
  CHECK(slicenav_version_number() ==
        (uint32_t)(SLICENAV_VERSION_MAJOR * 10000 + SLICENAV_VERSION_MINOR * 100 + SLICENAV_VERSION_PATCH));
  CHECK(slicenav_version_number() == (uint32_t)SLICENAV_VERSION_NUMBER);
#if SLICENAV_VERSION_NUMBER < 100
#  error "SLICENAV_VERSION_NUMBER must be usable in #if and at least 0.1.0"
#endif
}

static void test_status_names(void) {
  CHECK(strcmp(slicenav_status_name(SLICENAV_OK), "ok") == 0);
  CHECK(strcmp(slicenav_status_name(SLICENAV_ERR_NOT_FOUND), "not found") == 0);
  CHECK(slicenav_status_name(-1234) != NULL);
}

static void test_from_buffer_every_pixel_type(void) {
  int16_t i16[K_COUNT];
  uint8_t u8[K_COUNT];
  int32_t i32[K_COUNT];
  float f32[K_COUNT];
  double f64[K_COUNT];
  const void* buffers[5];
  const slicenav_pixel_type types[5] = {SLICENAV_PIXEL_INT16, SLICENAV_PIXEL_UINT8, SLICENAV_PIXEL_INT32,
                                        SLICENAV_PIXEL_FLOAT32, SLICENAV_PIXEL_FLOAT64};
  int n, t;
  for (n = 0; n < K_COUNT; ++n) {
    i16[n] = (int16_t)(-1000 + 37 * n);
    u8[n] = (uint8_t)(4 * n);
    i32[n] = -100000 + 4001 * n;
    f32[n] = -500.25f + 1.5f * (float)n;
    f64[n] = 1000.5 - 3.25 * n;
  }
  buffers[0] = i16;
  buffers[1] = u8;
  buffers[2] = i32;
  buffers[3] = f32;
  buffers[4] = f64;
  for (t = 0; t < 5; ++t) {
    slicenav_volume* volume = NULL;
    float out[K_COUNT];
    size_t written = 0;
    int equal = 1;
    CHECK_STATUS(slicenav_volume_from_buffer(&volume, buffers[t], types[t], k_dims, k_spacing, k_origin, NULL),
                 SLICENAV_OK);
    CHECK(volume != NULL);
    if (volume == NULL) continue;
    CHECK_STATUS(slicenav_volume_copy_voxels(out, K_COUNT, &written, volume), SLICENAV_OK);
    CHECK(written == K_COUNT);
    for (n = 0; n < K_COUNT; ++n) {
      float expected = 0;
      switch (types[t]) {
        case SLICENAV_PIXEL_INT16: expected = (float)i16[n]; break;
        case SLICENAV_PIXEL_UINT8: expected = (float)u8[n]; break;
        case SLICENAV_PIXEL_INT32: expected = (float)i32[n]; break;
        case SLICENAV_PIXEL_FLOAT32: expected = f32[n]; break;
        case SLICENAV_PIXEL_FLOAT64: expected = (float)f64[n]; break;
      }
      if (out[n] != expected) equal = 0;
    }
    CHECK(equal);
    CHECK(strcmp(slicenav_volume_source_path(volume), "") == 0);
    slicenav_volume_free(volume);
  }
}

static void test_from_buffer_rejects_null_arguments(void) {
  float data[K_COUNT] = {0};
  slicenav_volume* volume = (slicenav_volume*)&volume; /* must be reset to NULL on failure */
  CHECK_STATUS(slicenav_volume_from_buffer(NULL, data, SLICENAV_PIXEL_FLOAT32, k_dims, k_spacing, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, NULL, SLICENAV_PIXEL_FLOAT32, k_dims, k_spacing, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("data");
  CHECK(volume == NULL);
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, NULL, k_spacing, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("dims");
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, NULL, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("spacing");
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, k_spacing, NULL, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("origin");
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, (slicenav_pixel_type)99, k_dims, k_spacing, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("pixel_type");
  CHECK(volume == NULL);
}

static void test_from_buffer_rejects_bad_geometry(void) {
  float data[K_COUNT] = {0};
  slicenav_volume* volume = NULL;
  size_t dims[3] = {4, 0, 5};
  size_t huge[3];
  double spacing[3] = {1, 1, 1};
  double origin[3] = {0, 0, 0};
  const double singular[9] = {1, 0, 0, 1, 0, 0, 0, 0, 1};
  double direction[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};

  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, dims, spacing, origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("dims[1]");

  huge[0] = (size_t)1 << 40;
  huge[1] = (size_t)1 << 40;
  huge[2] = 2;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, huge, spacing, origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("overflow");

  spacing[2] = 0.0;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, spacing, origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("spacing[2]");
  spacing[2] = -1.0;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, spacing, origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("spacing[2]");
  spacing[2] = NAN;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, spacing, origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("spacing[2]");
  spacing[2] = 1.0;

  origin[0] = INFINITY;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, spacing, origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("origin[0]");
  origin[0] = 0.0;

  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, spacing, origin, singular),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("direction");
  /* 30 degrees about z: beyond the canonical obliquity tolerance. */
  direction[0] = 0.8660254037844387;
  direction[1] = -0.5;
  direction[3] = 0.5;
  direction[4] = 0.8660254037844387;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, spacing, origin, direction),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("direction");
  direction[4] = NAN;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, spacing, origin, direction),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("direction[4]");
  CHECK(volume == NULL);
}

static void test_from_buffer_rejects_non_finite_voxels(void) {
  float f32[K_COUNT] = {0};
  double f64[K_COUNT] = {0};
  slicenav_volume* volume = NULL;
  f32[17] = NAN;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, f32, SLICENAV_PIXEL_FLOAT32, k_dims, k_spacing, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("data[17]");
  f64[3] = -INFINITY;
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, f64, SLICENAV_PIXEL_FLOAT64, k_dims, k_spacing, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("data[3]");
  f64[3] = 1e300; /* finite as double, not as float */
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, f64, SLICENAV_PIXEL_FLOAT64, k_dims, k_spacing, k_origin, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("data[3]");
  CHECK(volume == NULL);
}

static void test_get_info_fields(void) {
  slicenav_volume* volume = make_volume(NULL);
  slicenav_volume_info info = slicenav_volume_info_init();
  int a;
  CHECK(volume != NULL);
  if (volume == NULL) return;
  CHECK_STATUS(slicenav_volume_get_info(&info, volume), SLICENAV_OK);
  CHECK(info.struct_size == sizeof info);
  for (a = 0; a < 3; ++a) {
    CHECK(info.size[a] == k_dims[a]);
    CHECK(info.spacing[a] == k_spacing[a]);
    CHECK(info.origin[a] == k_origin[a]);
  }
  for (a = 0; a < 9; ++a) CHECK(info.direction[a] == k_identity[a]);
  CHECK(strcmp(info.orientation, "LPS") == 0);
  CHECK(strcmp(info.format, "memory") == 0);
  CHECK(strcmp(info.patient_position, "") == 0);
  CHECK(info.canonical_slice_count == 5);
  CHECK_NEAR(info.slice_step_mm, 2.5, 1e-9);
  CHECK_NEAR(info.world_z_min_mm, -300.0, 1e-9);
  CHECK_NEAR(info.world_z_max_mm, -300.0 + 4 * 2.5, 1e-9);
  CHECK_NEAR(info.obliquity_deg, 0.0, 1e-9);
  CHECK(info.warning_count == 0);
  CHECK(slicenav_volume_warning(volume, 0) == NULL);
  slicenav_volume_free(volume);
}

static void test_get_info_checks_arguments(void) {
  slicenav_volume* volume = make_volume(NULL);
  slicenav_volume_info info = slicenav_volume_info_init();
  CHECK(volume != NULL);
  if (volume == NULL) return;
  CHECK_STATUS(slicenav_volume_get_info(&info, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");
  CHECK_STATUS(slicenav_volume_get_info(NULL, volume), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  info.struct_size = 0;
  CHECK_STATUS(slicenav_volume_get_info(&info, volume), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  info.struct_size = (uint32_t)sizeof(uint32_t);
  CHECK_STATUS(slicenav_volume_get_info(&info, volume), SLICENAV_ERR_INVALID_ARGUMENT);
  slicenav_volume_free(volume);
}

static void test_get_info_writes_only_struct_size_bytes(void) {
  union {
    slicenav_volume_info info;
    unsigned char bytes[sizeof(slicenav_volume_info) + 32];
  } buffer;
  const size_t older = offsetof(slicenav_volume_info, origin); /* a version that ended after spacing */
  slicenav_volume* volume = make_volume(NULL);
  size_t n;
  int untouched = 1;
  CHECK(volume != NULL);
  if (volume == NULL) return;

  memset(buffer.bytes, 0xAB, sizeof buffer.bytes);
  buffer.info.struct_size = (uint32_t)older;
  CHECK_STATUS(slicenav_volume_get_info(&buffer.info, volume), SLICENAV_OK);
  CHECK(buffer.info.struct_size == older);
  CHECK(buffer.info.size[2] == 5);
  CHECK(buffer.info.spacing[1] == k_spacing[1]);
  for (n = older; n < sizeof buffer.bytes; ++n) {
    if (buffer.bytes[n] != 0xAB) untouched = 0;
  }
  CHECK(untouched);

  /* A newer, larger struct: our fields filled, the unknown tail untouched. */
  memset(buffer.bytes, 0xAB, sizeof buffer.bytes);
  buffer.info.struct_size = (uint32_t)sizeof buffer.bytes;
  CHECK_STATUS(slicenav_volume_get_info(&buffer.info, volume), SLICENAV_OK);
  CHECK(buffer.info.struct_size == sizeof buffer.bytes);
  CHECK(buffer.info.warning_count == 0);
  CHECK(strcmp(buffer.info.orientation, "LPS") == 0);
  untouched = 1;
  for (n = sizeof(slicenav_volume_info); n < sizeof buffer.bytes; ++n) {
    if (buffer.bytes[n] != 0xAB) untouched = 0;
  }
  CHECK(untouched);
  slicenav_volume_free(volume);
}

static void test_canonical_mapping(void) {
  /* Identity direction: k runs inferior -> superior, so canonical 0 (most superior) is original 4. */
  slicenav_volume* up = make_volume(k_identity);
  /* k pointing -z: original 0 is the most superior slice. */
  slicenav_volume* down = make_volume(k_flip_z);
  slicenav_volume_info info = slicenav_volume_info_init();
  double value = -1;
  CHECK(up != NULL && down != NULL);
  if (up == NULL || down == NULL) {
    slicenav_volume_free(up);
    slicenav_volume_free(down);
    return;
  }
  CHECK_STATUS(slicenav_volume_canonical_to_original(&value, up, 0.0), SLICENAV_OK);
  CHECK_NEAR(value, 4.0, 1e-9);
  CHECK_STATUS(slicenav_volume_canonical_to_world_z(&value, up, 0.0), SLICENAV_OK);
  CHECK_NEAR(value, -290.0, 1e-9);

  CHECK_STATUS(slicenav_volume_get_info(&info, down), SLICENAV_OK);
  CHECK(strcmp(info.orientation, "LPI") == 0);
  CHECK(info.canonical_slice_count == 5);
  CHECK_NEAR(info.world_z_max_mm, -300.0, 1e-9);
  CHECK_NEAR(info.world_z_min_mm, -310.0, 1e-9);
  CHECK_STATUS(slicenav_volume_canonical_to_original(&value, down, 0.0), SLICENAV_OK);
  CHECK_NEAR(value, 0.0, 1e-9);
  CHECK_STATUS(slicenav_volume_canonical_to_original(&value, down, 4.0), SLICENAV_OK);
  CHECK_NEAR(value, 4.0, 1e-9);
  CHECK_STATUS(slicenav_volume_original_to_canonical(&value, down, 1.5), SLICENAV_OK);
  CHECK_NEAR(value, 1.5, 1e-9);
  CHECK_STATUS(slicenav_volume_canonical_to_world_z(&value, down, 0.0), SLICENAV_OK);
  CHECK_NEAR(value, -300.0, 1e-9);
  CHECK_STATUS(slicenav_volume_canonical_to_world_z(&value, down, 2.0), SLICENAV_OK);
  CHECK_NEAR(value, -305.0, 1e-9);
  CHECK_STATUS(slicenav_volume_world_z_to_canonical(&value, down, -306.25), SLICENAV_OK);
  CHECK_NEAR(value, 2.5, 1e-9);

  CHECK_STATUS(slicenav_volume_canonical_to_original(NULL, down, 0.0), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_volume_canonical_to_original(&value, NULL, 0.0), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_volume_world_z_to_canonical(&value, down, NAN), SLICENAV_ERR_INVALID_ARGUMENT);
  slicenav_volume_free(up);
  slicenav_volume_free(down);
}

static void test_copy_voxels(void) {
  slicenav_volume* volume = make_volume(NULL);
  float out[K_COUNT + 1];
  size_t written = 0;
  int n, equal = 1;
  CHECK(volume != NULL);
  if (volume == NULL) return;
  CHECK_STATUS(slicenav_volume_copy_voxels(NULL, 0, &written, volume), SLICENAV_OK);
  CHECK(written == K_COUNT);
  CHECK_STATUS(slicenav_volume_copy_voxels(NULL, 0, NULL, volume), SLICENAV_ERR_INVALID_ARGUMENT);
  written = 0;
  CHECK_STATUS(slicenav_volume_copy_voxels(out, K_COUNT - 1, &written, volume), SLICENAV_ERR_BUFFER_TOO_SMALL);
  CHECK(written == K_COUNT);
  CHECK_STATUS(slicenav_volume_copy_voxels(NULL, K_COUNT, &written, volume), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_volume_copy_voxels(out, K_COUNT, &written, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  out[K_COUNT] = 12345.0f;
  written = 0;
  CHECK_STATUS(slicenav_volume_copy_voxels(out, K_COUNT + 1, &written, volume), SLICENAV_OK);
  CHECK(written == K_COUNT);
  for (n = 0; n < K_COUNT; ++n) {
    if (out[n] != (float)(-1000 + 7 * n)) equal = 0;
  }
  CHECK(equal);
  CHECK(out[K_COUNT] == 12345.0f);
  CHECK_STATUS(slicenav_volume_copy_voxels(out, K_COUNT, NULL, volume), SLICENAV_OK);
  slicenav_volume_free(volume);
}

/* slicenav_volume_voxels hands out the volume's own storage: the same address every call, the values
 * copy_voxels gives, and NULL plus INVALID_ARGUMENT for bad arguments. */
static void test_voxels_in_place(void) {
  slicenav_volume* volume = make_volume(NULL);
  const float* voxels = NULL;
  const float* again = NULL;
  const float* untouched = (const float*)&voxels; /* must be reset to NULL on failure */
  float copy[K_COUNT];
  size_t count = 0;
  int n, equal = 1;
  CHECK(volume != NULL);
  if (volume == NULL) return;
  CHECK_STATUS(slicenav_volume_voxels(&voxels, &count, volume), SLICENAV_OK);
  CHECK(voxels != NULL);
  CHECK(count == K_COUNT);
  CHECK_STATUS(slicenav_volume_voxels(&again, NULL, volume), SLICENAV_OK);
  CHECK(again == voxels);
  CHECK_STATUS(slicenav_volume_copy_voxels(copy, K_COUNT, NULL, volume), SLICENAV_OK);
  for (n = 0; n < K_COUNT && voxels != NULL; ++n) {
    if (voxels[n] != copy[n] || voxels[n] != (float)(-1000 + 7 * n)) equal = 0;
  }
  CHECK(equal);
  CHECK_STATUS(slicenav_volume_voxels(&untouched, &count, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");
  CHECK(untouched == NULL);
  CHECK_STATUS(slicenav_volume_voxels(NULL, &count, volume), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  slicenav_volume_free(volume);
}

/* A volume of 16-bit voxels keeps them as int16; slicenav_volume_voxels makes its float copy once: the same
 * address every call and copy_voxels' values. */
static void test_voxels_of_int16_volume(void) {
  int16_t data[K_COUNT];
  float copy[K_COUNT];
  slicenav_volume* volume = NULL;
  const float* voxels = NULL;
  const float* again = NULL;
  size_t count = 0;
  int n, equal = 1;
  for (n = 0; n < K_COUNT; ++n) data[n] = (int16_t)(-1000 + 7 * n);
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_INT16, k_dims, k_spacing, k_origin, NULL),
               SLICENAV_OK);
  if (volume == NULL) return;
  CHECK_STATUS(slicenav_volume_copy_voxels(copy, K_COUNT, NULL, volume), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_voxels(&voxels, &count, volume), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_voxels(&again, NULL, volume), SLICENAV_OK);
  CHECK(voxels != NULL && again == voxels);
  CHECK(count == K_COUNT);
  for (n = 0; n < K_COUNT && voxels != NULL; ++n) {
    if (voxels[n] != copy[n] || copy[n] != (float)data[n]) equal = 0;
  }
  CHECK(equal);
  slicenav_volume_free(volume);
}

static long file_bytes(const char* path) {
  long n = -1;
  FILE* f = fopen(path, "rb");
  if (f != NULL && fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (f != NULL) fclose(f);
  return n;
}

/* The gzip level of written .nii.gz files, per call (slicenav_write_params): 0-12, default 1; a higher level gives
 * a smaller file of the same voxels, and a level outside 0-12 is refused and writes nothing. */
static void test_gzip_level(void) {
  enum { N = 64 * 64 * 16 };
  static float data[N];
  const size_t dims[3] = {64, 64, 16};
  slicenav_volume* volume = NULL;
  slicenav_write_params params = slicenav_write_default_params();
  char stored[1200], small[1200], fast[1200], bad[1200];
  int n;
  for (n = 0; n < N; ++n) data[n] = (float)(-1000 + (n / 64) % 37 * 20);
  CHECK(params.struct_size == sizeof params && params.gzip_level == 1);
  CHECK_STATUS(slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, dims, k_spacing, k_origin, NULL),
               SLICENAV_OK);
  if (volume == NULL) return;
  tmp_path(stored, sizeof stored, "level0.nii.gz");
  tmp_path(small, sizeof small, "level9.nii.gz");
  tmp_path(fast, sizeof fast, "level1.nii.gz");
  tmp_path(bad, sizeof bad, "level13.nii.gz");
  params.gzip_level = 13;
  CHECK_STATUS(slicenav_volume_write(bad, volume, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("0-12");
  CHECK(file_bytes(bad) < 0);
  params.gzip_level = -1;
  CHECK_STATUS(slicenav_volume_write(bad, volume, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  params.struct_size = 2; /* does not cover gzip_level */
  CHECK_STATUS(slicenav_volume_write(bad, volume, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  params = slicenav_write_default_params();
  params.gzip_level = 0;
  CHECK_STATUS(slicenav_volume_write(stored, volume, &params), SLICENAV_OK);
  params.gzip_level = 9;
  CHECK_STATUS(slicenav_volume_write(small, volume, &params), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_write(fast, volume, NULL), SLICENAV_OK);
  CHECK(file_bytes(stored) > (long)(N * sizeof(short))); /* int16 voxels, not compressed */
  CHECK(file_bytes(small) > 0 && file_bytes(small) * 20 < file_bytes(stored));
  CHECK(file_bytes(fast) >= file_bytes(small) && file_bytes(fast) < file_bytes(stored));
  for (n = 0; n < 3; ++n) {
    slicenav_volume* back = NULL;
    static float copy[N];
    int equal = 1, k;
    CHECK_STATUS(slicenav_volume_read(&back, n == 0 ? stored : n == 1 ? small : fast, NULL), SLICENAV_OK);
    if (back == NULL) continue;
    CHECK_STATUS(slicenav_volume_copy_voxels(copy, N, NULL, back), SLICENAV_OK);
    for (k = 0; k < N; ++k) equal &= copy[k] == data[k];
    CHECK(equal);
    slicenav_volume_free(back);
  }
  slicenav_volume_free(volume);
}

static void check_round_trip(const char* name, const float* data, const double direction[9]) {
  char path[1200];
  slicenav_volume* volume = NULL;
  slicenav_volume* back = NULL;
  slicenav_volume_info a = slicenav_volume_info_init();
  slicenav_volume_info b = slicenav_volume_info_init();
  float voxels[K_COUNT];
  size_t written = 0;
  int n, equal = 1;

  tmp_path(path, sizeof path, name);
  remove(path);
  CHECK_STATUS(
      slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, k_dims, k_spacing, k_origin, direction),
      SLICENAV_OK);
  if (volume == NULL) return;
  CHECK_STATUS(slicenav_volume_write(path, volume, NULL), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_read(&back, path, NULL), SLICENAV_OK);
  if (back == NULL) {
    slicenav_volume_free(volume);
    return;
  }
  CHECK(strstr(slicenav_volume_source_path(back), name) != NULL);
  CHECK_STATUS(slicenav_volume_get_info(&a, volume), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_get_info(&b, back), SLICENAV_OK);
  for (n = 0; n < 3; ++n) {
    CHECK(b.size[n] == a.size[n]);
    CHECK_NEAR(b.spacing[n], a.spacing[n], 1e-4);
    CHECK_NEAR(b.origin[n], a.origin[n], 1e-3);
  }
  for (n = 0; n < 9; ++n) CHECK_NEAR(b.direction[n], a.direction[n], 1e-6);
  CHECK(strcmp(a.orientation, b.orientation) == 0);
  CHECK(b.canonical_slice_count == a.canonical_slice_count);
  CHECK_NEAR(b.world_z_min_mm, a.world_z_min_mm, 1e-3);
  CHECK_NEAR(b.world_z_max_mm, a.world_z_max_mm, 1e-3);
  CHECK_STATUS(slicenav_volume_copy_voxels(voxels, K_COUNT, &written, back), SLICENAV_OK);
  CHECK(written == K_COUNT);
  for (n = 0; n < K_COUNT; ++n) {
    if (voxels[n] != data[n]) equal = 0;
  }
  CHECK(equal);
  slicenav_volume_free(back);
  slicenav_volume_free(volume);
}

static void test_write_read_nifti(void) {
  float data[K_COUNT];
  int n;
  for (n = 0; n < K_COUNT; ++n) data[n] = (float)(-1024 + 31 * n); /* integers: stored as int16 */
  check_round_trip("round_trip.nii.gz", data, k_identity);
}

static void test_write_read_metaimage(void) {
  float data[K_COUNT];
  int n;
  for (n = 0; n < K_COUNT; ++n) data[n] = -3.25f + 0.5f * (float)n; /* fractions: stored as float32 */
  check_round_trip("round_trip.mha", data, k_flip_z);
}

static void test_write_rejects_bad_arguments(void) {
  char path[1200];
  slicenav_volume* volume = make_volume(NULL);
  CHECK(volume != NULL);
  if (volume == NULL) return;
  tmp_path(path, sizeof path, "out.unknown_extension");
  CHECK_STATUS(slicenav_volume_write(path, volume, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_STATUS(slicenav_volume_write(NULL, volume, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("path");
  CHECK_STATUS(slicenav_volume_write(path, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");
  slicenav_volume_free(volume);
}

static void test_read_errors(void) {
  char path[1200];
  slicenav_volume* volume = (slicenav_volume*)&volume;
  slicenav_read_params params = slicenav_read_default_params();
  FILE* file;

  tmp_path(path, sizeof path, "no_such_volume.nii.gz");
  remove(path);
  CHECK_STATUS(slicenav_volume_read(&volume, path, NULL), SLICENAV_ERR_NOT_FOUND);
  CHECK(volume == NULL);
  CHECK_ERROR_MENTIONS(path);

  tmp_path(path, sizeof path, "volume.xyz");
  file = fopen(path, "wb");
  CHECK(file != NULL);
  if (file != NULL) {
    fputs("not a volume\n", file);
    fclose(file);
  }
  CHECK_STATUS(slicenav_volume_read(&volume, path, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK(volume == NULL);

  CHECK_STATUS(slicenav_volume_read(NULL, path, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  CHECK_STATUS(slicenav_volume_read(&volume, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("path");
  params.struct_size = 0;
  CHECK_STATUS(slicenav_volume_read(&volume, path, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
}

static void test_phantom_create(void) {
  slicenav_phantom_params params = slicenav_phantom_default_params();
  slicenav_volume* volume = NULL;
  slicenav_volume_info info = slicenav_volume_info_init();
  CHECK(params.struct_size == sizeof params);
  CHECK(strcmp(params.orientation, "LPS") == 0);
  params.size[0] = 24;
  params.size[1] = 20;
  params.size[2] = 30;
  params.spacing[2] = 10.0;
  params.top_z_mm = 50.0;
  CHECK_STATUS(slicenav_phantom_create(&volume, &params), SLICENAV_OK);
  CHECK(volume != NULL);
  if (volume != NULL) {
    CHECK_STATUS(slicenav_volume_get_info(&info, volume), SLICENAV_OK);
    CHECK(info.size[0] == 24 && info.size[1] == 20 && info.size[2] == 30);
    CHECK(strcmp(info.orientation, "LPS") == 0);
    CHECK(strcmp(info.format, "phantom") == 0);
    CHECK(strcmp(info.patient_position, "HFS") == 0);
    CHECK(info.canonical_slice_count == 30);
    CHECK_NEAR(info.world_z_max_mm, 50.0, 1e-6);
    CHECK_NEAR(info.world_z_min_mm, 50.0 - 29 * 10.0, 1e-6);
    slicenav_volume_free(volume);
  }
  volume = NULL;
  CHECK_STATUS(slicenav_phantom_create(NULL, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  params.size[1] = 0;
  CHECK_STATUS(slicenav_phantom_create(&volume, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("size[1]");
  params.size[1] = 20;
  memcpy(params.orientation, "LPX", 4);
  CHECK_STATUS(slicenav_phantom_create(&volume, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK(volume == NULL);
}

static void test_phantom_landmarks(void) {
  slicenav_phantom_params params = slicenav_phantom_default_params();
  const char* names[64];
  double z[64];
  size_t count = 0, written = 0, n;
  params.size[0] = 16;
  params.size[1] = 16;
  params.size[2] = 20;
  CHECK_STATUS(slicenav_phantom_landmarks(NULL, NULL, 0, &count, &params), SLICENAV_OK);
  CHECK(count > 0 && count <= 64);
  if (count == 0 || count > 64) return;
  CHECK_STATUS(slicenav_phantom_landmarks(names, z, count - 1, &written, &params), SLICENAV_ERR_BUFFER_TOO_SMALL);
  CHECK(written == count);
  CHECK_STATUS(slicenav_phantom_landmarks(NULL, z, count, &written, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("names");
  CHECK_STATUS(slicenav_phantom_landmarks(names, z, 64, &written, &params), SLICENAV_OK);
  CHECK(written == count);
  for (n = 0; n < count; ++n) {
    CHECK(names[n] != NULL && strlen(names[n]) > 0);
    CHECK(isfinite(z[n]));
  }
  CHECK_STATUS(slicenav_phantom_landmarks(NULL, NULL, 0, &written, NULL), SLICENAV_OK);
  CHECK(written == count);
}

static void test_free_null_is_noop(void) {
  slicenav_volume_free(NULL);
  CHECK(slicenav_volume_source_path(NULL) == NULL);
  CHECK(slicenav_volume_warning(NULL, 0) == NULL);
}

static void test_last_error_kept_until_next_failure(void) {
  slicenav_volume* volume = NULL;
  size_t written = 0;
  CHECK_STATUS(slicenav_volume_read(&volume, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("path");
  volume = make_volume(NULL);
  CHECK(volume != NULL);
  CHECK_STATUS(slicenav_volume_copy_voxels(NULL, 0, &written, volume), SLICENAV_OK);
  CHECK_ERROR_MENTIONS("path"); /* success does not clear it */
  slicenav_volume_free(volume);
}

struct thread_result {
  char message_before[256];
  char message_after[256];
  slicenav_status status;
};

static void* failing_thread(void* arg) {
  struct thread_result* result = (struct thread_result*)arg;
  float data[1] = {0};
  snprintf(result->message_before, sizeof result->message_before, "%s", slicenav_last_error());
  result->status = slicenav_volume_from_buffer(NULL, data, SLICENAV_PIXEL_FLOAT32, k_dims, k_spacing, k_origin, NULL);
  snprintf(result->message_after, sizeof result->message_after, "%s", slicenav_last_error());
  return NULL;
}

static void test_last_error_is_thread_local(void) {
  char path[1200];
  char main_message[2048];
  slicenav_volume* volume = NULL;
  pthread_t thread;
  struct thread_result result;
  memset(&result, 0, sizeof result);

  tmp_path(path, sizeof path, "main_thread_missing.nii.gz");
  remove(path);
  CHECK_STATUS(slicenav_volume_read(&volume, path, NULL), SLICENAV_ERR_NOT_FOUND);
  snprintf(main_message, sizeof main_message, "%s", slicenav_last_error());
  CHECK(strstr(main_message, "main_thread_missing") != NULL);

  CHECK(pthread_create(&thread, NULL, failing_thread, &result) == 0);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK(strcmp(result.message_before, "") == 0);
  CHECK(result.status == SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK(strstr(result.message_after, "out") != NULL);
  CHECK(strstr(result.message_after, "main_thread_missing") == NULL);
  CHECK(strcmp(slicenav_last_error(), main_message) == 0);
}

/* The data folder: $SLICENAV_DATA, else argument 2; "" when neither is given. */
static char g_data_dir[1024];

/* The series of a DICOM directory, listed without reading it: the real lung1_002 series (111 CT slices and an
 * RTSTRUCT, which has no image and is not listed), then reading the listed UID; bad arguments and directories
 * without DICOM images. The real series is skipped without the data. */
static void test_dicom_series_list(void) {
  slicenav_dicom_series_list* list = NULL;
  slicenav_dicom_series series = slicenav_dicom_series_init();
  slicenav_read_params params = slicenav_read_default_params();
  slicenav_volume* volume = NULL;
  slicenav_volume_info info = slicenav_volume_info_init();
  char dir[1200];
  FILE* probe;
  CHECK(series.struct_size == sizeof series && series.series_uid[0] == '\0' && series.file_count == 0);
  CHECK_STATUS(slicenav_dicom_series_list_read(NULL, "."), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_dicom_series_list_read(&list, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK(list == NULL);
  tmp_path(dir, sizeof dir, "no_such_dicom_dir");
  CHECK_STATUS(slicenav_dicom_series_list_read(&list, dir), SLICENAV_ERR_NOT_FOUND);
  CHECK(list == NULL);
  tmp_path(dir, sizeof dir, "");
  CHECK_STATUS(slicenav_dicom_series_list_read(&list, dir), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_ERROR_MENTIONS("DICOM");
  CHECK(list == NULL);
  CHECK(slicenav_dicom_series_list_count(NULL) == 0);
  CHECK_STATUS(slicenav_dicom_series_list_get(&series, NULL, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  slicenav_dicom_series_list_free(NULL);

  snprintf(dir, sizeof dir, "%s/dicom/lung1_002/10.dcm", g_data_dir);
  probe = g_data_dir[0] ? fopen(dir, "rb") : NULL;
  if (probe == NULL) {
    printf("SKIP test_dicom_series_list (real series): real data not found (set SLICENAV_DATA)\n");
    return;
  }
  fclose(probe);
  snprintf(dir, sizeof dir, "%s/dicom/lung1_002", g_data_dir);
  CHECK_STATUS(slicenav_dicom_series_list_read(&list, dir), SLICENAV_OK);
  CHECK(list != NULL && slicenav_dicom_series_list_count(list) == 1);
  if (list == NULL) return;
  CHECK_STATUS(slicenav_dicom_series_list_get(&series, list, 1), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("index 1");
  CHECK_STATUS(slicenav_dicom_series_list_get(NULL, list, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  series.struct_size = 2;
  CHECK_STATUS(slicenav_dicom_series_list_get(&series, list, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  series = slicenav_dicom_series_init();
  CHECK_STATUS(slicenav_dicom_series_list_get(&series, list, 0), SLICENAV_OK);
  CHECK(strcmp(series.modality, "CT") == 0);
  CHECK(series.file_count == 111);
  CHECK(strlen(series.series_uid) > 10 && strspn(series.series_uid, "0123456789.") == strlen(series.series_uid));
  params.dicom_series_uid = series.series_uid;
  CHECK_STATUS(slicenav_volume_read(&volume, dir, &params), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_get_info(&info, volume), SLICENAV_OK);
  CHECK(info.canonical_slice_count == 111 && strcmp(info.format, "dicom") == 0);
  slicenav_volume_free(volume);
  slicenav_dicom_series_list_free(list);
}

int main(int argc, char** argv) {
  const char* data = getenv("SLICENAV_DATA");
  snprintf(g_data_dir, sizeof g_data_dir, "%s", data != NULL && data[0] != '\0' ? data : argc > 2 ? argv[2] : "");
  if (init_tmp("capi_test", argc > 1 ? argv[1] : NULL, "capi") != 0) return 2;

  RUN(test_version_matches_macros);
  RUN(test_status_names);
  RUN(test_from_buffer_every_pixel_type);
  RUN(test_from_buffer_rejects_null_arguments);
  RUN(test_from_buffer_rejects_bad_geometry);
  RUN(test_from_buffer_rejects_non_finite_voxels);
  RUN(test_get_info_fields);
  RUN(test_get_info_checks_arguments);
  RUN(test_get_info_writes_only_struct_size_bytes);
  RUN(test_canonical_mapping);
  RUN(test_copy_voxels);
  RUN(test_voxels_in_place);
  RUN(test_voxels_of_int16_volume);
  RUN(test_write_read_nifti);
  RUN(test_write_read_metaimage);
  RUN(test_write_rejects_bad_arguments);
  RUN(test_gzip_level);
  RUN(test_dicom_series_list);
  RUN(test_read_errors);
  RUN(test_phantom_create);
  RUN(test_phantom_landmarks);
  RUN(test_free_null_is_noop);
  RUN(test_last_error_kept_until_next_failure);
  RUN(test_last_error_is_thread_local);

  printf("capi: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
