/* Links against an installed libslicenav: checks the runtime version against the header and makes a
 * tiny volume through the stable API. */
#include <slicenav.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  const size_t dims[3] = {2, 2, 3};
  const double spacing[3] = {1.0, 1.0, 2.0};
  const double origin[3] = {0.0, 0.0, 10.0};
  const short data[12] = {-1000, -1000, 0, 0, 40, 40, 40, 40, 1000, 1000, 0, 0};
  slicenav_volume* volume = NULL;
  slicenav_volume_info info = slicenav_volume_info_init();
  char expected[32];

  snprintf(expected, sizeof expected, "%d.%d.%d", SLICENAV_VERSION_MAJOR, SLICENAV_VERSION_MINOR,
           SLICENAV_VERSION_PATCH);
  if (strcmp(slicenav_version(), expected) != 0) {
    fprintf(stderr, "consumer: header %s, library %s\n", expected, slicenav_version());
    return 1;
  }
  if (slicenav_volume_from_buffer(&volume, data, SLICENAV_PIXEL_INT16, dims, spacing, origin, NULL) != SLICENAV_OK ||
      slicenav_volume_get_info(&info, volume) != SLICENAV_OK) {
    fprintf(stderr, "consumer: %s\n", slicenav_last_error());
    slicenav_volume_free(volume);
    return 1;
  }
  printf("consumer: slicenav %s, %zu canonical slices, world z %.1f..%.1f mm\n", slicenav_version(),
         info.canonical_slice_count, info.world_z_min_mm, info.world_z_max_mm);
  slicenav_volume_free(volume);
  return info.canonical_slice_count == 3 ? 0 : 1;
}
