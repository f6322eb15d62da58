// slicenav phantom -o out.nii.gz [--size X Y Z] [--spacing X Y Z] [--orientation LPS] [--top-z MM]
//                  [--noise HU] [--seed N] [--patient-position HFS] [--landmarks landmarks.json]
// Writes the deterministic synthetic torso CT and, optionally, its known landmark levels as JSON.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "slicenav.h"
#include "slicenav_experimental.h"

namespace slicenav::cli {
namespace {

struct PhantomOptions {
  std::string output;
  std::string landmarks;
  std::vector<std::size_t> size;
  std::vector<double> spacing;
  std::string orientation;
  double top_z_mm = 0.0;
  double noise_hu = 0.0;
  std::uint64_t seed = 0;
  std::string patient_position;
  slicenav_write_params write = slicenav_write_default_params();
  // Which optional values were given; the rest keep slicenav_phantom_default_params().
  CLI::Option* top_z_opt = nullptr;
  CLI::Option* noise_opt = nullptr;
  CLI::Option* seed_opt = nullptr;
  CLI::Option* orientation_opt = nullptr;
  CLI::Option* patient_position_opt = nullptr;
};

using VolumePtr = std::unique_ptr<slicenav_volume, decltype(&slicenav_volume_free)>;

// The landmark JSON {"landmarks": [{"name": ..., "world_z_mm": ...}, ...]} for `params`.
slicenav_status landmarks_json(const slicenav_phantom_params& params, nlohmann::json* out) {
  std::size_t count = 0;
  slicenav_status status = slicenav_phantom_landmarks(nullptr, nullptr, 0, &count, &params);
  if (status != SLICENAV_OK && status != SLICENAV_ERR_BUFFER_TOO_SMALL) return status;
  std::vector<const char*> names(count, nullptr);
  std::vector<double> z_mm(count, 0.0);
  if (count > 0) {
    status = slicenav_phantom_landmarks(names.data(), z_mm.data(), count, &count, &params);
    if (status != SLICENAV_OK) return status;
  }
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < count; ++i) {
    list.push_back({{"name", names[i] != nullptr ? names[i] : ""}, {"world_z_mm", z_mm[i]}});
  }
  *out = {{"landmarks", std::move(list)}};
  return SLICENAV_OK;
}

int run_phantom(const PhantomOptions& options) {
  slicenav_phantom_params params = slicenav_phantom_default_params();
  for (std::size_t a = 0; a < 3; ++a) {
    if (!options.size.empty()) params.size[a] = options.size[a];
    if (!options.spacing.empty()) params.spacing[a] = options.spacing[a];
  }
  if (options.orientation_opt->count() > 0 && !copy_to_field(params.orientation, options.orientation)) {
    return report(SLICENAV_ERR_INVALID_ARGUMENT,
                  "--orientation '" + options.orientation + "' is not a 3-letter code such as LPS or RAI");
  }
  if (options.patient_position_opt->count() > 0 && !copy_to_field(params.patient_position, options.patient_position)) {
    return report(SLICENAV_ERR_INVALID_ARGUMENT,
                  "--patient-position '" + options.patient_position + "' is too long (e.g. HFS, FFS)");
  }
  if (options.top_z_opt->count() > 0) params.top_z_mm = options.top_z_mm;
  if (options.noise_opt->count() > 0) params.noise_hu = options.noise_hu;
  if (options.seed_opt->count() > 0) params.seed = options.seed;

  // Check both destinations and build the landmark JSON first, so that a bad output path or parameter
  // fails before anything is written.
  std::string error;
  for (const std::string* path : {&options.output, &options.landmarks}) {
    if (check_output_path(*path, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
  }
  nlohmann::json landmarks;
  if (!options.landmarks.empty()) {
    const slicenav_status status = landmarks_json(params, &landmarks);
    if (status != SLICENAV_OK) return report(status);
  }

  slicenav_volume* raw = nullptr;
  slicenav_status status = slicenav_phantom_create(&raw, &params);
  VolumePtr volume(raw, &slicenav_volume_free);
  if (status != SLICENAV_OK) return report(status);

  status = slicenav_volume_write(options.output.c_str(), volume.get(), &options.write);
  if (status != SLICENAV_OK) return report(status);

  if (!options.landmarks.empty()) {
    status = write_json(landmarks, options.landmarks, &error);
    if (status != SLICENAV_OK) return report(status, error);
  }
  return 0;
}

}  // namespace

void add_phantom_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<PhantomOptions>();
  const slicenav_phantom_params defaults = slicenav_phantom_default_params();
  auto triple = [](const auto* values) {
    return std::to_string(values[0]) + " " + std::to_string(values[1]) + " " + std::to_string(values[2]);
  };

  CLI::App* cmd = app.add_subcommand("phantom", "Write a deterministic synthetic torso CT (for tests and demos)");
  cmd->add_option("-o,--output", options->output, "Volume file to write (.nii, .nii.gz, .mha, .nrrd)")->required();
  add_gzip_level_option(cmd, options->write);
  cmd->add_option("--size", options->size, "Voxels along the file's index axes (default " + triple(defaults.size) + ")")
      ->expected(3);
  cmd->add_option("--spacing", options->spacing, "Voxel spacing in mm (default " + triple(defaults.spacing) + ")")
      ->expected(3);
  options->orientation_opt = cmd->add_option(
      "--orientation", options->orientation,
      std::string("\"To\" letters of the index axes, e.g. LPS, RAI, SLA (default ") + defaults.orientation + ")");
  options->top_z_opt = cmd->add_option(
      "--top-z", options->top_z_mm,
      "World z (mm) of the most superior slice's centre (default " + std::to_string(defaults.top_z_mm) + ")");
  options->noise_opt = cmd->add_option(
      "--noise", options->noise_hu,
      "Std. dev. of additive noise, HU; 0 for none (default " + std::to_string(defaults.noise_hu) + ")");
  options->seed_opt =
      cmd->add_option("--seed", options->seed, "Noise seed (default " + std::to_string(defaults.seed) + ")");
  options->patient_position_opt = cmd->add_option(
      "--patient-position", options->patient_position,
      std::string("DICOM PatientPosition to record, e.g. HFS, FFS (default ") + defaults.patient_position + ")");
  cmd->add_option("--landmarks", options->landmarks, "Also write the phantom's landmark levels as JSON to this file");
  cmd->callback([options, &action] { action = [options] { return run_phantom(*options); }; });
}

}  // namespace slicenav::cli
