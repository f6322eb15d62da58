/* Tests of the C API's models (loading the bundled model and a file, damaged and foreign files, params, the
 * model's regions), in plain C.
 * Usage: model_test [temp dir] [model file]. The model file is copied and damaged to test model-file errors. */
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

static char g_model_path[1024];

/* The whole file in a malloc'd buffer (NULL on failure). */
static unsigned char* read_all(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  unsigned char* data = NULL;
  long length;
  *size = 0;
  if (file == NULL) return NULL;
  if (fseek(file, 0, SEEK_END) == 0 && (length = ftell(file)) > 0 && fseek(file, 0, SEEK_SET) == 0) {
    data = (unsigned char*)malloc((size_t)length);
    if (data != NULL && fread(data, 1, (size_t)length, file) == (size_t)length) {
      *size = (size_t)length;
    } else {
      free(data);
      data = NULL;
    }
  }
  fclose(file);
  return data;
}

static int write_all(const char* path, const void* data, size_t size) {
  FILE* file = fopen(path, "wb");
  int ok;
  if (file == NULL) return 0;
  ok = fwrite(data, 1, size, file) == size;
  return fclose(file) == 0 && ok;
}

/* CRC-32 (IEEE 802.3, zlib's crc32), as model files store it over every byte before it. */
static uint32_t crc32_of(const unsigned char* data, size_t size) {
  static uint32_t table[256];
  static int ready = 0;
  uint32_t crc = 0xFFFFFFFFu;
  size_t n;
  if (!ready) {
    uint32_t k;
    for (k = 0; k < 256; ++k) {
      uint32_t c = k;
      int bit;
      for (bit = 0; bit < 8; ++bit) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[k] = c;
    }
    ready = 1;
  }
  for (n = 0; n < size; ++n) crc = table[(crc ^ data[n]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

static void put_u32_le(unsigned char* dst, uint32_t value) {
  dst[0] = (unsigned char)(value & 0xFF);
  dst[1] = (unsigned char)((value >> 8) & 0xFF);
  dst[2] = (unsigned char)((value >> 16) & 0xFF);
  dst[3] = (unsigned char)((value >> 24) & 0xFF);
}

/* Loads `path` with default params otherwise; returns the status, frees any model. */
static slicenav_status load_path(const char* path) {
  slicenav_model_params params = slicenav_model_default_params();
  slicenav_model* model = (slicenav_model*)&model; /* must be reset to NULL on failure */
  slicenav_status status;
  params.path = path;
  status = slicenav_model_load(&model, &params);
  if (status != SLICENAV_OK) CHECK(model == NULL);
  if (status == SLICENAV_OK) slicenav_model_free(model);
  return status;
}

/* ---- Models ------------------------------------------------------------------------------------ */

static void test_model_load_bundled_and_by_path(void) {
  slicenav_model_params params = slicenav_model_default_params();
  slicenav_model* model = NULL;
  const char* json;
  CHECK(params.struct_size == sizeof params);
  CHECK(params.path == NULL);
  CHECK(params.threads == 0);

  /* The shared model was loaded with NULL params in main(). */
  CHECK(g_model != NULL);
  if (g_model != NULL) {
    json = slicenav_model_metadata_json(g_model);
    CHECK(json != NULL && json[0] == '{' && strlen(json) > 2);
  }

  params.path = g_model_path;
  params.threads = 1;
  params.device = "cpu";
  CHECK_STATUS(slicenav_model_load(&model, &params), SLICENAV_OK);
  CHECK(model != NULL);
  if (model != NULL && g_model != NULL) {
    CHECK(strcmp(slicenav_model_metadata_json(model), slicenav_model_metadata_json(g_model)) == 0);
    CHECK(slicenav_model_region_count(model) == slicenav_model_region_count(g_model));
  }
  slicenav_model_free(model);

  /* "" means the bundled model, like NULL; "" device means cpu. */
  model = NULL;
  params.path = "";
  params.device = "";
  params.threads = 0;
  CHECK_STATUS(slicenav_model_load(&model, &params), SLICENAV_OK);
  CHECK(model != NULL);
  slicenav_model_free(model);
}

static void test_model_load_missing_file(void) {
  char path[1200];
  tmp_path(path, sizeof path, "no_such_model.snm");
  remove(path);
  CHECK_STATUS(load_path(path), SLICENAV_ERR_NOT_FOUND);
  CHECK_ERROR_MENTIONS("no_such_model.snm");
}

static void test_model_load_not_a_model(void) {
  char path[1200];
  static const char junk[] = "this is not a slicenav model, just some text\n";
  tmp_path(path, sizeof path, "junk.snm");
  CHECK(write_all(path, junk, sizeof junk - 1));
  CHECK_STATUS(load_path(path), SLICENAV_ERR_MODEL_FORMAT);
  CHECK_ERROR_MENTIONS("junk.snm");
  CHECK_ERROR_MENTIONS("magic");

  /* Shorter than the header. */
  CHECK(write_all(path, "SLICE", 5));
  CHECK_STATUS(load_path(path), SLICENAV_ERR_MODEL_FORMAT);
  /* Empty. */
  CHECK(write_all(path, "", 0));
  CHECK_STATUS(load_path(path), SLICENAV_ERR_MODEL_FORMAT);
}

static void test_model_load_damaged_copies(void) {
  char path[1200];
  size_t size = 0;
  unsigned char* bytes = read_all(g_model_path, &size);
  CHECK(bytes != NULL && size > 64);
  if (bytes == NULL || size <= 64) {
    free(bytes);
    return;
  }
  tmp_path(path, sizeof path, "copy.snm");

  /* An exact copy loads. */
  CHECK(write_all(path, bytes, size));
  CHECK_STATUS(load_path(path), SLICENAV_OK);

  /* Format version 2 (u32 at byte 8) with a valid checksum: a newer format, not a damaged file. */
  put_u32_le(bytes + 8, 2);
  put_u32_le(bytes + size - 4, crc32_of(bytes, size - 4));
  CHECK(write_all(path, bytes, size));
  CHECK_STATUS(load_path(path), SLICENAV_ERR_VERSION_MISMATCH);
  CHECK_ERROR_MENTIONS("version");
  CHECK_ERROR_MENTIONS("copy.snm");

  /* Format version 0, checksum valid: a foreign file. */
  put_u32_le(bytes + 8, 0);
  put_u32_le(bytes + size - 4, crc32_of(bytes, size - 4));
  CHECK(write_all(path, bytes, size));
  CHECK_STATUS(load_path(path), SLICENAV_ERR_MODEL_FORMAT);
  CHECK_ERROR_MENTIONS("version");

  /* Back to version 1, one weight byte flipped, checksum left stale: damaged. */
  put_u32_le(bytes + 8, 1);
  put_u32_le(bytes + size - 4, crc32_of(bytes, size - 4));
  bytes[size / 2] ^= 0x5A;
  CHECK(write_all(path, bytes, size));
  CHECK_STATUS(load_path(path), SLICENAV_ERR_MODEL_FORMAT);
  CHECK_ERROR_MENTIONS("checksum");
  bytes[size / 2] ^= 0x5A;

  /* Truncated to half. */
  CHECK(write_all(path, bytes, size / 2));
  CHECK_STATUS(load_path(path), SLICENAV_ERR_MODEL_FORMAT);
  free(bytes);
}

static void test_model_load_rejects_bad_params(void) {
  slicenav_model_params params = slicenav_model_default_params();
  slicenav_model* model = (slicenav_model*)&model;

  params.threads = -1;
  CHECK_STATUS(slicenav_model_load(&model, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("threads");
  CHECK(model == NULL);
  params.threads = 0;

  params.device = "cuda:0";
  CHECK_STATUS(slicenav_model_load(&model, &params), SLICENAV_ERR_UNSUPPORTED_INPUT);
  CHECK_ERROR_MENTIONS("cuda:0");
  CHECK(model == NULL);

  params.device = "tpu";
  CHECK_STATUS(slicenav_model_load(&model, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("tpu");
  params.device = NULL;

  params.struct_size = 0;
  CHECK_STATUS(slicenav_model_load(&model, &params), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  CHECK(model == NULL);

  CHECK_STATUS(slicenav_model_load(NULL, NULL), SLICENAV_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out");
}

/* An older caller's params struct that ends after `path`: threads and device take their defaults. */
static void test_model_load_accepts_older_params(void) {
  slicenav_model_params params = slicenav_model_default_params();
  slicenav_model* model = NULL;
  params.struct_size = (uint32_t)(offsetof(slicenav_model_params, path) + sizeof params.path);
  params.path = g_model_path;
  params.threads = -5;        /* past struct_size: ignored */
  params.device = "nonsense"; /* past struct_size: ignored */
  CHECK_STATUS(slicenav_model_load(&model, &params), SLICENAV_OK);
  CHECK(model != NULL);
  slicenav_model_free(model);
}

int main(int argc, char** argv) {
  const int started = start_navigation_test("model_test", argc > 1 ? argv[1] : NULL, "model");
  if (started != 0) return started;
  snprintf(g_model_path, sizeof g_model_path, "%s", argc > 2 ? argv[2] : "");
  if (g_model_path[0] == '\0') {
    fprintf(stderr, "model_test: no model file given (argument 2)\n");
    slicenav_model_free(g_model);
    return 2;
  }
  RUN(test_model_load_bundled_and_by_path);
  RUN(test_model_load_missing_file);
  RUN(test_model_load_not_a_model);
  RUN(test_model_load_damaged_copies);
  RUN(test_model_load_rejects_bad_params);
  RUN(test_model_load_accepts_older_params);
  return finish_navigation_test("model_test");
}
