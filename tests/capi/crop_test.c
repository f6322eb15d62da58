/* Tests of the cropping C API (plan, records, crop and uncrop files), in plain C.
 * Usage: crop_test [temp dir]. Uses the bundled model found without configuration. */
#define _POSIX_C_SOURCE 200809L

#include <slicenav.h>
#include <slicenav_experimental.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_check.h"

static slicenav_model* g_model = NULL;

static void write_text(const char* path, const char* text) {
  FILE* f = fopen(path, "w");
  if (f == NULL) return;
  fputs(text, f);
  fclose(f);
}

static void test_default_params(void) {
  const slicenav_crop_params p = slicenav_crop_default_params();
  CHECK(p.struct_size == sizeof(slicenav_crop_params));
  CHECK(p.region == NULL);
  CHECK(p.method == SLICENAV_LOCATE_INSERTION);
}

static void test_plan_rejects_bad_arguments(void) {
  slicenav_volume* volume = make_phantom("RAI", 60, 0.0);
  slicenav_crop_record* record = (slicenav_crop_record*)1;
  slicenav_crop_params p = slicenav_crop_default_params();
  CHECK(volume != NULL);
  p.region = "liver";
  CHECK_STATUS(slicenav_crop_record_plan(NULL, g_model, volume, &p), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_crop_record_plan(&record, NULL, volume, &p), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK(record == NULL);
  CHECK_ERROR_MENTIONS("model is NULL");
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, NULL, &p), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  p.region = NULL;
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &p), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("params->region");
  p.region = "spleen";
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &p), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("head-neck");
  p.region = "liver";
  p.struct_size = 4;
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &p), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  p = slicenav_crop_default_params();
  p.region = "liver";
  p.method = (slicenav_locate_method)7;
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &p), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("slicenav_locate_method");
  CHECK(record == NULL);
  slicenav_volume_free(volume);
}

/* An older caller whose struct ends before `method` gets the default method. */
static void test_plan_accepts_older_params(void) {
  slicenav_volume* volume = make_phantom("RAI", 60, 0.0);
  slicenav_crop_record* record = NULL;
  slicenav_crop_params p = slicenav_crop_default_params();
  p.struct_size = (uint32_t)(offsetof(slicenav_crop_params, region) + sizeof(const char*));
  p.region = "liver";
  p.method = (slicenav_locate_method)7;
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &p), SLICENAV_OK);
  CHECK(record != NULL && strstr(slicenav_crop_record_json(record), "\"insertion\"") != NULL);
  slicenav_crop_record_free(record);
  slicenav_volume_free(volume);
}

static void test_plan_write_read_crop_uncrop(void) {
  char image[1024], cropped[1024], full[1024], rec_path[1024];
  slicenav_volume* volume = make_phantom("RAI", 60, 0.0);
  slicenav_volume* back = NULL;
  slicenav_crop_record* record = NULL;
  slicenav_crop_record* read = NULL;
  slicenav_volume_info info = slicenav_volume_info_init();
  slicenav_crop_params p = slicenav_crop_default_params();
  tmp_path(image, sizeof image, "phantom.nii.gz");
  tmp_path(cropped, sizeof cropped, "cropped.nii.gz");
  tmp_path(full, sizeof full, "full.nii.gz");
  tmp_path(rec_path, sizeof rec_path, "record.json");
  CHECK_STATUS(slicenav_volume_write(image, volume, NULL), SLICENAV_OK);
  p.region = "liver";
  CHECK_STATUS(slicenav_crop_record_plan(&record, g_model, volume, &p), SLICENAV_OK);
  if (record == NULL) {
    slicenav_volume_free(volume);
    return;
  }
  CHECK(strstr(slicenav_crop_record_json(record), "\"slicenav-crop-record\"") != NULL);
  CHECK(slicenav_crop_record_partial(record) == 0 || slicenav_crop_record_partial(record) == 1);
  CHECK_STATUS(slicenav_crop_record_write(rec_path, record), SLICENAV_OK);
  CHECK_STATUS(slicenav_crop_record_read(&read, rec_path), SLICENAV_OK);
  CHECK(read != NULL && strcmp(slicenav_crop_record_json(read), slicenav_crop_record_json(record)) == 0);
  CHECK_STATUS(slicenav_crop_record_crop_file(cropped, read, image, NULL), SLICENAV_OK);
  CHECK_STATUS(slicenav_crop_record_uncrop_file(full, read, cropped, NULL), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_read(&back, full, NULL), SLICENAV_OK);
  CHECK_STATUS(slicenav_volume_get_info(&info, back), SLICENAV_OK);
  CHECK(info.size[0] == 64 && info.size[1] == 64 && info.size[2] == 60);
  /* The original image is not on the cropped grid, and the crop is not on the original grid. */
  CHECK_STATUS(slicenav_crop_record_uncrop_file(full, read, image, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("cropped grid");
  CHECK_STATUS(slicenav_crop_record_crop_file(full, read, cropped, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("original grid");
  slicenav_volume_free(back);
  slicenav_crop_record_free(read);
  slicenav_crop_record_free(record);
  slicenav_volume_free(volume);
}

static void test_bad_record_files(void) {
  char path[1024];
  slicenav_crop_record* record = (slicenav_crop_record*)1;
  tmp_path(path, sizeof path, "no-such-record.json");
  CHECK_STATUS(slicenav_crop_record_read(&record, path), SLICENAV_ERR_NOT_FOUND);
  CHECK(record == NULL);
  tmp_path(path, sizeof path, "garbage.json");
  write_text(path, "this is not json");
  CHECK_STATUS(slicenav_crop_record_read(&record, path), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not a crop record");
  tmp_path(path, sizeof path, "foreign.json");
  write_text(path, "{\"format\": \"slicenav-crop-record\", \"format_version\": 1}");
  CHECK_STATUS(slicenav_crop_record_read(&record, path), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("region");
  CHECK_STATUS(slicenav_crop_record_read(&record, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_crop_record_read(NULL, path), SLICENAV_ERR_INVALID_ARGUMENT);
}

static void test_null_handles(void) {
  CHECK(slicenav_crop_record_json(NULL) == NULL);
  CHECK(slicenav_crop_record_partial(NULL) == 0);
  CHECK_STATUS(slicenav_crop_record_write("x.json", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_crop_record_crop_file("b.nii", NULL, "a.nii", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(slicenav_crop_record_uncrop_file("b.nii", NULL, "a.nii", NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  slicenav_crop_record_free(NULL);
}

int main(int argc, char** argv) {
  if (init_tmp("crop_test", argc > 1 ? argv[1] : NULL, "crop") != 0) return 2;
  if (slicenav_model_load(&g_model, NULL) != SLICENAV_OK) {
    fprintf(stderr, "crop_test: cannot load the bundled model: %s\n", slicenav_last_error());
    return 1;
  }
  RUN(test_default_params);
  RUN(test_plan_rejects_bad_arguments);
  RUN(test_plan_accepts_older_params);
  RUN(test_plan_write_read_crop_uncrop);
  RUN(test_bad_record_files);
  RUN(test_null_handles);
  slicenav_model_free(g_model);
  printf("crop: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
