// slicenav crop IMAGE --region NAME -o CROP --record RECORD [--method M] [--model PATH] [--threads N]
// slicenav uncrop PREDICTION --record RECORD -o FULL
// crop plans the region's box (docs/crop.md), writes the cropped image in its own voxel type and the crop
// record (JSON; "-" prints it); uncrop pastes an image on the cropped grid back into the original grid.
// The record's summary and warnings go to stderr.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include "cli_common.hpp"
#include "slicenav.h"

namespace slicenav::cli {
namespace {

using RecordPtr = std::unique_ptr<slicenav_crop_record, decltype(&slicenav_crop_record_free)>;

struct CropOptions {
  std::string input, region, output, record, method = "insertion";
  ModelOptions model;
  slicenav_write_params write = slicenav_write_default_params();
};

struct UncropOptions {
  std::string input, record, output;
  slicenav_write_params write = slicenav_write_default_params();
};

// "liver: box 120x100x80 of 512x512x300 voxels (volume ratio 12.3), coverage full" (for an organ: ", APE box
// used" or "not used"), then one line per warning.
void print_summary(const slicenav_crop_record* record) {
  const nlohmann::json j = nlohmann::json::parse(slicenav_crop_record_json(record));
  const auto size = [](const nlohmann::json& s) {
    return std::to_string(s[0].get<std::size_t>()) + "x" + std::to_string(s[1].get<std::size_t>()) + "x" +
           std::to_string(s[2].get<std::size_t>());
  };
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f", j["volume_ratio"].get<double>());
  const bool organ = j["ape"].is_object();
  std::cerr << (organ ? j["ape"]["organ"] : j["region"]["name"]).get<std::string>() << ": box "
            << size(j["box"]["size"]) << " of " << size(j["original"]["size"]) << " voxels (volume ratio " << ratio
            << "), coverage " << j["coverage"]["status"].get<std::string>()
            << (organ ? std::string(", APE box ") + (j["ape"]["used"].get<bool>() ? "used" : "not used") : "") << "\n";
  for (const auto& w : j["warnings"]) std::cerr << "slicenav: warning: " << w.get<std::string>() << "\n";
}

int run_crop(const CropOptions& o) {
  std::string error;
  for (const auto* path : {&o.output, &o.record}) {
    if (check_output_path(*path, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
  }
  ModelPtr model(nullptr, &slicenav_model_free);
  slicenav_status status = load_model(o.model, model);
  if (status != SLICENAV_OK) return report(status);
  VolumePtr volume(nullptr, &slicenav_volume_free);
  status = read_volume(o.input, volume);
  if (status != SLICENAV_OK) return report(status);

  slicenav_crop_params params = slicenav_crop_default_params();
  params.region = o.region.c_str();
  params.method = o.method == "score" ? SLICENAV_LOCATE_SCORE : SLICENAV_LOCATE_INSERTION;
  slicenav_crop_record* raw_record = nullptr;
  status = slicenav_crop_record_plan(&raw_record, model.get(), volume.get(), &params);
  RecordPtr record(raw_record, &slicenav_crop_record_free);
  if (status != SLICENAV_OK) return report(status);
  volume.reset();  // the file is read again, as stored, by the crop

  status = slicenav_crop_record_crop_file(o.output.c_str(), record.get(), o.input.c_str(), &o.write);
  if (status != SLICENAV_OK) return report(status);
  // A crop without its record cannot be undone: when the record cannot be written, the crop goes too.
  if (o.record == "-") {
    status = write_json(nlohmann::json::parse(slicenav_crop_record_json(record.get())), "-", &error);
  } else {
    status = slicenav_crop_record_write(o.record.c_str(), record.get());
    if (status != SLICENAV_OK) error = slicenav_last_error();
  }
  if (status != SLICENAV_OK) {
    std::error_code ec;
    std::filesystem::remove(o.output, ec);
    return report(status, error);
  }
  print_summary(record.get());
  return 0;
}

int run_uncrop(const UncropOptions& o) {
  std::string error;
  if (check_output_path(o.output, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
  slicenav_crop_record* raw_record = nullptr;
  slicenav_status status = slicenav_crop_record_read(&raw_record, o.record.c_str());
  RecordPtr record(raw_record, &slicenav_crop_record_free);
  if (status != SLICENAV_OK) return report(status);
  status = slicenav_crop_record_uncrop_file(o.output.c_str(), record.get(), o.input.c_str(), &o.write);
  if (status != SLICENAV_OK) return report(status);
  return 0;
}

}  // namespace

void add_crop_commands(CLI::App& app, Action& action) {
  {
    auto o = std::make_shared<CropOptions>();
    CLI::App* cmd = app.add_subcommand("crop", "Crop an image to a region (voxel type kept) and write the crop record");
    cmd->add_option("image", o->input, "CT image file (.nii, .nii.gz, .mha, .mhd, .nrrd, .nhdr)")->required();
    cmd->add_option("--region", o->region,
                   "A region (lungs, heart, liver, kidneys, abdomen, pelvis, head-neck) or an organ the model "
                   "boxes (docs/ape.md; an unknown name lists them)")
        ->required();
    cmd->add_option("-o,--output", o->output, "Cropped image (.nii, .nii.gz, .mha, .nrrd), written atomically")
        ->required();
    cmd->add_option("--record", o->record, "Crop record (JSON) for uncrop, written atomically; - prints it")
        ->required();
    cmd->add_option("--method", o->method, "How the region's ends are located: insertion (default) or score")
        ->check(CLI::IsMember({"insertion", "score"}));
    add_model_options(cmd, o->model);
    add_gzip_level_option(cmd, o->write);
    cmd->callback([o, &action] { action = [o] { return run_crop(*o); }; });
  }
  {
    auto o = std::make_shared<UncropOptions>();
    CLI::App* cmd =
        app.add_subcommand("uncrop", "Paste an image on a crop's grid back into the original grid (background 0)");
    cmd->add_option("prediction", o->input, "Image on the cropped grid (label map or probabilities, any voxel type)")
        ->required();
    cmd->add_option("--record", o->record, "The crop record written by slicenav crop")->required();
    cmd->add_option("-o,--output", o->output, "Image on the original grid, written atomically")->required();
    add_gzip_level_option(cmd, o->write);
    cmd->callback([o, &action] { action = [o] { return run_uncrop(*o); }; });
  }
}

}  // namespace slicenav::cli
