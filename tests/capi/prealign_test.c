/* Tests of the prealignment C API, in plain C: defaults, NULLs, struct_size, a bad method, a one-slice moving
 * scan, non-CT input, the sign convention on a phantom, and the rigid call's arguments. Usage: prealign_test [temp
 * dir]. Uses the bundled model found without configuration. */
#define _POSIX_C_SOURCE 200809L

#include <slicenav.h>
#include <slicenav_experimental.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_check.h"

static slicenav_model* g_model = NULL;

/* A copy of `volume` with its origin moved by (0, 0, dz): the anatomy moves by dz in world space. */
static slicenav_volume* shifted(const slicenav_volume* volume, double dz) {
  slicenav_volume_info info = slicenav_volume_info_init();
  slicenav_volume* out = NULL;
  size_t n = 0;
  float* voxels = NULL;
  double origin[3];
  if (slicenav_volume_get_info(&info, volume) != SLICENAV_OK ||
      slicenav_volume_copy_voxels(NULL, 0, &n, volume) != SLICENAV_OK) {
    return NULL;
  }
  voxels = malloc(n * sizeof *voxels);
  if (voxels != NULL && slicenav_volume_copy_voxels(voxels, n, &n, volume) == SLICENAV_OK) {
    memcpy(origin, info.origin, sizeof origin);
    origin[2] += dz;
    if (slicenav_volume_from_buffer(&out, voxels, SLICENAV_PIXEL_FLOAT32, info.size, info.spacing, origin,
                                    info.direction) != SLICENAV_OK) {
      out = NULL;
    }
  }
  free(voxels);
  return out;
}

static void test_defaults(void) {
  const slicenav_prealign_params p = slicenav_prealign_default_params();
  const slicenav_prealignment r = slicenav_prealignment_init();
  CHECK(p.struct_size == sizeof(slicenav_prealign_params));
  CHECK(p.method == SLICENAV_PREALIGN_AUTO);
  CHECK(p.min_overlap_mm == 30.0);
  CHECK(p.in_plane == 0);
  CHECK(r.struct_size == sizeof(slicenav_prealignment));
  CHECK(r.translation_mm[2] == 0.0 && r.confidence == 0.0 && r.shared_anatomy == 0 && r.note[0] == '\0');
}

static void test_bad_arguments(void) {
  slicenav_volume* a = make_phantom("LPS", 30, 0.0);
  slicenav_prealign_params params = slicenav_prealign_default_params();
  slicenav_prealignment r = slicenav_prealignment_init();
  CHECK(a != NULL);
  CHECK_STATUS(slicenav_prealign(&r, g_model, NULL, a, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("fixed");
  CHECK_STATUS(slicenav_prealign(&r, g_model, a, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("moving");
  CHECK_STATUS(slicenav_prealign(NULL, g_model, a, a, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  /* A learned method needs the model; the intensity method does not. */
  CHECK_STATUS(slicenav_prealign(&r, NULL, a, a, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  params.method = SLICENAV_PREALIGN_INTENSITY;
  CHECK_STATUS(slicenav_prealign(&r, NULL, a, a, &params), SLICENAV_OK);
  CHECK_NEAR(r.translation_mm[2], 0.0, 1.0);
  /* An out-of-range method, a negative minimum overlap, struct sizes too small to hold the first field. */
  memset(&params.method, 0x7f, sizeof params.method);
  CHECK_STATUS(slicenav_prealign(&r, g_model, a, a, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("slicenav_prealign_method");
  params = slicenav_prealign_default_params();
  params.min_overlap_mm = -5.0;
  CHECK_STATUS(slicenav_prealign(&r, g_model, a, a, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("min_overlap_mm");
  params = slicenav_prealign_default_params();
  params.struct_size = 2;
  CHECK_STATUS(slicenav_prealign(&r, g_model, a, a, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  r.struct_size = 2;
  CHECK_STATUS(slicenav_prealign(&r, g_model, a, a, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  slicenav_volume_free(a);
}

static void test_older_structs(void) {
  /* A caller built before min_overlap_mm and in_plane existed gets the defaults; a result struct that ends
   * after shared_anatomy gets nothing beyond it. */
  slicenav_volume* a = make_phantom("LPS", 40, 0.0);
  slicenav_volume* b = shifted(a, 25.0);
  slicenav_prealign_params params = slicenav_prealign_default_params();
  slicenav_prealignment r = slicenav_prealignment_init();
  CHECK(a != NULL && b != NULL);
  params.method = SLICENAV_PREALIGN_INTENSITY;
  params.struct_size = (uint32_t)(offsetof(slicenav_prealign_params, method) + sizeof params.method);
  r.struct_size = (uint32_t)(offsetof(slicenav_prealignment, shared_anatomy) + sizeof r.shared_anatomy);
  r.fixed_recognised = 7;
  r.match_cost = -7.0;
  CHECK_STATUS(slicenav_prealign(&r, NULL, a, b, &params), SLICENAV_OK);
  CHECK_NEAR(r.translation_mm[2], 25.0, 2.0);
  CHECK(r.shared_anatomy == 1);
  CHECK(r.fixed_recognised == 7);
  CHECK(r.match_cost == -7.0);
  slicenav_volume_free(a);
  slicenav_volume_free(b);
}

static void test_sign_convention(void) {
  /* The moving scan's world frame is 40 mm higher: fixed point p is moving point p + (0, 0, 40). */
  slicenav_volume* fixed = make_phantom("LPS", 60, 0.0);
  slicenav_volume* part = make_phantom("LPS", 24, -60.0);
  slicenav_volume* moving = shifted(part, 40.0);
  slicenav_prealign_params params = slicenav_prealign_default_params();
  slicenav_prealignment r = slicenav_prealignment_init();
  CHECK(fixed != NULL && moving != NULL);
  params.method = SLICENAV_PREALIGN_INTENSITY;
  params.in_plane = 1;
  CHECK_STATUS(slicenav_prealign(&r, NULL, fixed, moving, &params), SLICENAV_OK);
  CHECK_NEAR(r.translation_mm[2], 40.0, 2.0);
  CHECK_NEAR(r.translation_mm[0], 0.0, 1.0);
  CHECK_NEAR(r.translation_mm[1], 0.0, 1.0);
  CHECK(r.shared_anatomy == 1);
  CHECK(r.confidence > 0.5 && r.confidence <= 1.0);
  CHECK_NEAR(r.overlap_mm, 120.0, 3.0);
  CHECK(r.fixed_recognised == 1 && r.moving_recognised == 1);
  slicenav_volume_free(fixed);
  slicenav_volume_free(part);
  slicenav_volume_free(moving);
}

static void test_one_slice_and_non_ct(void) {
  slicenav_volume* fixed = make_phantom("LPS", 60, 0.0);
  slicenav_volume* one = make_phantom("LPS", 1, -100.0);
  slicenav_volume* mr = NULL;
  slicenav_prealign_params params = slicenav_prealign_default_params();
  slicenav_prealignment r = slicenav_prealignment_init();
  static float data[16 * 16 * 4];
  const size_t dims[3] = {16, 16, 4};
  const double spacing[3] = {4.0, 4.0, 5.0};
  const double origin[3] = {0.0, 0.0, 0.0};
  int m;
  size_t i;
  for (i = 0; i < sizeof data / sizeof data[0]; ++i) data[i] = (float)(i % 800); /* MR-like: 0..799 */
  CHECK(fixed != NULL && one != NULL);
  CHECK_STATUS(slicenav_volume_from_buffer(&mr, data, SLICENAV_PIXEL_FLOAT32, dims, spacing, origin, NULL),
               SLICENAV_OK);
  for (m = SLICENAV_PREALIGN_SCORE; m <= SLICENAV_PREALIGN_AUTO; ++m) {
    params.method = (slicenav_prealign_method)m;
    r = slicenav_prealignment_init();
    CHECK_STATUS(slicenav_prealign(&r, g_model, fixed, one, &params), SLICENAV_OK);
    /* The method that answered: the one asked for, or the one auto chose. */
    CHECK(m == SLICENAV_PREALIGN_AUTO ? r.method != SLICENAV_PREALIGN_AUTO : (int)r.method == m);
    CHECK(r.translation_mm[2] == r.translation_mm[2]); /* not NaN */
    CHECK(r.overlap_mm <= 5.0 + 1e-9);                 /* one 5 mm slice at most */
    CHECK(r.confidence >= 0.0 && r.confidence <= 1.0);
    CHECK_STATUS(slicenav_prealign(&r, g_model, fixed, mr, &params), SLICENAV_ERR_UNSUPPORTED_INPUT);
    CHECK_ERROR_MENTIONS("CT");
  }
  slicenav_volume_free(fixed);
  slicenav_volume_free(one);
  slicenav_volume_free(mr);
}

static void test_rigid(void) {
  slicenav_volume* fixed = make_phantom("LPS", 40, 0.0);
  slicenav_volume* moving = make_phantom("LPS", 40, 0.0);
  slicenav_prealign_rigid_params params = slicenav_prealign_rigid_default_params();
  slicenav_prealignment_rigid r = slicenav_prealignment_rigid_init();
  static float data[16 * 16 * 4];
  const size_t dims[3] = {16, 16, 4};
  const double spacing[3] = {4.0, 4.0, 5.0};
  const double origin[3] = {0.0, 0.0, 0.0};
  slicenav_volume* mr = NULL;
  size_t i;
  for (i = 0; i < sizeof data / sizeof data[0]; ++i) data[i] = (float)(i % 800); /* MR-like: 0..799 */
  CHECK(fixed != NULL && moving != NULL);
  CHECK(params.struct_size == sizeof params && params.points == 1500 && params.max_rotation_deg == 25.0 &&
        params.seed == 1);
  CHECK(r.struct_size == sizeof r && r.shared_anatomy == 0 && r.note[0] == '\0');
  CHECK_STATUS(slicenav_prealign_rigid(&r, NULL, fixed, moving, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(slicenav_prealign_rigid(&r, g_model, fixed, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("moving");
  CHECK_STATUS(slicenav_prealign_rigid(NULL, g_model, fixed, moving, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  r.struct_size = 2;
  CHECK_STATUS(slicenav_prealign_rigid(&r, g_model, fixed, moving, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  r = slicenav_prealignment_rigid_init();
  params.points = 2;
  CHECK_STATUS(slicenav_prealign_rigid(&r, g_model, fixed, moving, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("points");
  params = slicenav_prealign_rigid_default_params();
  params.max_rotation_deg = -1.0;
  CHECK_STATUS(slicenav_prealign_rigid(&r, g_model, fixed, moving, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_volume_from_buffer(&mr, data, SLICENAV_PIXEL_FLOAT32, dims, spacing, origin, NULL),
               SLICENAV_OK);
  CHECK_STATUS(slicenav_prealign_rigid(&r, g_model, fixed, mr, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_ERROR_MENTIONS("CT");
  /* A phantom against itself: whatever the verdict, the answer is finite, within 0..1, and a refusal says why. */
  r = slicenav_prealignment_rigid_init();
  CHECK_STATUS(slicenav_prealign_rigid(&r, g_model, fixed, moving, NULL), SLICENAV_OK);
  CHECK(r.confidence >= 0.0 && r.confidence <= 1.0 && r.translation_mm[0] == r.translation_mm[0]);
  CHECK(r.points > 0 && r.inliers <= r.consistent && r.consistent <= r.points);
  CHECK(r.shared_anatomy != 0 || (r.confidence == 0.0 && r.note[0] != '\0'));
  slicenav_volume_free(fixed);
  slicenav_volume_free(moving);
  slicenav_volume_free(mr);
}

int main(int argc, char** argv) {
  (void)tmp_path; /* c_check.h's helper: this test writes no files */
  if (init_tmp("prealign_test", argc > 1 ? argv[1] : NULL, "prealign") != 0) return 2;
  if (slicenav_model_load(&g_model, NULL) != SLICENAV_OK) {
    fprintf(stderr, "prealign_test: cannot load the bundled model: %s\n", slicenav_last_error());
    return 1;
  }
  RUN(test_defaults);
  RUN(test_bad_arguments);
  RUN(test_older_structs);
  RUN(test_sign_convention);
  RUN(test_one_slice_and_non_ct);
  RUN(test_rigid);
  slicenav_model_free(g_model);
  printf("prealign: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
