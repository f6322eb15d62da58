/* Tests of the C API's slice scores, key slices, coverage and regions, inputs that are not ordinary CT, NULL
 * handles, and a real head-and-neck scan, in plain C.
 * Usage: locate_test [temp dir] [data dir]. The data dir is also taken from $SLICENAV_DATA; the real-scan test
 * is skipped without it. */
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
#include "navigation_fixtures.h"

/* ---- Slice scores ------------------------------------------------------------------------------ */

static void test_score(void) {
  slicenav_volume* b = make_phantom_b();
  slicenav_volume_info ib;
  double* scores = NULL;
  size_t written = 0, k;
  int finite = 1;
  CHECK(b != NULL && g_model != NULL);
  if (b == NULL || g_model == NULL) goto done;
  ib = info_of(b);

  CHECK_STATUS(slicenav_volume_scores(NULL, 0, &written, g_model, b, NULL), SLICENAV_OK);
  CHECK(written == ib.canonical_slice_count);
  CHECK_STATUS(slicenav_volume_scores(NULL, 0, NULL, g_model, b, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  scores = (double*)calloc(ib.canonical_slice_count + 1, sizeof *scores);
  if (scores == NULL) goto done;

  written = 0;
  CHECK_STATUS(slicenav_volume_scores(scores, ib.canonical_slice_count - 1, &written, g_model, b, NULL),
               SLICENAV_ERR_BUFFER_TOO_SMALL);
  CHECK(written == ib.canonical_slice_count);
  CHECK_STATUS(slicenav_volume_scores(NULL, ib.canonical_slice_count, &written, g_model, b, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("dst");
  CHECK_STATUS(slicenav_volume_scores(scores, ib.canonical_slice_count, &written, NULL, b, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(slicenav_volume_scores(scores, ib.canonical_slice_count, &written, g_model, NULL, NULL),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");

  scores[ib.canonical_slice_count] = 4321.0;
  written = 0;
  CHECK_STATUS(slicenav_volume_scores(scores, ib.canonical_slice_count + 1, &written, g_model, b, NULL), SLICENAV_OK);
  CHECK(written == ib.canonical_slice_count);
  CHECK(scores[ib.canonical_slice_count] == 4321.0);
  for (k = 0; k < ib.canonical_slice_count; ++k) {
    if (!isfinite(scores[k])) finite = 0;
  }
  CHECK(finite);
  /* written is nullable outside a size query. */
  CHECK_STATUS(slicenav_volume_scores(scores, ib.canonical_slice_count, NULL, g_model, b, NULL), SLICENAV_OK);
done:
  free(scores);
  slicenav_volume_free(b);
}

/* One model shared by several threads gives the same scores as a serial call. */
struct score_job {
  const slicenav_volume* volume;
  double scores[128];
  size_t written;
  slicenav_status status;
};

static void* score_thread(void* arg) {
  struct score_job* job = (struct score_job*)arg;
  job->status = slicenav_volume_scores(job->scores, 128, &job->written, g_model, job->volume, NULL);
  return NULL;
}

static void test_score_shared_model_across_threads(void) {
  slicenav_volume* a = make_phantom_a();
  struct score_job serial, jobs[2];
  pthread_t threads[2];
  int t;
  size_t k;
  CHECK(a != NULL && g_model != NULL);
  if (a == NULL || g_model == NULL) {
    slicenav_volume_free(a);
    return;
  }
  memset(&serial, 0, sizeof serial);
  serial.volume = a;
  score_thread(&serial);
  CHECK(serial.status == SLICENAV_OK && serial.written == 30);
  for (t = 0; t < 2; ++t) {
    memset(&jobs[t], 0, sizeof jobs[t]);
    jobs[t].volume = a;
    CHECK(pthread_create(&threads[t], NULL, score_thread, &jobs[t]) == 0);
  }
  for (t = 0; t < 2; ++t) {
    CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(jobs[t].status == SLICENAV_OK);
    CHECK(jobs[t].written == serial.written);
    for (k = 0; k < serial.written && k < 128; ++k) CHECK_NEAR(jobs[t].scores[k], serial.scores[k], 1e-6);
  }
  slicenav_volume_free(a);
}

/* ---- Key slices -------------------------------------------------------------------------------- */

static void check_landmarks(const slicenav_landmarks* landmarks, const slicenav_volume* volume) {
  const slicenav_volume_info info = info_of(volume);
  const size_t count = slicenav_landmarks_count(landmarks);
  const int recognised = slicenav_landmarks_recognised(landmarks);
  size_t i, j;
  CHECK(count > 0);
  CHECK(recognised == 0 || recognised == 1);
  CHECK(isfinite(slicenav_landmarks_score_slope(landmarks)));
  for (i = 0; i < count; ++i) {
    slicenav_landmark l = slicenav_landmark_init();
    CHECK_STATUS(slicenav_landmarks_get(&l, landmarks, i), SLICENAV_OK);
    CHECK(l.name != NULL && l.name[0] != '\0');
    if (l.name == NULL) continue;
    CHECK(l.where == SLICENAV_INSIDE || l.where == SLICENAV_ABOVE || l.where == SLICENAV_BELOW);
    CHECK(l.confidence >= 0.0f && l.confidence <= 1.0f);
    if (!recognised) CHECK(l.confidence == 0.0f);
    CHECK(isfinite(l.spread_mm) && l.spread_mm >= 0.0);
    if (l.where == SLICENAV_INSIDE) {
      double z = NAN;
      CHECK(isfinite(l.world_z_mm) && isfinite(l.canonical_slice) && isfinite(l.original_slice));
      CHECK(l.world_z_mm >= info.world_z_min_mm - 1e-6 && l.world_z_mm <= info.world_z_max_mm + 1e-6);
      CHECK_STATUS(slicenav_volume_canonical_to_world_z(&z, volume, l.canonical_slice), SLICENAV_OK);
      CHECK_NEAR(l.world_z_mm, z, 1e-6);
      CHECK_STATUS(slicenav_volume_canonical_to_original(&z, volume, l.canonical_slice), SLICENAV_OK);
      CHECK_NEAR(l.original_slice, z, 1e-6);
    }
    for (j = 0; j < i; ++j) {
      slicenav_landmark other = slicenav_landmark_init();
      CHECK_STATUS(slicenav_landmarks_get(&other, landmarks, j), SLICENAV_OK);
      CHECK(other.name != NULL && strcmp(other.name, l.name) != 0); /* names are unique */
    }
  }
}

static void test_locate_both_methods(void) {
  slicenav_volume* b = make_phantom_b();
  slicenav_locate_params params = slicenav_locate_default_params();
  const slicenav_locate_method methods[2] = {SLICENAV_LOCATE_INSERTION, SLICENAV_LOCATE_SCORE};
  int m;
  CHECK(params.struct_size == sizeof params);
  CHECK(params.method == SLICENAV_LOCATE_INSERTION);
  CHECK(b != NULL && g_model != NULL);
  if (b == NULL || g_model == NULL) goto done;
  for (m = 0; m < 2; ++m) {
    slicenav_landmarks* landmarks = NULL;
    int has_lung_apex = 0;
    size_t i;
    params.method = methods[m];
    CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, b, &params), SLICENAV_OK);
    CHECK(landmarks != NULL);
    if (landmarks == NULL) continue;
    check_landmarks(landmarks, b);
    CHECK(slicenav_landmarks_recognised(landmarks) == 1);
    CHECK(slicenav_landmarks_score_slope(landmarks) >= 0.25);
    for (i = 0; i < slicenav_landmarks_count(landmarks); ++i) {
      slicenav_landmark l = slicenav_landmark_init();
      if (slicenav_landmarks_get(&l, landmarks, i) == SLICENAV_OK && strcmp(l.name, "lung_apex") == 0)
        has_lung_apex = 1;
    }
    CHECK(has_lung_apex);
    slicenav_landmarks_free(landmarks);
  }
  /* NULL params: the insertion method. */
  {
    slicenav_landmarks* landmarks = NULL;
    CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, b, NULL), SLICENAV_OK);
    if (landmarks != NULL) check_landmarks(landmarks, b);
    slicenav_landmarks_free(landmarks);
  }
done:
  slicenav_volume_free(b);
}

static void test_locate_rejects_bad_arguments(void) {
  slicenav_volume* b = make_phantom_b();
  slicenav_locate_params params = slicenav_locate_default_params();
  slicenav_landmarks* landmarks = (slicenav_landmarks*)&landmarks;
  slicenav_landmark l = slicenav_landmark_init();
  CHECK(b != NULL && g_model != NULL);
  if (b == NULL || g_model == NULL) goto done;

  params.method = (slicenav_locate_method)7;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, b, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("method");
  CHECK(landmarks == NULL);
  params.method = (slicenav_locate_method)-1;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, b, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  params.method = SLICENAV_LOCATE_INSERTION;
  params.struct_size = 0;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, b, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");

  CHECK_STATUS(slicenav_volume_locate(NULL, g_model, b, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  CHECK_STATUS(slicenav_volume_locate(&landmarks, NULL, b, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");
  CHECK(landmarks == NULL);

  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, b, NULL), SLICENAV_OK);
  if (landmarks == NULL) goto done;
  CHECK_STATUS(slicenav_landmarks_get(&l, landmarks, slicenav_landmarks_count(landmarks)),
               SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("index");
  CHECK_STATUS(slicenav_landmarks_get(NULL, landmarks, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  l.struct_size = 0;
  CHECK_STATUS(slicenav_landmarks_get(&l, landmarks, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
done:
  if (landmarks != (slicenav_landmarks*)&landmarks) slicenav_landmarks_free(landmarks);
  slicenav_volume_free(b);
}

static void test_landmarks_write_png(void) {
  slicenav_volume* b = make_phantom_b();
  slicenav_landmarks* landmarks = NULL;
  char path[1200];
  CHECK(b != NULL && g_model != NULL);
  if (b == NULL || g_model == NULL) goto done;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, b, NULL), SLICENAV_OK);
  if (landmarks == NULL) goto done;

  tmp_path(path, sizeof path, "landmarks.png");
  remove(path);
  CHECK_STATUS(slicenav_landmarks_write_png(path, landmarks, b), SLICENAV_OK);
  CHECK(is_png(path));

  tmp_path(path, sizeof path, "missing_dir/landmarks.png");
  CHECK_STATUS(slicenav_landmarks_write_png(path, landmarks, b), SLICENAV_ERR_IO);
  CHECK_ERROR_MENTIONS("missing_dir");
  CHECK_STATUS(slicenav_landmarks_write_png(NULL, landmarks, b), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_landmarks_write_png(path, landmarks, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_landmarks_write_png(path, NULL, b), SLICENAV_ERR_INVALID_ARGUMENT);
done:
  slicenav_landmarks_free(landmarks);
  slicenav_volume_free(b);
}

/* A scan the model does not recognise: reported, with every confidence 0 and no coverage. */
static void test_unrecognised_scan(void) {
  slicenav_volume* cylinder = make_cylinder();
  slicenav_locate_params params = slicenav_locate_default_params();
  slicenav_landmarks* landmarks = NULL;
  slicenav_coverage c = slicenav_coverage_init();
  size_t i;
  CHECK(cylinder != NULL && g_model != NULL);
  if (cylinder == NULL || g_model == NULL) goto done;

  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, cylinder, &params), SLICENAV_OK);
  if (landmarks == NULL) goto done;
  CHECK(slicenav_landmarks_recognised(landmarks) == 0);
  CHECK(slicenav_landmarks_score_slope(landmarks) < 0.25);
  CHECK(slicenav_landmarks_count(landmarks) > 0);
  for (i = 0; i < slicenav_landmarks_count(landmarks); ++i) {
    slicenav_landmark l = slicenav_landmark_init();
    CHECK_STATUS(slicenav_landmarks_get(&l, landmarks, i), SLICENAV_OK);
    CHECK(l.confidence == 0.0f);
  }
  slicenav_landmarks_free(landmarks);
  landmarks = NULL;

  /* The score method finds no usable line: whatever it lists has confidence 0. */
  params.method = SLICENAV_LOCATE_SCORE;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, cylinder, &params), SLICENAV_OK);
  if (landmarks == NULL) goto done;
  CHECK(slicenav_landmarks_recognised(landmarks) == 0);
  for (i = 0; i < slicenav_landmarks_count(landmarks); ++i) {
    slicenav_landmark l = slicenav_landmark_init();
    CHECK_STATUS(slicenav_landmarks_get(&l, landmarks, i), SLICENAV_OK);
    CHECK(l.confidence == 0.0f);
  }

  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, cylinder, "lungs", NULL), SLICENAV_OK);
  CHECK(c.recognised == 0);
  CHECK(c.status == SLICENAV_COVERAGE_NONE);
  CHECK(c.superior.confidence == 0.0f && c.inferior.confidence == 0.0f);
done:
  slicenav_landmarks_free(landmarks);
  slicenav_volume_free(cylinder);
}

/* ---- Coverage ---------------------------------------------------------------------------------- */

/* A located region end (votes > 0) reported inside the scan is a valid position in it. */
static void check_located_end(const slicenav_position* end, const slicenav_volume* volume) {
  const slicenav_volume_info info = info_of(volume);
  double z = NAN;
  if (end->where != SLICENAV_INSIDE) return;
  CHECK(end->world_z_mm >= info.world_z_min_mm - 1e-6 && end->world_z_mm <= info.world_z_max_mm + 1e-6);
  CHECK_STATUS(slicenav_volume_canonical_to_world_z(&z, volume, end->canonical_slice), SLICENAV_OK);
  CHECK_NEAR(end->world_z_mm, z, 1e-6);
}

static void test_coverage_lungs(void) {
  slicenav_volume* b = make_phantom_b();
  slicenav_coverage c = slicenav_coverage_init();
  slicenav_locate_params params = slicenav_locate_default_params();
  int m;
  CHECK(c.struct_size == sizeof c);
  CHECK(b != NULL && g_model != NULL);
  if (b == NULL || g_model == NULL) goto done;
  for (m = 0; m < 2; ++m) {
    params.method = m == 0 ? SLICENAV_LOCATE_INSERTION : SLICENAV_LOCATE_SCORE;
    c = slicenav_coverage_init();
    CHECK_STATUS(slicenav_volume_coverage(&c, g_model, b, "lungs", &params), SLICENAV_OK);
    CHECK(c.status == SLICENAV_COVERAGE_NONE || c.status == SLICENAV_COVERAGE_PARTIAL ||
          c.status == SLICENAV_COVERAGE_FULL);
    CHECK(c.recognised == 0 || c.recognised == 1);
    if (!c.recognised) CHECK(c.status == SLICENAV_COVERAGE_NONE);
    CHECK(c.superior.where != SLICENAV_INSIDE || c.inferior.where != SLICENAV_INSIDE ||
          c.superior.world_z_mm > c.inferior.world_z_mm);
    CHECK(c.superior.confidence >= 0.0f && c.superior.confidence <= 1.0f);
    CHECK(c.inferior.confidence >= 0.0f && c.inferior.confidence <= 1.0f);
    check_located_end(&c.superior, b);
    check_located_end(&c.inferior, b);
    /* FULL means both ends inside the scan. */
    if (c.status == SLICENAV_COVERAGE_FULL)
      CHECK(c.superior.where == SLICENAV_INSIDE && c.inferior.where == SLICENAV_INSIDE);
  }
  c = slicenav_coverage_init();
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, b, "liver", NULL), SLICENAV_OK);
done:
  slicenav_volume_free(b);
}

static void test_coverage_rejects_bad_arguments(void) {
  slicenav_volume* b = make_phantom_b();
  slicenav_coverage c = slicenav_coverage_init();
  slicenav_locate_params params = slicenav_locate_default_params();
  CHECK(b != NULL && g_model != NULL);
  if (b == NULL || g_model == NULL) goto done;

  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, b, "spleenx", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("spleenx");
  CHECK_ERROR_MENTIONS("liver");
  CHECK_ERROR_MENTIONS("head-neck");
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, b, "", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, b, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("region");
  CHECK_STATUS(slicenav_volume_coverage(NULL, g_model, b, "lungs", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  CHECK_STATUS(slicenav_volume_coverage(&c, NULL, b, "lungs", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, NULL, "lungs", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");
  params.method = (slicenav_locate_method)7;
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, b, "lungs", &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("method");
  c.struct_size = 0;
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, b, "lungs", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
done:
  slicenav_volume_free(b);
}

/* Every expected name is among the model's `count` names, each non-empty, and the name past the end is NULL. */
static void check_names(size_t count, const char* (*name_of)(const slicenav_model*, size_t), const char* const* expected,
                        int n_expected, const char* what) {
  size_t n;
  int e;
  for (e = 0; e < n_expected; ++e) {
    int found = 0;
    for (n = 0; n < count; ++n) {
      const char* name = name_of(g_model, n);
      CHECK(name != NULL && name[0] != '\0');
      if (name != NULL && strcmp(name, expected[e]) == 0) found = 1;
    }
    if (!found) fprintf(stderr, "%s '%s' missing\n", what, expected[e]);
    CHECK(found);
  }
  CHECK(name_of(g_model, count) == NULL);
  CHECK(name_of(g_model, (size_t)-1) == NULL);
}

static void test_regions(void) {
  static const char* expected[7] = {"lungs", "heart", "liver", "kidneys", "abdomen", "pelvis", "head-neck"};
  CHECK(g_model != NULL);
  if (g_model == NULL) return;
  CHECK(slicenav_model_region_count(g_model) >= 7);
  check_names(slicenav_model_region_count(g_model), slicenav_model_region_name, expected, 7, "region");
}

static void test_organs(void) {
  static const char* expected[6] = {"brainstem", "femur_heads", "larynx", "mandible", "parotids", "urinary_bladder"};
  CHECK(g_model != NULL);
  if (g_model == NULL) return;
  CHECK(slicenav_model_organ_count(g_model) >= 6);
  check_names(slicenav_model_organ_count(g_model), slicenav_model_organ_name, expected, 6, "organ");
  CHECK(slicenav_model_organ_count(NULL) == 0);
  CHECK(slicenav_model_organ_name(NULL, 0) == NULL);
}

/* ---- Inputs that are not ordinary CT ------------------------------------------------------------ */

static void test_non_ct_volume_is_unsupported(void) {
  slicenav_volume* mr = make_non_ct();
  slicenav_volume* b = make_phantom_b();
  slicenav_insertion* insertion = NULL;
  slicenav_landmarks* landmarks = NULL;
  slicenav_coverage c = slicenav_coverage_init();
  double scores[8];
  size_t written = 0;
  CHECK(mr != NULL && b != NULL && g_model != NULL);
  if (mr == NULL || b == NULL || g_model == NULL) goto done;

  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, mr, b, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_ERROR_MENTIONS("CT");
  CHECK(insertion == NULL);
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, b, mr, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK(insertion == NULL);
  CHECK_STATUS(slicenav_volume_scores(scores, 8, &written, g_model, mr, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_ERROR_MENTIONS("CT");
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, mr, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_ERROR_MENTIONS("CT");
  CHECK(landmarks == NULL);
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, mr, "lungs", NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_ERROR_MENTIONS("CT");
done:
  slicenav_insertion_free(insertion);
  slicenav_landmarks_free(landmarks);
  slicenav_volume_free(mr);
  slicenav_volume_free(b);
}

static void test_one_slice_volume(void) {
  slicenav_volume* one = make_one_slice();
  slicenav_volume* a = make_phantom_a();
  slicenav_volume* b = make_phantom_b();
  slicenav_insertion* insertion = NULL;
  slicenav_landmarks* landmarks = NULL;
  slicenav_insert_params params = slicenav_insert_default_params();
  slicenav_inserted_slice s = slicenav_inserted_slice_init();
  slicenav_coverage c = slicenav_coverage_init();
  double score[1] = {NAN};
  size_t written = 0, k, values = 0;
  CHECK(one != NULL && a != NULL && b != NULL && g_model != NULL);
  if (one == NULL || a == NULL || b == NULL || g_model == NULL) goto done;
  CHECK(info_of(one).canonical_slice_count == 1);
  params.keep_distribution = 1;

  /* As the query: one answer. */
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, one, b, &params), SLICENAV_OK);
  CHECK(slicenav_insertion_count(insertion) == 1);
  CHECK_STATUS(slicenav_insertion_get(&s, insertion, 0), SLICENAV_OK);
  CHECK(s.peak > 0.0f && s.peak <= 1.0f);
  CHECK_NEAR(s.query_world_z_mm, -80.0, 1e-6);
  CHECK_NEAR(s.query_original_slice, 0.0, 1e-9);
  if (s.where == SLICENAV_INSIDE) CHECK(isfinite(s.target_world_z_mm));
  slicenav_insertion_free(insertion);
  insertion = NULL;

  /* As the target: every query slice lands on its only slice, above or below. */
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, one, &params), SLICENAV_OK);
  CHECK(slicenav_insertion_count(insertion) == 30);
  for (k = 0; k < slicenav_insertion_count(insertion); ++k) {
    s = slicenav_inserted_slice_init();
    CHECK_STATUS(slicenav_insertion_get(&s, insertion, k), SLICENAV_OK);
    CHECK(s.where == SLICENAV_INSIDE || s.where == SLICENAV_ABOVE || s.where == SLICENAV_BELOW);
    if (s.where == SLICENAV_INSIDE) {
      CHECK_NEAR(s.target_canonical_slice, 0.0, 1e-6);
      CHECK_NEAR(s.target_world_z_mm, -80.0, 1e-6);
    }
    CHECK(s.peak > 0.0f && s.peak <= 1.0f);
  }
  CHECK_STATUS(slicenav_insertion_slots(NULL, 0, &written, insertion), SLICENAV_OK);
  CHECK(written == 1);
  CHECK_STATUS(slicenav_insertion_distribution(NULL, 0, &values, insertion), SLICENAV_OK);
  CHECK(values == 30 * 3);

  /* Scores and key slices. */
  CHECK_STATUS(slicenav_volume_scores(score, 1, &written, g_model, one, NULL), SLICENAV_OK);
  CHECK(written == 1 && isfinite(score[0]));
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, one, NULL), SLICENAV_OK);
  if (landmarks != NULL) check_landmarks(landmarks, one);
  /* Shorter than 60 mm: cannot be judged, counts as recognised. */
  CHECK(slicenav_landmarks_recognised(landmarks) == 1);
  slicenav_landmarks_free(landmarks);
  landmarks = NULL;
  {
    slicenav_locate_params lp = slicenav_locate_default_params();
    lp.method = SLICENAV_LOCATE_SCORE;
    CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, one, &lp), SLICENAV_OK);
    if (landmarks != NULL) check_landmarks(landmarks, one);
  }
  CHECK_STATUS(slicenav_volume_coverage(&c, g_model, one, "lungs", NULL), SLICENAV_OK);
  CHECK(c.status == SLICENAV_COVERAGE_NONE || c.status == SLICENAV_COVERAGE_PARTIAL ||
        c.status == SLICENAV_COVERAGE_FULL);
done:
  slicenav_insertion_free(insertion);
  slicenav_landmarks_free(landmarks);
  slicenav_volume_free(one);
  slicenav_volume_free(a);
  slicenav_volume_free(b);
}

static void test_null_handles(void) {
  slicenav_inserted_slice s = slicenav_inserted_slice_init();
  slicenav_landmark l = slicenav_landmark_init();
  slicenav_model_free(NULL);
  slicenav_insertion_free(NULL);
  slicenav_landmarks_free(NULL);
  CHECK(slicenav_model_metadata_json(NULL) == NULL);
  CHECK(slicenav_insertion_count(NULL) == 0);
  CHECK_STATUS(slicenav_insertion_get(&s, NULL, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("insertion");
  CHECK(slicenav_landmarks_count(NULL) == 0);
  CHECK_STATUS(slicenav_landmarks_get(&l, NULL, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("landmarks");
  CHECK(slicenav_landmarks_recognised(NULL) == 0);
  CHECK(slicenav_landmarks_score_slope(NULL) == 0.0);
  CHECK(slicenav_model_region_count(NULL) == 0);
  CHECK(slicenav_model_region_name(NULL, 0) == NULL);
  CHECK(strcmp(l.name, "") == 0);
}

/* The data folder: $SLICENAV_DATA, else argument 2; empty when neither holds cases.tsv. */
static char g_data_dir[1024];

/* A head-and-neck PET/CT of a patient the bundled model was not trained on: recognised, skull base and C7
 * inside the scan within 30 mm of the annotation (../shared/data manual_landmarks.json: skull base z -304.0,
 * C7 z -401.5), the femoral heads below it. The skull base (in the bone), the lung apex and the carina (in
 * the air) are measured in the image: within 10 and 5 mm. Skipped without the data. */
static void test_real_head_neck_scan(void) {
  static const char* names[2] = {"skull_base", "c7"};
  static const double truth[2] = {-304.0, -401.5};
  static const char* measured_names[3] = {"skull_base", "lung_apex", "carina"};
  static const double measured_truth[3] = {-304.0, -433.0, -520.0};
  static const double measured_tolerance[3] = {10.0, 5.0, 5.0};
  size_t measured = 0;
  char path[1200];
  FILE* probe;
  slicenav_volume* ct = NULL;
  slicenav_landmarks* landmarks = NULL;
  size_t i, k, found = 0;
  snprintf(path, sizeof path, "%s/ct/hnpetct_chus005/ct.nii.gz", g_data_dir);
  probe = g_data_dir[0] ? fopen(path, "rb") : NULL;
  if (probe == NULL) {
    printf("SKIP test_real_head_neck_scan: real data not found (set SLICENAV_DATA)\n");
    return;
  }
  fclose(probe);
  CHECK_STATUS(slicenav_volume_read(&ct, path, NULL), SLICENAV_OK);
  if (ct == NULL) return;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, ct, NULL), SLICENAV_OK);
  if (landmarks == NULL) goto done;
  CHECK(slicenav_landmarks_recognised(landmarks) == 1);
  for (i = 0; i < slicenav_landmarks_count(landmarks); ++i) {
    slicenav_landmark l = slicenav_landmark_init();
    CHECK_STATUS(slicenav_landmarks_get(&l, landmarks, i), SLICENAV_OK);
    for (k = 0; k < 2; ++k) {
      if (strcmp(l.name, names[k]) != 0) continue;
      ++found;
      CHECK(l.where == SLICENAV_INSIDE);
      CHECK(fabs(l.world_z_mm - truth[k]) <= 30.0);
    }
    if (strcmp(l.name, "femur_head_top") == 0) CHECK(l.where == SLICENAV_BELOW);
    for (k = 0; k < 3; ++k) {
      if (strcmp(l.name, measured_names[k]) != 0) continue;
      ++measured;
      CHECK(slicenav_landmarks_measured(landmarks, i) == 1);
      CHECK(fabs(l.world_z_mm - measured_truth[k]) <= measured_tolerance[k]);
    }
    if (strcmp(l.name, "c7") == 0) CHECK(slicenav_landmarks_measured(landmarks, i) == 0);
  }
  CHECK(found == 2);
  CHECK(measured == 3);
  CHECK(slicenav_landmarks_measured(landmarks, slicenav_landmarks_count(landmarks)) == 0);
  CHECK(slicenav_landmarks_measured(NULL, 0) == 0);
done:
  slicenav_landmarks_free(landmarks);
  slicenav_volume_free(ct);
}

int main(int argc, char** argv) {
  const char* data = getenv("SLICENAV_DATA");
  int started;
  snprintf(g_data_dir, sizeof g_data_dir, "%s", data != NULL && data[0] != '\0' ? data : argc > 2 ? argv[2] : "");
  started = start_navigation_test("locate_test", argc > 1 ? argv[1] : NULL, "locate");
  if (started != 0) return started;
  RUN(test_score);
  RUN(test_score_shared_model_across_threads);
  RUN(test_locate_both_methods);
  RUN(test_locate_rejects_bad_arguments);
  RUN(test_landmarks_write_png);
  RUN(test_unrecognised_scan);
  RUN(test_coverage_lungs);
  RUN(test_coverage_rejects_bad_arguments);
  RUN(test_regions);
  RUN(test_organs);
  RUN(test_non_ct_volume_is_unsupported);
  RUN(test_one_slice_volume);
  RUN(test_null_handles);
  RUN(test_real_head_neck_scan);
  return finish_navigation_test("locate_test");
}
