// The C API's anatomical positional embedding calls: a thin shim over core/include/slicenav/ape.hpp, guarded
// like every other call.
#include <algorithm>
#include <cstring>

#include "capi_support.hpp"
#include "slicenav.h"
#include "slicenav/ape.hpp"

namespace {

using namespace slicenav::capi;

void write_grid(const slicenav::WorldGrid& g, slicenav_world_grid* out) {
  slicenav_world_grid v = slicenav_world_grid_init();
  for (std::size_t a = 0; a < 3; ++a) {
    v.size[a] = g.size[a];
    v.origin[a] = g.origin[a];
  }
  v.spacing_mm = g.spacing_mm;
  write_versioned(v, out);
}

}  // namespace

slicenav_world_grid slicenav_world_grid_init(void) {
  slicenav_world_grid grid;
  std::memset(&grid, 0, sizeof grid);
  grid.struct_size = sizeof(slicenav_world_grid);
  return grid;
}

slicenav_status slicenav_ape_map(float* dst, size_t capacity, size_t* written, slicenav_world_grid* grid,
                                 const slicenav_model* model, const slicenav_volume* volume) {
  return guarded("slicenav_ape_map", [&] {
    require(model, "model");
    require(volume, "volume");
    if (grid != nullptr) check_struct_size(*grid, &slicenav_world_grid::origin, "grid");
    const slicenav::WorldGrid g = slicenav::ape_grid(model->model, volume->volume);
    if (grid != nullptr) write_grid(g, grid);
    const std::size_t count = slicenav::kApeChannels * g.size[0] * g.size[1] * g.size[2];
    if (!buffer_takes(dst, capacity, written, count)) return;
    const slicenav::ApeMap map = slicenav::ape_map(model->model, volume->volume);
    std::copy(map.grid.values.begin(), map.grid.values.end(), dst);
  });
}

slicenav_status slicenav_ape_write(const char* out_path, const slicenav_model* model, const slicenav_volume* volume,
                                   const slicenav_write_params* params) {
  return guarded("slicenav_ape_write", [&] {
    require(out_path, "out_path");
    require(model, "model");
    require(volume, "volume");
    const slicenav::Progress progress = progress_of(params);
    const int level = gzip_level_of(params);
    slicenav::check_ape_map_output(out_path, level);
    progress.at(0.0);
    const slicenav::ApeMap map = slicenav::ape_map(model->model, volume->volume);
    progress.at(0.9);
    slicenav::write_ape_map(map, out_path, level);
    progress.done();
  });
}
