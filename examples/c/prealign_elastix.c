/* prealign_elastix: find the z translation between two CT scans (one patient's or two patients') with the bundled
 * model, and write it as an elastix initial transform (elastix -t0), using only the stable C API (slicenav.h).
 *
 *   prealign_elastix FIXED MOVING TRANSFORM.txt [auto|score|three-slice|insertion|intensity|embedding|key-slices]
 *
 * FIXED and MOVING are image files or DICOM directories. Then, for example:
 *   elastix -f FIXED -m MOVING -t0 TRANSFORM.txt -p rigid.txt -out outdir
 * Exit status: 0 on success, 1 on a library error, 2 on bad usage, 3 when the scans share no anatomy (the
 * transform file is then not written). */
#include <slicenav.h>

#include <stdio.h>
#include <string.h>

static int fail(const char* what, slicenav_status status) {
  /* The code is for branching; the message is for people. */
  fprintf(stderr, "prealign_elastix: %s: %s: %s\n", what, slicenav_status_name(status), slicenav_last_error());
  return 1;
}

int main(int argc, char** argv) {
  static const char* const methods[] = {"score",     "three-slice", "insertion", "intensity",
                                        "embedding", "key-slices",  "auto"};
  slicenav_volume* fixed = NULL;
  slicenav_volume* moving = NULL;
  slicenav_model* model = NULL;
  slicenav_prealign_params params = slicenav_prealign_default_params();
  slicenav_prealignment result = slicenav_prealignment_init();
  slicenav_rigid_transform transform = slicenav_rigid_transform_init();
  slicenav_status status;
  int code = 1;
  int a;

  if (argc < 4 || argc > 5) {
    fprintf(stderr,
            "usage: %s FIXED MOVING TRANSFORM.txt [auto|score|three-slice|insertion|intensity|embedding|key-slices]\n",
            argv[0]);
    return 2;
  }
  if (argc == 5) {
    int m, found = 0;
    for (m = 0; m < (int)(sizeof methods / sizeof methods[0]); ++m) {
      if (strcmp(argv[4], methods[m]) == 0) {
        params.method = (slicenav_prealign_method)m; /* the enum follows the same order */
        found = 1;
      }
    }
    if (!found) {
      fprintf(stderr, "prealign_elastix: unknown method '%s'\n", argv[4]);
      return 2;
    }
  }

  if ((status = slicenav_volume_read(&fixed, argv[1], NULL)) != SLICENAV_OK) {
    code = fail("fixed", status);
    goto done;
  }
  if ((status = slicenav_volume_read(&moving, argv[2], NULL)) != SLICENAV_OK) {
    code = fail("moving", status);
    goto done;
  }
  /* The intensity method needs no model; the learned ones load the bundled model (found without configuration). */
  if (params.method != SLICENAV_PREALIGN_INTENSITY && (status = slicenav_model_load(&model, NULL)) != SLICENAV_OK) {
    code = fail("model", status);
    goto done;
  }
  if ((status = slicenav_prealign(&result, model, fixed, moving, &params)) != SLICENAV_OK) {
    code = fail("prealign", status);
    goto done;
  }

  /* The method that answered: the one asked for, or the one auto chose. */
  printf("method:          %s%s\n", methods[result.method], params.method == SLICENAV_PREALIGN_AUTO ? " (auto)" : "");
  printf("translation_mm:  x = %.2f  y = %.2f  z = %.2f\n", result.translation_mm[0], result.translation_mm[1],
         result.translation_mm[2]);
  printf("confidence:      %.3f (overlap %.1f mm)\n", result.confidence, result.overlap_mm);
  if (result.note[0] != '\0') printf("note:            %s\n", result.note);
  if (!result.shared_anatomy) {
    fprintf(stderr, "prealign_elastix: the scans show no common anatomy; no transform written\n");
    code = 3;
    goto done;
  }

  /* The prealignment's translation is already in elastix's -t0 convention (fixed point p -> moving p + t). */
  for (a = 0; a < 3; ++a) transform.translation_mm[a] = result.translation_mm[a];
  if ((status = slicenav_rigid_transform_write_elastix(argv[3], &transform, fixed)) != SLICENAV_OK) {
    code = fail("write", status);
    goto done;
  }
  printf("elastix -t0:     %s\n", argv[3]);
  code = 0;

done:
  slicenav_model_free(model); /* NULL is fine */
  slicenav_volume_free(moving);
  slicenav_volume_free(fixed);
  return code;
}
