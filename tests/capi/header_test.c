/* Both public headers compile as C99 with -Wall -Wextra -pedantic -Werror, and link. */
#include <slicenav.h>
#include <slicenav_experimental.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  slicenav_volume_info info = slicenav_volume_info_init();
  slicenav_read_params read_params = slicenav_read_default_params();
  slicenav_phantom_params phantom_params = slicenav_phantom_default_params();
  const char* version = slicenav_version();
  (void)read_params;
  (void)phantom_params;
  if (info.struct_size != sizeof info || version == NULL || strlen(version) == 0) return 1;
  printf("slicenav %s\n", version);
  return 0;
}
