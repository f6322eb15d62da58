// slicenav info IMAGE|DICOMDIR [--dicom-series UID] [-o out.json]
// Reads a volume and prints its geometry, canonical slice range and reader warnings as JSON.
#include <memory>
#include <string>

#include "cli_common.hpp"
#include "slicenav.h"

namespace slicenav::cli {
namespace {

struct InfoOptions {
  std::string input;
  std::string dicom_series;
  std::string output;
};

using VolumePtr = std::unique_ptr<slicenav_volume, decltype(&slicenav_volume_free)>;

// "" means unknown in the C API's fixed-size fields; JSON says null.
nlohmann::json string_or_null(const char* value) {
  return value[0] == '\0' ? nlohmann::json(nullptr) : nlohmann::json(value);
}

int run_info(const InfoOptions& options) {
  std::string error;
  if (check_output_path(options.output, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);

  slicenav_read_params params = slicenav_read_default_params();
  params.dicom_series_uid = options.dicom_series.empty() ? nullptr : options.dicom_series.c_str();

  slicenav_volume* raw = nullptr;
  slicenav_status status = slicenav_volume_read(&raw, options.input.c_str(), &params);
  VolumePtr volume(raw, &slicenav_volume_free);
  if (status != SLICENAV_OK) return report(status);

  slicenav_volume_info info = slicenav_volume_info_init();
  status = slicenav_volume_get_info(&info, volume.get());
  if (status != SLICENAV_OK) return report(status);

  nlohmann::json warnings = nlohmann::json::array();
  for (std::size_t i = 0; i < info.warning_count; ++i) {
    if (const char* warning = slicenav_volume_warning(volume.get(), i)) warnings.push_back(warning);
  }
  const char* source = slicenav_volume_source_path(volume.get());

  nlohmann::json out = nlohmann::json::object();
  out["source_path"] = source != nullptr && source[0] != '\0' ? std::string(source) : options.input;
  out["format"] = string_or_null(info.format);
  out["modality"] = string_or_null(info.modality);
  out["patient_position"] = string_or_null(info.patient_position);
  out["size"] = {info.size[0], info.size[1], info.size[2]};
  out["spacing"] = {info.spacing[0], info.spacing[1], info.spacing[2]};
  out["origin"] = {info.origin[0], info.origin[1], info.origin[2]};
  out["direction"] = nlohmann::json::array();
  for (double d : info.direction) out["direction"].push_back(d);
  out["orientation"] = info.orientation;
  out["obliquity_deg"] = info.obliquity_deg;
  out["canonical_slice_count"] = info.canonical_slice_count;
  out["slice_step_mm"] = info.slice_step_mm;
  out["world_z_range_mm"] = {info.world_z_min_mm, info.world_z_max_mm};
  out["warnings"] = std::move(warnings);

  status = write_json(out, options.output, &error);
  if (status != SLICENAV_OK) return report(status, error);
  return 0;
}

}  // namespace

void add_info_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Print a volume's geometry, canonical slice range and warnings as JSON");
  cmd->add_option("input", options->input, "Image file (.nii, .nii.gz, .mha, .mhd, .nrrd, .nhdr) or DICOM directory")
      ->required();
  cmd->add_option("--dicom-series", options->dicom_series,
                  "DICOM directories: SeriesInstanceUID to read (default: the only CT series)");
  cmd->add_option("-o,--output", options->output, "Write the JSON here (atomically) instead of stdout");
  cmd->callback([options, &action] { action = [options] { return run_info(*options); }; });
}

}  // namespace slicenav::cli
