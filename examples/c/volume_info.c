/* volume_info: print a CT volume's geometry using only the stable C API (slicenav.h).
 *
 *   volume_info <file.nii.gz | file.mha | file.nrrd | dicom-directory>
 *
 * Exit status: 0 on success, 1 when the volume cannot be read, 2 on bad usage. */
#include <slicenav.h>

#include <stdio.h>

int main(int argc, char** argv) {
  slicenav_volume* volume = NULL;
  slicenav_volume_info info = slicenav_volume_info_init();
  slicenav_status status;
  size_t i;

  if (argc != 2) {
    fprintf(stderr, "usage: %s <volume file or DICOM directory>\n", argv[0]);
    return 2;
  }

  status = slicenav_volume_read(&volume, argv[1], NULL);
  if (status == SLICENAV_OK) status = slicenav_volume_get_info(&info, volume);
  if (status != SLICENAV_OK) {
    /* The code is for branching; the message is for people. */
    fprintf(stderr, "volume_info: %s: %s\n", slicenav_status_name(status), slicenav_last_error());
    slicenav_volume_free(volume); /* NULL is fine */
    return 1;
  }

  printf("path:             %s\n", slicenav_volume_source_path(volume));
  printf("format:           %s\n", info.format);
  printf("size:             %zu x %zu x %zu\n", info.size[0], info.size[1], info.size[2]);
  printf("spacing (mm):     %.4g x %.4g x %.4g\n", info.spacing[0], info.spacing[1], info.spacing[2]);
  printf("orientation:      %s\n", info.orientation);
  printf("patient position: %s\n", info.patient_position[0] != '\0' ? info.patient_position : "unknown");
  printf("canonical slices: %zu (step %.4g mm)\n", info.canonical_slice_count, info.slice_step_mm);
  printf("world z (mm):     %.2f .. %.2f\n", info.world_z_min_mm, info.world_z_max_mm);
  printf("warnings:         %zu\n", info.warning_count);
  for (i = 0; i < info.warning_count; ++i) printf("  - %s\n", slicenav_volume_warning(volume, i));

  slicenav_volume_free(volume);
  return 0;
}
