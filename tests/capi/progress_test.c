/* Tests of the long calls' callbacks (slicenav_callbacks), in plain C: progress reports that rise from 0 to 1,
 * and an abort that stops each call with SLICENAV_ERR_CANCELLED, leaving nothing behind (no handle, no output
 * struct written, no file, an existing file kept).
 * Usage: progress_test [temp dir]. Uses the bundled model found without configuration. */
#define _POSIX_C_SOURCE 200809L

#include <slicenav.h>
#include <slicenav_experimental.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_check.h"

static slicenav_model* g_model = NULL;

/* What the callbacks saw, and when abort says stop: after `abort_after` calls of abort (-1: never). */
typedef struct Recorder {
  double reports[4096];
  size_t count;
  int abort_calls;
  int abort_after;
} Recorder;

static void on_progress(double done, void* user_data) {
  Recorder* r = (Recorder*)user_data;
  if (r->count < sizeof r->reports / sizeof r->reports[0]) r->reports[r->count++] = done;
}

static int32_t on_abort(void* user_data) {
  Recorder* r = (Recorder*)user_data;
  ++r->abort_calls;
  return r->abort_after >= 0 && r->abort_calls > r->abort_after ? 1 : 0;
}

static slicenav_callbacks callbacks_for(Recorder* r, int abort_after) {
  slicenav_callbacks c;
  memset(r, 0, sizeof *r);
  r->abort_after = abort_after;
  c.progress = on_progress;
  c.abort = on_abort;
  c.user_data = r;
  return c;
}

/* Reports lie in 0..1, never fall, and end at 1; at least `min_count` of them. */
static void check_reports(const Recorder* r, size_t min_count) {
  size_t k;
  CHECK(r->count >= min_count);
  if (r->count == 0) return;
  for (k = 0; k < r->count; ++k) {
    CHECK(r->reports[k] >= 0.0 && r->reports[k] <= 1.0);
    if (k > 0) CHECK(r->reports[k] >= r->reports[k - 1]);
  }
  CHECK(r->reports[r->count - 1] == 1.0);
}

static int file_exists(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return 0;
  fclose(f);
  return 1;
}

static long file_size(const char* path) {
  long n = -1;
  FILE* f = fopen(path, "rb");
  if (f != NULL && fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (f != NULL) fclose(f);
  return n;
}

static void test_defaults_have_no_callbacks(void) {
  const slicenav_locate_params l = slicenav_locate_default_params();
  const slicenav_prealign_params p = slicenav_prealign_default_params();
  const slicenav_prepare_params s = slicenav_prepare_default_params();
  const slicenav_write_params w = slicenav_write_default_params();
  CHECK(l.callbacks.progress == NULL && l.callbacks.abort == NULL && l.callbacks.user_data == NULL);
  CHECK(p.callbacks.progress == NULL && p.callbacks.abort == NULL);
  CHECK(s.struct_size == sizeof s && s.callbacks.progress == NULL && s.callbacks.abort == NULL);
  CHECK(w.callbacks.progress == NULL && w.callbacks.abort == NULL);
}

/* locate reports its preparation chunk by chunk; stopped at its first or a later check, it returns CANCELLED
 * and no result. */
static void test_locate_reports_and_stops(void) {
  slicenav_volume* volume = make_phantom("RAI", 80, 0.0);
  slicenav_locate_params params = slicenav_locate_default_params();
  slicenav_landmarks* landmarks = NULL;
  Recorder r;
  int after;
  CHECK(volume != NULL);
  if (volume == NULL) return;
  params.callbacks = callbacks_for(&r, -1);
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, volume, &params), SLICENAV_OK);
  CHECK(landmarks != NULL && slicenav_landmarks_count(landmarks) > 0);
  check_reports(&r, 3);
  CHECK(r.abort_calls >= 2);
  slicenav_landmarks_free(landmarks);
  for (after = 0; after < 2; ++after) {
    landmarks = (slicenav_landmarks*)1;
    params.callbacks = callbacks_for(&r, after);
    CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, volume, &params), SLICENAV_ERR_CANCELLED);
    CHECK(landmarks == NULL);
    CHECK_ERROR_MENTIONS("stopped by the caller");
    CHECK(r.abort_calls == after + 1); /* nothing is asked after the stop */
  }
  /* Only one of the two callbacks given: progress without abort, abort without progress. */
  params.callbacks = callbacks_for(&r, -1);
  params.callbacks.abort = NULL;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, volume, &params), SLICENAV_OK);
  check_reports(&r, 3);
  slicenav_landmarks_free(landmarks);
  landmarks = NULL;
  params.callbacks = callbacks_for(&r, 0);
  params.callbacks.progress = NULL;
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, volume, &params), SLICENAV_ERR_CANCELLED);
  CHECK(r.count == 0 && landmarks == NULL);
  /* An older caller's params without the callbacks field: the call runs without them. */
  params = slicenav_locate_default_params();
  params.struct_size = (uint32_t)(offsetof(slicenav_locate_params, method) + sizeof params.method);
  params.callbacks = callbacks_for(&r, 0);
  CHECK_STATUS(slicenav_volume_locate(&landmarks, g_model, volume, &params), SLICENAV_OK);
  CHECK(r.count == 0 && r.abort_calls == 0);
  slicenav_landmarks_free(landmarks);
  slicenav_volume_free(volume);
}

/* The other volume calls stop the same way, and their outputs stay as they were. */
static void test_every_long_call_stops(void) {
  slicenav_volume* a = make_phantom("LPS", 60, 0.0);
  slicenav_volume* b = make_phantom("RAI", 40, -50.0);
  Recorder r;
  CHECK(a != NULL && b != NULL);
  if (a == NULL || b == NULL) goto done;
  {
    slicenav_insert_params params = slicenav_insert_default_params();
    slicenav_insertion* insertion = (slicenav_insertion*)1;
    params.callbacks = callbacks_for(&r, 1);
    CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, b, a, &params), SLICENAV_ERR_CANCELLED);
    CHECK(insertion == NULL);
    params.callbacks = callbacks_for(&r, -1);
    CHECK_STATUS(slicenav_volume_insert(&insertion, g_model, b, a, &params), SLICENAV_OK);
    check_reports(&r, 4);
    slicenav_insertion_free(insertion);
  }
  {
    slicenav_prepare_params params = slicenav_prepare_default_params();
    slicenav_scan* scan = (slicenav_scan*)1;
    double scores[60];
    size_t written = 0;
    params.callbacks = callbacks_for(&r, 0);
    CHECK_STATUS(slicenav_scan_prepare(&scan, g_model, a, &params), SLICENAV_ERR_CANCELLED);
    CHECK(scan == NULL);
    scores[0] = -12345.0;
    CHECK_STATUS(slicenav_volume_scores(scores, 60, &written, g_model, a, &params), SLICENAV_ERR_CANCELLED);
    CHECK(scores[0] == -12345.0);
    params.callbacks = callbacks_for(&r, -1);
    CHECK_STATUS(slicenav_scan_prepare(&scan, g_model, a, &params), SLICENAV_OK);
    check_reports(&r, 2);
    slicenav_scan_free(scan);
  }
  {
    slicenav_coverage coverage = slicenav_coverage_init();
    slicenav_locate_params params = slicenav_locate_default_params();
    params.callbacks = callbacks_for(&r, 0);
    coverage.status = (slicenav_coverage_status)7;
    CHECK_STATUS(slicenav_volume_coverage(&coverage, g_model, a, "lungs", &params), SLICENAV_ERR_CANCELLED);
    CHECK(coverage.status == (slicenav_coverage_status)7);
  }
  {
    slicenav_prealign_params params = slicenav_prealign_default_params();
    slicenav_prealignment out = slicenav_prealignment_init();
    int method;
    for (method = 0; method <= SLICENAV_PREALIGN_AUTO; ++method) {
      params.method = (slicenav_prealign_method)method;
      params.callbacks = callbacks_for(&r, 1);
      out.confidence = -1.0;
      CHECK_STATUS(slicenav_prealign(&out, g_model, a, b, &params), SLICENAV_ERR_CANCELLED);
      CHECK(out.confidence == -1.0);
    }
    params.method = SLICENAV_PREALIGN_AUTO;
    params.callbacks = callbacks_for(&r, -1);
    CHECK_STATUS(slicenav_prealign(&out, g_model, a, b, &params), SLICENAV_OK);
    check_reports(&r, 3);
  }
  {
    slicenav_prealign_rigid_params params = slicenav_prealign_rigid_default_params();
    slicenav_prealignment_rigid out = slicenav_prealignment_rigid_init();
    params.points = 200;
    params.callbacks = callbacks_for(&r, 1);
    out.confidence = -1.0;
    CHECK_STATUS(slicenav_prealign_rigid(&out, g_model, a, a, &params), SLICENAV_ERR_CANCELLED);
    CHECK(out.confidence == -1.0);
    CHECK(r.count == 2);
  }
done:
  slicenav_volume_free(a);
  slicenav_volume_free(b);
}

/* Reading, writing, cropping and uncropping: a stopped write leaves no file, and keeps the one it would have
 * replaced. */
static void test_files_are_never_half_written(void) {
  slicenav_volume* volume = make_phantom("LPS", 60, 0.0);
  slicenav_volume* back = (slicenav_volume*)1;
  slicenav_write_params write = slicenav_write_default_params();
  slicenav_read_params read = slicenav_read_default_params();
  slicenav_crop_params crop = slicenav_crop_default_params();
  slicenav_crop_record* record = (slicenav_crop_record*)1;
  char path[1200], cropped[1200], restored[1200];
  Recorder r;
  long before;
  CHECK(volume != NULL);
  if (volume == NULL) return;
  tmp_path(path, sizeof path, "volume.nii.gz");
  tmp_path(cropped, sizeof cropped, "cropped.nii.gz");
  tmp_path(restored, sizeof restored, "restored.nii.gz");
  remove(path);
  remove(cropped);
  remove(restored);
  write.callbacks = callbacks_for(&r, 0);
  CHECK_STATUS(slicenav_volume_write(path, volume, &write), SLICENAV_ERR_CANCELLED);
  CHECK(!file_exists(path));
  write.callbacks = callbacks_for(&r, -1);
  CHECK_STATUS(slicenav_volume_write(path, volume, &write), SLICENAV_OK);
  check_reports(&r, 2);
  before = file_size(path);
  CHECK(before > 0);

  read.callbacks = callbacks_for(&r, 0);
  CHECK_STATUS(slicenav_volume_read(&back, path, &read), SLICENAV_ERR_CANCELLED);
  CHECK(back == NULL);
  CHECK_ERROR_MENTIONS(path);
  read.callbacks = callbacks_for(&r, -1);
  CHECK_STATUS(slicenav_volume_read(&back, path, &read), SLICENAV_OK);
  check_reports(&r, 2);
  slicenav_volume_free(back);

  crop.region = "lungs";
  crop.callbacks = callbacks_for(&r, 1);
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &crop), SLICENAV_ERR_CANCELLED);
  CHECK(record == NULL);
  crop.callbacks = callbacks_for(&r, -1);
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &crop), SLICENAV_OK);
  check_reports(&r, 2);
  if (record != NULL) {
    /* Stopped after reading the image (the second check), before writing: no crop. */
    write.callbacks = callbacks_for(&r, 1);
    CHECK_STATUS(slicenav_crop_record_crop_file(cropped, record, path, &write), SLICENAV_ERR_CANCELLED);
    CHECK(!file_exists(cropped));
    write.callbacks = callbacks_for(&r, -1);
    CHECK_STATUS(slicenav_crop_record_crop_file(cropped, record, path, &write), SLICENAV_OK);
    check_reports(&r, 3);
    /* A stopped uncrop over an existing file keeps it as it was. */
    CHECK_STATUS(slicenav_volume_write(restored, volume, NULL), SLICENAV_OK);
    before = file_size(restored);
    write.callbacks = callbacks_for(&r, 1);
    CHECK_STATUS(slicenav_crop_record_uncrop_file(restored, record, cropped, &write), SLICENAV_ERR_CANCELLED);
    CHECK(file_size(restored) == before);
    write.callbacks = callbacks_for(&r, -1);
    CHECK_STATUS(slicenav_crop_record_uncrop_file(restored, record, cropped, &write), SLICENAV_OK);
    check_reports(&r, 3);
    slicenav_crop_record_free(record);
  }
  slicenav_volume_free(volume);
}

int main(int argc, char** argv) {
  if (init_tmp("progress_test", argc > 1 ? argv[1] : NULL, "progress") != 0) return 2;
  if (slicenav_model_load(&g_model, NULL) != SLICENAV_OK) {
    fprintf(stderr, "progress_test: cannot load the bundled model: %s\n", slicenav_last_error());
    return 1;
  }
  RUN(test_defaults_have_no_callbacks);
  RUN(test_locate_reports_and_stops);
  RUN(test_every_long_call_stops);
  RUN(test_files_are_never_half_written);
  slicenav_model_free(g_model);
  printf("progress: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
