/* What the C tests of the C API share: CHECK macros that count failures and report the library's last
 * error, a temp directory, a phantom maker, and a runner that names the failing tests. Include once per
 * test program. */
#ifndef SLICENAV_TESTS_C_CHECK_H
#define SLICENAV_TESTS_C_CHECK_H

#include <slicenav.h>
#include <slicenav_experimental.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SLICENAV_TEST_TMP
#  define SLICENAV_TEST_TMP "/tmp"
#endif

static int g_failed_checks = 0;
static int g_passed = 0;
static int g_failed = 0;
static char g_tmp[1024];

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: \"%s\")\n", __FILE__, __LINE__, #cond, \
              slicenav_last_error());                                                              \
      ++g_failed_checks;                                                                           \
    }                                                                                              \
  } while (0)

#define CHECK_STATUS(call, expected) CHECK((call) == (expected))
#define CHECK_NEAR(a, b, tol) CHECK(fabs((double)(a) - (double)(b)) <= (tol))
#define CHECK_ERROR_MENTIONS(text) CHECK(strstr(slicenav_last_error(), (text)) != NULL)

/* Writes "<dir>/<name>" into dst; a path that does not fit ends the test program (exit 2), naming it. */
static void join_path(char* dst, size_t capacity, const char* dir, const char* name) {
  const int n = snprintf(dst, capacity, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= capacity) {
    fprintf(stderr, "test path too long (over %zu bytes): %s/%s\n", capacity - 1, dir, name);
    exit(2);
  }
}

static void tmp_path(char* dst, size_t capacity, const char* name) { join_path(dst, capacity, g_tmp, name); }

/* Sets g_tmp to `dir` (or SLICENAV_TEST_TMP/`fallback`) and creates it; 0 on success. */
static int init_tmp(const char* program, const char* dir, const char* fallback) {
  if (dir == NULL) {
    join_path(g_tmp, sizeof g_tmp, SLICENAV_TEST_TMP, fallback);
  } else if (snprintf(g_tmp, sizeof g_tmp, "%s", dir) >= (int)sizeof g_tmp) {
    fprintf(stderr, "%s: temp directory path too long: %s\n", program, dir);
    return 1;
  }
  if (mkdir(g_tmp, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "%s: cannot create %s: %s\n", program, g_tmp, strerror(errno));
    return 1;
  }
  return 0;
}

/* A noiseless phantom (slicenav_phantom_create) of 64 x 64 in-plane voxels of 4 mm and `slices` slices of
 * 5 mm in `orientation` ("LPS", "RAI", ...), its most superior slice at top_z_mm; the phantom's anatomy is
 * fixed in world space (lung apex at z = 0). NULL, with a message, on failure. */
static inline slicenav_volume* make_phantom(const char* orientation, size_t slices, double top_z_mm) {
  slicenav_phantom_params params = slicenav_phantom_default_params();
  slicenav_volume* volume = NULL;
  params.size[0] = 64;
  params.size[1] = 64;
  params.size[2] = slices;
  params.spacing[0] = 4.0;
  params.spacing[1] = 4.0;
  params.spacing[2] = 5.0;
  memcpy(params.orientation, orientation, sizeof params.orientation); /* 3 letters and the NUL */
  params.top_z_mm = top_z_mm;
  params.noise_hu = 0.0;
  if (slicenav_phantom_create(&volume, &params) != SLICENAV_OK) {
    fprintf(stderr, "make_phantom: %s\n", slicenav_last_error());
    return NULL;
  }
  return volume;
}

static void run(const char* name, void (*test)(void)) {
  const int before = g_failed_checks;
  test();
  if (g_failed_checks == before) {
    ++g_passed;
  } else {
    ++g_failed;
    fprintf(stderr, "FAILED: %s\n", name);
  }
}

#define RUN(test) run(#test, test)

#endif /* SLICENAV_TESTS_C_CHECK_H */
