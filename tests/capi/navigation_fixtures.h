/* What the navigation C API tests share (tests/capi/model_test.c, insertion_test.c, locate_test.c): the
 * bundled model, loaded once per program, and the phantoms and file checks they use. Include once per test
 * program, after c_check.h. */
#ifndef SLICENAV_TESTS_NAVIGATION_FIXTURES_H
#define SLICENAV_TESTS_NAVIGATION_FIXTURES_H

#include <slicenav.h>
#include <slicenav_experimental.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "c_check.h"

/* The bundled model, loaded once with NULL params; shared by the tests that need a model. */
static slicenav_model* g_model = NULL;

/* ---- Fixtures ---------------------------------------------------------------------------------- */

/* Phantom A (the query): 30 LPS slices from z = -50 down to -195 mm. */
static inline slicenav_volume* make_phantom_a(void) { return make_phantom("LPS", 30, -50.0); }
/* Phantom B (the target): 60 RAI slices from z = 0 (the phantom's lung apex) down to -295 mm, holding A.
 * The bundled model recognises it (its slice scores rise superiorly). */
static inline slicenav_volume* make_phantom_b(void) { return make_phantom("RAI", 60, 0.0); }

/* An MR-like volume: 32 x 32 x 8 voxels, every value in [0, 800]. */
static inline slicenav_volume* make_non_ct(void) {
  enum { X = 32, Y = 32, Z = 8 };
  static float data[X * Y * Z];
  const size_t dims[3] = {X, Y, Z};
  const double spacing[3] = {4.0, 4.0, 5.0};
  const double origin[3] = {-62.0, -62.0, -100.0};
  slicenav_volume* volume = NULL;
  int n;
  for (n = 0; n < X * Y * Z; ++n) data[n] = (float)((n * 37) % 801);
  if (slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, dims, spacing, origin, NULL) != SLICENAV_OK) {
    fprintf(stderr, "make_non_ct: %s\n", slicenav_last_error());
    return NULL;
  }
  return volume;
}

/* A single CT-like slice: -1000 HU air around a 40 HU disc of radius 100 mm, 64 x 64 voxels of 4 mm,
 * at world z = -80 mm. */
static inline slicenav_volume* make_one_slice(void) {
  enum { X = 64, Y = 64 };
  static float data[X * Y];
  const size_t dims[3] = {X, Y, 1};
  const double spacing[3] = {4.0, 4.0, 5.0};
  const double origin[3] = {-126.0, -126.0, -80.0};
  slicenav_volume* volume = NULL;
  int i, j;
  for (j = 0; j < Y; ++j) {
    for (i = 0; i < X; ++i) {
      const double x = origin[0] + spacing[0] * i, y = origin[1] + spacing[1] * j;
      data[i + X * j] = x * x + y * y <= 100.0 * 100.0 ? 40.0f : -1000.0f;
    }
  }
  if (slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, dims, spacing, origin, NULL) != SLICENAV_OK) {
    fprintf(stderr, "make_one_slice: %s\n", slicenav_last_error());
    return NULL;
  }
  return volume;
}

/* Non-anatomical content: the same 40 HU disc in air on each of 40 slices of 5 mm (200 mm), so the slice
 * scores cannot rise superiorly and the scan is not recognised. */
static inline slicenav_volume* make_cylinder(void) {
  enum { X = 64, Y = 64, Z = 40 };
  static float data[X * Y * Z];
  const size_t dims[3] = {X, Y, Z};
  const double spacing[3] = {4.0, 4.0, 5.0};
  const double origin[3] = {-126.0, -126.0, -200.0};
  slicenav_volume* volume = NULL;
  int i, j, k;
  for (k = 0; k < Z; ++k) {
    for (j = 0; j < Y; ++j) {
      for (i = 0; i < X; ++i) {
        const double x = origin[0] + spacing[0] * i, y = origin[1] + spacing[1] * j;
        data[i + X * (j + Y * k)] = x * x + y * y <= 100.0 * 100.0 ? 40.0f : -1000.0f;
      }
    }
  }
  if (slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_FLOAT32, dims, spacing, origin, NULL) != SLICENAV_OK) {
    fprintf(stderr, "make_cylinder: %s\n", slicenav_last_error());
    return NULL;
  }
  return volume;
}

static inline slicenav_volume_info info_of(const slicenav_volume* volume) {
  slicenav_volume_info info = slicenav_volume_info_init();
  CHECK_STATUS(slicenav_volume_get_info(&info, volume), SLICENAV_OK);
  return info;
}

/* Whether a file exists and starts with the 8-byte PNG signature. */
static inline int is_png(const char* path) {
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  unsigned char head[8];
  FILE* file = fopen(path, "rb");
  size_t got;
  if (file == NULL) return 0;
  got = fread(head, 1, sizeof head, file);
  fclose(file);
  return got == sizeof head && memcmp(head, signature, sizeof head) == 0;
}

static inline int file_exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Loads the bundled model into g_model and sets up the temp directory; 0 on success. */
static inline int start_navigation_test(const char* program, const char* tmp_dir, const char* fallback) {
  if (init_tmp(program, tmp_dir, fallback) != 0) return 2;
  if (slicenav_model_load(&g_model, NULL) != SLICENAV_OK) {
    fprintf(stderr, "%s: cannot load the bundled model: %s\n", program, slicenav_last_error());
    return 1;
  }
  return 0;
}

/* Frees g_model and prints the tally; the program's exit code. */
static inline int finish_navigation_test(const char* program) {
  slicenav_model_free(g_model);
  printf("%s: %d passed, %d failed\n", program, g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

#endif /* SLICENAV_TESTS_NAVIGATION_FIXTURES_H */
