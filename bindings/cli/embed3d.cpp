// slicenav embed3d IMAGE -o APE.nii.gz [--model PATH] [--threads N] [--gzip-level N]
// Writes the anatomical positional embedding map of a CT (docs/ape.md): a 3-component float image on a 4 mm
// grid aligned with the world axes. Its grid goes to stdout as JSON.
#include <string>

#include "cli_common.hpp"
#include "slicenav.h"

namespace slicenav::cli {
namespace {

struct Embed3dOptions {
  std::string input, output;
  ModelOptions model;
  slicenav_write_params write = slicenav_write_default_params();
};

int run_embed3d(const Embed3dOptions& o) {
  std::string error;
  if (check_output_path(o.output, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
  ModelPtr model(nullptr, &slicenav_model_free);
  slicenav_status status = load_model(o.model, model);
  if (status != SLICENAV_OK) return report(status);
  VolumePtr volume(nullptr, &slicenav_volume_free);
  status = read_volume(o.input, volume);
  if (status != SLICENAV_OK) return report(status);
  slicenav_world_grid grid = slicenav_world_grid_init();
  std::size_t count = 0;
  status = slicenav_ape_map(nullptr, 0, &count, &grid, model.get(), volume.get());
  if (status != SLICENAV_OK) return report(status);
  status = slicenav_ape_write(o.output.c_str(), model.get(), volume.get(), &o.write);
  if (status != SLICENAV_OK) return report(status);
  const nlohmann::json summary{{"output", o.output},
                               {"channels", 3},
                               {"size", {grid.size[0], grid.size[1], grid.size[2]}},
                               {"spacing_mm", grid.spacing_mm},
                               {"origin", {grid.origin[0], grid.origin[1], grid.origin[2]}}};
  status = write_json(summary, "-", &error);
  return status == SLICENAV_OK ? 0 : report(status, error);
}

}  // namespace

void add_embed3d_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<Embed3dOptions>();
  CLI::App* cmd = app.add_subcommand(
      "embed3d", "Write a CT's anatomical positional embedding map (3 channels, 4 mm world grid) as .nii/.nii.gz");
  cmd->add_option("image", o->input, "CT image file or DICOM directory")->required();
  cmd->add_option("-o,--output", o->output, "output .nii or .nii.gz (3-component float image)")->required();
  add_model_options(cmd, o->model);
  add_gzip_level_option(cmd, o->write);
  cmd->callback([o, &action] { action = [o] { return run_embed3d(*o); }; });
}

}  // namespace slicenav::cli
