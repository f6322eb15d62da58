/* Tests of the C API's insertion (a query scan's slices placed in a target scan: answers, distributions,
 * heat maps, struct versions) and of prepared scans (the same answers as the volume calls), in plain C.
 * Usage: insertion_test [temp dir]. */
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

/* ---- Insertion --------------------------------------------------------------------------------- */

static void test_insert_phantoms_of_different_orientations(void) {
  slicenav_volume* a = make_phantom_a();
  slicenav_volume* b = make_phantom_b();
  slicenav_insertion* insertion = NULL;
  slicenav_volume_info ia, ib;
  size_t count, k, inside = 0;
  CHECK(a != NULL && b != NULL && g_model != NULL);
  if (a == NULL || b == NULL || g_model == NULL) goto done;
  ia = info_of(a);
  ib = info_of(b);
  CHECK(strcmp(ib.orientation, "RAI") == 0);

  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, b, NULL), SLICENAV_OK);
  CHECK(insertion != NULL);
  if (insertion == NULL) goto done;
  count = slicenav_insertion_count(insertion);
  CHECK(count == ia.canonical_slice_count);
  for (k = 0; k < count; ++k) {
    slicenav_inserted_slice s = slicenav_inserted_slice_init();
    double z = NAN, original = NAN;
    CHECK_STATUS(slicenav_insertion_get(&s, insertion, k), SLICENAV_OK);
    CHECK(s.struct_size == sizeof s);
    /* The query fields refer to the query's own slice k. */
    CHECK_STATUS(slicenav_volume_canonical_to_world_z(&z, a, (double)k), SLICENAV_OK);
    CHECK_NEAR(s.query_world_z_mm, z, 1e-6);
    CHECK_STATUS(slicenav_volume_canonical_to_original(&original, a, (double)k), SLICENAV_OK);
    CHECK_NEAR(s.query_original_slice, original, 1e-6);
    CHECK(s.where == SLICENAV_INSIDE || s.where == SLICENAV_ABOVE || s.where == SLICENAV_BELOW);
    if (s.where == SLICENAV_INSIDE) {
      ++inside;
      CHECK(isfinite(s.target_canonical_slice) && isfinite(s.target_original_slice) && isfinite(s.target_world_z_mm));
      CHECK(s.target_canonical_slice >= -1e-6 &&
            s.target_canonical_slice <= (double)ib.canonical_slice_count - 1 + 1e-6);
      CHECK(s.target_original_slice >= -1e-6 && s.target_original_slice <= (double)ib.size[2] - 1 + 1e-6);
      CHECK(s.target_world_z_mm >= ib.world_z_min_mm - 1e-6 && s.target_world_z_mm <= ib.world_z_max_mm + 1e-6);
      /* The three target fields describe the same place. */
      CHECK_STATUS(slicenav_volume_canonical_to_world_z(&z, b, s.target_canonical_slice), SLICENAV_OK);
      CHECK_NEAR(s.target_world_z_mm, z, 1e-6);
      CHECK_STATUS(slicenav_volume_canonical_to_original(&original, b, s.target_canonical_slice), SLICENAV_OK);
      CHECK_NEAR(s.target_original_slice, original, 1e-6);
    }
    CHECK(s.peak > 0.0f && s.peak <= 1.0f);
    CHECK(isfinite(s.entropy) && s.entropy >= -1e-6f);
  }
  /* A lies wholly within B's z range: most of its slices belong inside. */
  CHECK(inside > 0);

  /* No distribution was kept. */
  {
    size_t written = 0;
    CHECK_STATUS(slicenav_insertion_distribution(NULL, 0, &written, insertion), SLICENAV_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("keep_distribution");
  }
  {
    char path[1200];
    tmp_path(path, sizeof path, "no_distribution.png");
    remove(path);
    CHECK_STATUS(slicenav_insertion_write_png(path, insertion), SLICENAV_ERR_INVALID_ARGUMENT);
    CHECK(!file_exists(path));
  }
done:
  slicenav_insertion_free(insertion);
  slicenav_volume_free(a);
  slicenav_volume_free(b);
}

static void test_insert_distribution(void) {
  slicenav_volume* a = make_phantom_a();
  slicenav_volume* b = make_phantom_b();
  slicenav_insertion* insertion = NULL;
  slicenav_insert_params params = slicenav_insert_default_params();
  size_t count, slots = 0, written = 0, values = 0, k, s;
  size_t* canonical = NULL;
  float* p = NULL;
  slicenav_volume_info ib;
  CHECK(params.struct_size == sizeof params);
  CHECK(params.keep_distribution == 0);
  CHECK(a != NULL && b != NULL && g_model != NULL);
  if (a == NULL || b == NULL || g_model == NULL) goto done;
  ib = info_of(b);
  params.keep_distribution = 1;
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, b, &params), SLICENAV_OK);
  if (insertion == NULL) goto done;
  count = slicenav_insertion_count(insertion);

  /* Slots: size query, then the inner slots' target canonical indices, increasing and in range. */
  CHECK_STATUS(slicenav_insertion_slots(NULL, 0, &slots, insertion), SLICENAV_OK);
  CHECK(slots > 0 && slots <= ib.canonical_slice_count);
  CHECK_STATUS(slicenav_insertion_slots(NULL, 0, NULL, insertion), SLICENAV_ERR_INVALID_ARGUMENT);
  canonical = (size_t*)calloc(slots + 1, sizeof *canonical);
  if (canonical == NULL) goto done;
  if (slots > 1) {
    written = 0;
    CHECK_STATUS(slicenav_insertion_slots(canonical, slots - 1, &written, insertion), SLICENAV_ERR_BUFFER_TOO_SMALL);
    CHECK(written == slots);
  }
  CHECK_STATUS(slicenav_insertion_slots(canonical, slots, &written, insertion), SLICENAV_OK);
  CHECK(written == slots);
  for (s = 0; s < slots; ++s) {
    CHECK(canonical[s] < ib.canonical_slice_count);
    if (s > 0) CHECK(canonical[s] > canonical[s - 1]);
  }

  /* The distribution: count x (slots + 2), rows summing to 1, the peak being the row's maximum. */
  CHECK_STATUS(slicenav_insertion_distribution(NULL, 0, &values, insertion), SLICENAV_OK);
  CHECK(values == count * (slots + 2));
  CHECK_STATUS(slicenav_insertion_distribution(NULL, 0, NULL, insertion), SLICENAV_ERR_INVALID_ARGUMENT);
  p = (float*)calloc(values + 1, sizeof *p);
  if (p == NULL || values == 0) goto done;
  written = 0;
  CHECK_STATUS(slicenav_insertion_distribution(p, values - 1, &written, insertion), SLICENAV_ERR_BUFFER_TOO_SMALL);
  CHECK(written == values);
  CHECK_STATUS(slicenav_insertion_distribution(NULL, values, &written, insertion), SLICENAV_ERR_INVALID_ARGUMENT);
  p[values] = 1234.5f;
  written = 0;
  CHECK_STATUS(slicenav_insertion_distribution(p, values + 1, &written, insertion), SLICENAV_OK);
  CHECK(written == values);
  CHECK(p[values] == 1234.5f); /* nothing written past the data */
  for (k = 0; k < count; ++k) {
    const float* row = p + k * (slots + 2);
    slicenav_inserted_slice slice = slicenav_inserted_slice_init();
    double sum = 0.0;
    float max = 0.0f;
    int valid = 1;
    for (s = 0; s < slots + 2; ++s) {
      if (!(row[s] >= 0.0f && row[s] <= 1.0f)) valid = 0;
      sum += row[s];
      if (row[s] > max) max = row[s];
    }
    CHECK(valid);
    CHECK_NEAR(sum, 1.0, 1e-4);
    CHECK_STATUS(slicenav_insertion_get(&slice, insertion, k), SLICENAV_OK);
    CHECK_NEAR(slice.peak, max, 1e-5);
  }

  /* The same insertion again gives the same answers. */
  {
    slicenav_insertion* again = NULL;
    CHECK_STATUS(slicenav_volume_insert(&again, g_model, a, b, NULL), SLICENAV_OK);
    CHECK(slicenav_insertion_count(again) == count);
    for (k = 0; k < count && again != NULL; ++k) {
      slicenav_inserted_slice x = slicenav_inserted_slice_init(), y = slicenav_inserted_slice_init();
      CHECK_STATUS(slicenav_insertion_get(&x, insertion, k), SLICENAV_OK);
      CHECK_STATUS(slicenav_insertion_get(&y, again, k), SLICENAV_OK);
      CHECK(x.where == y.where);
      CHECK_NEAR(x.peak, y.peak, 1e-5);
      if (x.where == SLICENAV_INSIDE && y.where == SLICENAV_INSIDE) {
        CHECK_NEAR(x.target_world_z_mm, y.target_world_z_mm, 1e-3);
      }
    }
    slicenav_insertion_free(again);
  }
done:
  free(canonical);
  free(p);
  slicenav_insertion_free(insertion);
  slicenav_volume_free(a);
  slicenav_volume_free(b);
}

static void test_insert_write_png(void) {
  slicenav_volume* a = make_phantom_a();
  slicenav_volume* b = make_phantom_b();
  slicenav_insertion* insertion = NULL;
  slicenav_insert_params params = slicenav_insert_default_params();
  char path[1200];
  CHECK(a != NULL && b != NULL && g_model != NULL);
  if (a == NULL || b == NULL || g_model == NULL) goto done;
  params.keep_distribution = 1;
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, b, &params), SLICENAV_OK);
  if (insertion == NULL) goto done;

  tmp_path(path, sizeof path, "insertion.png");
  remove(path);
  CHECK_STATUS(slicenav_insertion_write_png(path, insertion), SLICENAV_OK);
  CHECK(is_png(path));

  tmp_path(path, sizeof path, "missing_dir/insertion.png");
  CHECK_STATUS(slicenav_insertion_write_png(path, insertion), SLICENAV_ERR_IO);
  CHECK_ERROR_MENTIONS("missing_dir");
  CHECK(!file_exists(path));

  CHECK_STATUS(slicenav_insertion_write_png(NULL, insertion), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("path");
  CHECK_STATUS(slicenav_insertion_write_png(path, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("insertion");
done:
  slicenav_insertion_free(insertion);
  slicenav_volume_free(a);
  slicenav_volume_free(b);
}

static void test_insert_rejects_bad_arguments(void) {
  slicenav_volume* a = make_phantom_a();
  slicenav_insertion* insertion = (slicenav_insertion*)&insertion;
  slicenav_insert_params params = slicenav_insert_default_params();
  slicenav_inserted_slice s = slicenav_inserted_slice_init();
  size_t count;
  CHECK(a != NULL && g_model != NULL);
  if (a == NULL || g_model == NULL) goto done;

  CHECK_STATUS(slicenav_volume_insert(NULL, g_model, a, a, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  CHECK_STATUS(slicenav_volume_insert(&insertion, NULL, a, a, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK(insertion == NULL);
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, NULL, a, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("query");
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("target");
  params.struct_size = 0;
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, a, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  CHECK(insertion == NULL);

  /* A scan inserted into itself. */
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, a, NULL), SLICENAV_OK);
  if (insertion == NULL) goto done;
  count = slicenav_insertion_count(insertion);
  CHECK(count == 30);
  CHECK_STATUS(slicenav_insertion_get(&s, insertion, count), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("index");
  CHECK_STATUS(slicenav_insertion_get(&s, insertion, (size_t)-1), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_insertion_get(NULL, insertion, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
  s.struct_size = 0;
  CHECK_STATUS(slicenav_insertion_get(&s, insertion, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  CHECK_STATUS(slicenav_insertion_get(&s, NULL, 0), SLICENAV_ERR_INVALID_ARGUMENT);
  {
    size_t written = 0;
    CHECK_STATUS(slicenav_insertion_slots(NULL, 0, &written, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(slicenav_insertion_distribution(NULL, 0, &written, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  }
done:
  if (insertion != (slicenav_insertion*)&insertion) slicenav_insertion_free(insertion);
  slicenav_volume_free(a);
}

/* An older caller's slicenav_inserted_slice that ends after query_world_z_mm: nothing written past it. */
static void test_insertion_get_writes_only_struct_size_bytes(void) {
  union {
    slicenav_inserted_slice s;
    unsigned char bytes[sizeof(slicenav_inserted_slice) + 16];
  } buffer;
  const size_t older = offsetof(slicenav_inserted_slice, where);
  slicenav_volume* a = make_phantom_a();
  slicenav_insertion* insertion = NULL;
  size_t n;
  int untouched = 1;
  double z = NAN;
  CHECK(a != NULL && g_model != NULL);
  if (a == NULL || g_model == NULL) goto done;
  CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, a, a, NULL), SLICENAV_OK);
  if (insertion == NULL) goto done;
  memset(buffer.bytes, 0xAB, sizeof buffer.bytes);
  buffer.s.struct_size = (uint32_t)older;
  CHECK_STATUS(slicenav_insertion_get(&buffer.s, insertion, 3), SLICENAV_OK);
  CHECK(buffer.s.struct_size == older);
  CHECK_STATUS(slicenav_volume_canonical_to_world_z(&z, a, 3.0), SLICENAV_OK);
  CHECK_NEAR(buffer.s.query_world_z_mm, z, 1e-6);
  for (n = older; n < sizeof buffer.bytes; ++n) {
    if (buffer.bytes[n] != 0xAB) untouched = 0;
  }
  CHECK(untouched);
done:
  slicenav_insertion_free(insertion);
  slicenav_volume_free(a);
}

/* Two insertions agree slice for slice (every field bit for bit). */
static void check_same_insertion(const slicenav_insertion* x, const slicenav_insertion* y) {
  size_t k, n = slicenav_insertion_count(x);
  CHECK(n > 0 && n == slicenav_insertion_count(y));
  for (k = 0; k < n && k < slicenav_insertion_count(y); ++k) {
    slicenav_inserted_slice a = slicenav_inserted_slice_init(), b = slicenav_inserted_slice_init();
    CHECK_STATUS(slicenav_insertion_get(&a, x, k), SLICENAV_OK);
    CHECK_STATUS(slicenav_insertion_get(&b, y, k), SLICENAV_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
  }
}

/* Two located landmarks agree (names by content, every other field bit for bit). */
static int same_landmark(const slicenav_landmark* a, const slicenav_landmark* b) {
  return strcmp(a->name, b->name) == 0 && a->where == b->where && a->canonical_slice == b->canonical_slice &&
         a->original_slice == b->original_slice && a->world_z_mm == b->world_z_mm && a->confidence == b->confidence &&
         a->spread_mm == b->spread_mm && a->votes == b->votes;
}

static int same_position(const slicenav_position* a, const slicenav_position* b) {
  return a->where == b->where && a->canonical_slice == b->canonical_slice && a->original_slice == b->original_slice &&
         a->world_z_mm == b->world_z_mm && a->confidence == b->confidence;
}

static void test_prepared_scans_give_the_same_answers(void) {
  slicenav_volume* a = make_phantom_a();
  slicenav_volume* b = make_phantom_b();
  slicenav_scan *sa = NULL, *sb = NULL;
  slicenav_insertion *direct = NULL, *prepared = NULL;
  slicenav_landmarks *located = NULL, *located_scan = NULL;
  double direct_scores[60], scan_scores[60];
  size_t written = 0, k;
  int m;
  CHECK(a != NULL && b != NULL && g_model != NULL);
  if (a == NULL || b == NULL || g_model == NULL) goto done;
  CHECK_STATUS(slicenav_scan_prepare(&sa, g_model, a, NULL), SLICENAV_OK);
  CHECK_STATUS(slicenav_scan_prepare(&sb, g_model, b, NULL), SLICENAV_OK);
  if (sa == NULL || sb == NULL) goto done;
  /* The scan keeps what it needs: the volume may go. */
  slicenav_volume_free(a);
  a = NULL;
  CHECK(slicenav_scan_slice_count(sa) == 30 && slicenav_scan_slice_count(sb) == 60);

  /* Insertion into the same target twice, as a batch would. */
  CHECK_STATUS(slicenav_scan_insert(&prepared, g_model, sa, sb, NULL), SLICENAV_OK);
  a = make_phantom_a();
  CHECK(a != NULL);
  if (a == NULL) goto done;
  CHECK_STATUS(slicenav_volume_insert(&direct, g_model, a, b, NULL), SLICENAV_OK);
  if (direct != NULL && prepared != NULL) check_same_insertion(direct, prepared);
  slicenav_insertion_free(prepared);
  prepared = NULL;
  CHECK_STATUS(slicenav_scan_insert(&prepared, g_model, sa, sb, NULL), SLICENAV_OK);
  if (direct != NULL && prepared != NULL) check_same_insertion(direct, prepared);

  /* Scores: size query, values, a short buffer. */
  CHECK_STATUS(slicenav_scan_scores(NULL, 0, &written, sb), SLICENAV_OK);
  CHECK(written == 60);
  CHECK_STATUS(slicenav_volume_scores(direct_scores, 60, &written, g_model, b, NULL), SLICENAV_OK);
  CHECK_STATUS(slicenav_scan_scores(scan_scores, 60, &written, sb), SLICENAV_OK);
  CHECK(written == 60 && memcmp(direct_scores, scan_scores, sizeof direct_scores) == 0);
  CHECK_STATUS(slicenav_scan_scores(scan_scores, 10, &written, sb), SLICENAV_ERR_BUFFER_TOO_SMALL);
  CHECK(written == 60);

  /* Key slices and coverage, both methods. */
  for (m = 0; m < 2; ++m) {
    slicenav_locate_params params = slicenav_locate_default_params();
    slicenav_coverage c1 = slicenav_coverage_init(), c2 = slicenav_coverage_init();
    params.method = m == 0 ? SLICENAV_LOCATE_INSERTION : SLICENAV_LOCATE_SCORE;
    CHECK_STATUS(slicenav_volume_locate(&located, g_model, b, &params), SLICENAV_OK);
    CHECK_STATUS(slicenav_scan_locate(&located_scan, g_model, sb, &params), SLICENAV_OK);
    if (located != NULL && located_scan != NULL) {
      CHECK(slicenav_landmarks_count(located) > 0);
      CHECK(slicenav_landmarks_count(located) == slicenav_landmarks_count(located_scan));
      CHECK(slicenav_landmarks_recognised(located) == slicenav_landmarks_recognised(located_scan));
      for (k = 0; k < slicenav_landmarks_count(located) && k < slicenav_landmarks_count(located_scan); ++k) {
        slicenav_landmark l1 = slicenav_landmark_init(), l2 = slicenav_landmark_init();
        CHECK_STATUS(slicenav_landmarks_get(&l1, located, k), SLICENAV_OK);
        CHECK_STATUS(slicenav_landmarks_get(&l2, located_scan, k), SLICENAV_OK);
        CHECK(same_landmark(&l1, &l2));
      }
    }
    slicenav_landmarks_free(located);
    slicenav_landmarks_free(located_scan);
    located = located_scan = NULL;
    CHECK_STATUS(slicenav_volume_coverage(&c1, g_model, b, "lungs", &params), SLICENAV_OK);
    CHECK_STATUS(slicenav_scan_coverage(&c2, g_model, sb, "lungs", &params), SLICENAV_OK);
    CHECK(c1.status == c2.status && c1.recognised == c2.recognised);
    CHECK(same_position(&c1.superior, &c2.superior) && same_position(&c1.inferior, &c2.inferior));
  }
done:
  slicenav_insertion_free(direct);
  slicenav_insertion_free(prepared);
  slicenav_scan_free(sa);
  slicenav_scan_free(sb);
  slicenav_volume_free(a);
  slicenav_volume_free(b);
}

static void test_prepared_scans_reject_bad_arguments(void) {
  slicenav_volume* b = make_phantom_b();
  slicenav_volume* mr = make_non_ct();
  slicenav_model* other = NULL;
  slicenav_scan *sb = NULL, *scan = NULL;
  slicenav_insertion* insertion = NULL;
  slicenav_landmarks* landmarks = NULL;
  slicenav_coverage c = slicenav_coverage_init();
  size_t written = 0;
  CHECK(b != NULL && mr != NULL && g_model != NULL);
  if (b == NULL || mr == NULL || g_model == NULL) goto done;
  CHECK_STATUS(slicenav_scan_prepare(NULL, g_model, b, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_scan_prepare(&scan, NULL, b, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(slicenav_scan_prepare(&scan, g_model, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("volume");
  CHECK_STATUS(slicenav_scan_prepare(&scan, g_model, mr, NULL), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK(scan == NULL);
  CHECK_STATUS(slicenav_scan_prepare(&sb, g_model, b, NULL), SLICENAV_OK);
  if (sb == NULL) goto done;

  CHECK_STATUS(slicenav_scan_insert(&insertion, g_model, NULL, sb, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("query");
  CHECK_STATUS(slicenav_scan_insert(&insertion, g_model, sb, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("target");
  CHECK_STATUS(slicenav_scan_insert(&insertion, NULL, sb, sb, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_scan_locate(&landmarks, g_model, NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_scan_coverage(&c, g_model, sb, "no-such-region", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("lungs");
  CHECK_STATUS(slicenav_scan_coverage(NULL, g_model, sb, "lungs", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_scan_scores(NULL, 0, &written, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_scan_scores(NULL, 0, NULL, sb), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK(insertion == NULL && landmarks == NULL);

  /* A scan belongs to the model that prepared it, even another load of the same file. */
  CHECK_STATUS(slicenav_model_load(&other, NULL), SLICENAV_OK);
  if (other != NULL) {
    CHECK_STATUS(slicenav_scan_insert(&insertion, other, sb, sb, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("another model");
    CHECK_STATUS(slicenav_scan_locate(&landmarks, other, sb, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("another model");
    CHECK_STATUS(slicenav_scan_coverage(&c, other, sb, "lungs", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("another model");
    CHECK(insertion == NULL && landmarks == NULL);
  }
  CHECK(slicenav_scan_slice_count(NULL) == 0);
  slicenav_scan_free(NULL);
done:
  slicenav_model_free(other);
  slicenav_scan_free(sb);
  slicenav_volume_free(b);
  slicenav_volume_free(mr);
}

int main(int argc, char** argv) {
  const int started = start_navigation_test("insertion_test", argc > 1 ? argv[1] : NULL, "insertion");
  if (started != 0) return started;
  RUN(test_insert_phantoms_of_different_orientations);
  RUN(test_insert_distribution);
  RUN(test_insert_write_png);
  RUN(test_insert_rejects_bad_arguments);
  RUN(test_insertion_get_writes_only_struct_size_bytes);
  RUN(test_prepared_scans_give_the_same_answers);
  RUN(test_prepared_scans_reject_bad_arguments);
  return finish_navigation_test("insertion_test");
}
