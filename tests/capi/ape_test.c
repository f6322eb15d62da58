/* Tests of the anatomical positional embedding calls of the C API, in plain C: the grid and size query, the
 * caller buffer, struct_size, NULLs, non-CT input, and the vector NIfTI the write call leaves (and does not
 * leave). Usage: ape_test [temp dir]. Uses the bundled model found without configuration. */
#define _POSIX_C_SOURCE 200809L

#include <slicenav.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "c_check.h"

static slicenav_model* g_model = NULL;

static void test_map_and_grid(void) {
  slicenav_volume* ct = make_phantom("LPS", 40, 0.0);
  slicenav_world_grid grid = slicenav_world_grid_init();
  size_t n = 0, written = 0, i, voxels;
  float* values;
  int finite = 1;
  CHECK(ct != NULL);
  CHECK(grid.struct_size == sizeof(slicenav_world_grid) && grid.spacing_mm == 0.0);
  CHECK_STATUS(slicenav_ape_map(NULL, 0, &n, &grid, g_model, ct), SLICENAV_OK);
  voxels = grid.size[0] * grid.size[1] * grid.size[2];
  CHECK(voxels > 0 && n == 3 * voxels);
  CHECK(grid.spacing_mm == 4.0);
  values = malloc(n * sizeof *values);
  CHECK(values != NULL);
  CHECK_STATUS(slicenav_ape_map(values, n - 1, &written, NULL, g_model, ct), SLICENAV_ERR_BUFFER_TOO_SMALL);
  CHECK(written == n);
  CHECK_STATUS(slicenav_ape_map(values, n, &written, NULL, g_model, ct), SLICENAV_OK);
  for (i = 0; i < n; ++i) finite = finite && values[i] == values[i] && fabsf(values[i]) < 1e6f;
  CHECK(finite);
  free(values);
  slicenav_volume_free(ct);
}

static void test_bad_arguments(void) {
  slicenav_volume* ct = make_phantom("LPS", 20, 0.0);
  slicenav_volume* mr = NULL;
  slicenav_world_grid old = slicenav_world_grid_init();
  size_t n = 0;
  static float data[16 * 16 * 4];
  const size_t dims[3] = {16, 16, 4};
  const double spacing[3] = {4.0, 4.0, 5.0};
  const double origin[3] = {0.0, 0.0, 0.0};
  size_t i;
  for (i = 0; i < sizeof data / sizeof data[0]; ++i) data[i] = (float)(i % 800); /* MR-like: 0..799 */
  CHECK_STATUS(slicenav_volume_from_buffer(&mr, data, SLICENAV_PIXEL_FLOAT32, dims, spacing, origin, NULL),
               SLICENAV_OK);
  CHECK_STATUS(slicenav_ape_map(NULL, 0, &n, NULL, NULL, ct), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(slicenav_ape_map(NULL, 0, &n, NULL, g_model, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");
  CHECK_STATUS(slicenav_ape_map(NULL, 0, NULL, NULL, g_model, ct), SLICENAV_ERR_INVALID_ARGUMENT);
  old.struct_size = sizeof(uint32_t);
  CHECK_STATUS(slicenav_ape_map(NULL, 0, &n, &old, g_model, ct), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  CHECK_STATUS(slicenav_ape_map(NULL, 0, &n, NULL, g_model, mr), SLICENAV_OK); /* a size query runs nothing */
  {
    float* values = malloc(n * sizeof *values);
    CHECK(values != NULL);
    CHECK_STATUS(slicenav_ape_map(values, n, &n, NULL, g_model, mr), SLICENAV_ERR_UNSUPPORTED_INPUT);
    CHECK_ERROR_MENTIONS("CT");
    free(values);
  }
  CHECK_STATUS(slicenav_ape_write(NULL, g_model, ct, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  slicenav_volume_free(mr);
  slicenav_volume_free(ct);
}

static void test_write(void) {
  slicenav_volume* ct = make_phantom("LPS", 20, 0.0);
  slicenav_volume* back = NULL;
  slicenav_write_params params = slicenav_write_default_params();
  char path[1024], bad[1024];
  tmp_path(path, sizeof path, "ape.nii.gz");
  tmp_path(bad, sizeof bad, "ape.mha");
  remove(path);
  remove(bad);
  CHECK_STATUS(slicenav_ape_write(path, g_model, ct, &params), SLICENAV_OK);
  CHECK(access(path, F_OK) == 0);
  /* A 3-component image is not a CT volume: reading it back as one says so. */
  CHECK(slicenav_volume_read(&back, path, NULL) != SLICENAV_OK);
  CHECK(back == NULL);
  CHECK_STATUS(slicenav_ape_write(bad, g_model, ct, &params), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK(access(bad, F_OK) != 0);
  params.gzip_level = 13;
  CHECK_STATUS(slicenav_ape_write(path, g_model, ct, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  slicenav_volume_free(ct);
}

int main(int argc, char** argv) {
  if (init_tmp("ape_test", argc > 1 ? argv[1] : NULL, "ape") != 0) return 2;
  if (slicenav_model_load(&g_model, NULL) != SLICENAV_OK) {
    fprintf(stderr, "ape_test: cannot load the bundled model: %s\n", slicenav_last_error());
    return 1;
  }
  RUN(test_map_and_grid);
  RUN(test_bad_arguments);
  RUN(test_write);
  slicenav_model_free(g_model);
  printf("ape: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
