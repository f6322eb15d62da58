// slicenav nnunet crop-dataset | restore: an nnU-Net v2 raw dataset cropped to one region (every channel and
// label map cut to the same box, one crop record per case), and nnU-Net's predictions on the cropped cases
// pasted back into the original scans. Both run over cases like --batch (see batch.hpp): parallel with
// --jobs, --shard K/N, resumable, failures listed at the end. See docs/nnunet.md.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "batch.hpp"
#include "cli_common.hpp"
#include "slicenav.h"
#include "slicenav/nnunet/crop.hpp"
#include "slicenav/nnunet/dataset.hpp"

namespace slicenav::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using RecordPtr = std::unique_ptr<slicenav_crop_record, decltype(&slicenav_crop_record_free)>;

struct CropDatasetOptions {
  std::string in, out, region, method = "insertion";
  ModelOptions model;
  std::size_t jobs = 1;
  Shard shard;
  slicenav_write_params write = slicenav_write_default_params();
};

struct RestoreOptions {
  std::string predictions, records, out;
  std::size_t jobs = 1;
  Shard shard;
  slicenav_write_params write = slicenav_write_default_params();
};

// A case's error as run_batch logs it: "<status name>: <message>", and its exit code.
int case_error(const nnunet::Error& e, std::string* error) {
  *error = std::string(slicenav_status_name(e.status())) + ": " + e.what();
  return exit_code(e.status());
}

// Whether the model crops `region` (one of its regions or APE organs); when it does not, *error lists
// what it crops.
bool known_region(const slicenav_model* model, const std::string& region, std::string* error) {
  std::string known;
  const auto check = [&](std::size_t count, const char* (*name_of)(const slicenav_model*, std::size_t)) {
    for (std::size_t r = 0; r < count; ++r) {
      const std::string name = name_of(model, r);
      if (name == region) return true;
      known += (known.empty() ? "" : ", ") + name;
    }
    return false;
  };
  if (check(slicenav_model_region_count(model), slicenav_model_region_name) ||
      check(slicenav_model_organ_count(model), slicenav_model_organ_name)) {
    return true;
  }
  *error = "unknown region or organ '" + region + "'; the model crops " + known;
  return false;
}

// Cases whose crop record in `out_dir` says the region is only partly in the scan.
std::vector<std::string> partial_cases(const nnunet::Dataset& dataset, const std::vector<BatchCase>& cases,
                                       const std::map<std::string, const nnunet::Case*>& by_name,
                                       const std::string& out_dir) {
  std::vector<std::string> partial;
  for (const BatchCase& bc : cases) {
    const std::string path = nnunet::case_outputs(dataset, *by_name.at(bc.name), out_dir).record;
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;
    slicenav_crop_record* raw = nullptr;
    const slicenav_status status = slicenav_crop_record_read(&raw, path.c_str());
    const RecordPtr record(raw, &slicenav_crop_record_free);
    if (status == SLICENAV_OK && slicenav_crop_record_partial(record.get()) != 0) partial.push_back(bc.name);
  }
  return partial;
}

int run_crop_dataset(const CropDatasetOptions& o) {
  nnunet::Dataset dataset;
  nnunet::DatasetName out_name;
  nlohmann::json existing;
  const fs::path dataset_json = fs::path(o.out) / "dataset.json";
  nnunet::CropProvenance provenance{"", o.region, o.method};
  try {
    out_name = nnunet::parse_dataset_name(o.out);
    dataset = nnunet::read_dataset(o.in);
    provenance.source = dataset.folder;
    nnunet::check_unique_id(o.out);
    std::error_code ec;
    if (fs::exists(dataset_json, ec)) {  // an earlier run to resume, or another shard of this one
      std::ifstream in(dataset_json);
      nnunet::check_resumable(json::parse(in, nullptr, false), provenance, o.out);
    }
  } catch (const nnunet::Error& e) {
    return report(e.status(), e.what());
  }
  for (const std::string& warning : dataset.warnings) std::cerr << "slicenav: warning: " << warning << '\n';

  ModelPtr model(nullptr, &slicenav_model_free);
  if (const slicenav_status status = load_model(o.model, model); status != SLICENAV_OK) return report(status);
  std::string error;
  if (!known_region(model.get(), o.region, &error)) return report(SLICENAV_ERR_INVALID_ARGUMENT, error);

  try {
    nnunet::prepare_output(dataset, o.out);
  } catch (const nnunet::Error& e) {
    return report(e.status(), e.what());
  }
  const slicenav_status json_status =
      write_json(nnunet::cropped_dataset_json(dataset, out_name, provenance), dataset_json.string(), &error);
  if (json_status != SLICENAV_OK) return report(json_status, error);

  std::vector<BatchCase> all;
  std::map<std::string, const nnunet::Case*> by_name;
  for (const nnunet::Case& c : dataset.cases) {
    all.push_back({c.images.front(), c.name});
    by_name[c.name] = &c;
  }
  const std::vector<BatchCase> cases = select_shard(all, o.shard);
  std::cerr << "nnunet crop-dataset: " << cases.size() << " of " << all.size() << " cases (shard " << o.shard.index
            << '/' << o.shard.count << "), region '" << o.region << "', " << o.jobs << " job(s)\n";

  slicenav_crop_params params = slicenav_crop_default_params();
  params.region = o.region.c_str();
  params.method = o.method == "score" ? SLICENAV_LOCATE_SCORE : SLICENAV_LOCATE_INSERTION;
  const auto output_for = [&](const BatchCase& bc) {
    return nnunet::case_outputs(dataset, *by_name.at(bc.name), o.out).record;  // written last
  };
  const auto process = [&](const BatchCase& bc, std::string* message) {
    try {
      nnunet::crop_case(model.get(), dataset, *by_name.at(bc.name), o.out, params, &o.write);
      return 0;
    } catch (const nnunet::Error& e) {
      return case_error(e, message);
    }
  };
  const BatchSummary summary = run_batch(cases, output_for, process, std::cerr, o.jobs);

  const std::vector<std::string> partial = partial_cases(dataset, cases, by_name, o.out);
  if (!partial.empty()) {
    std::cerr << "nnunet: " << partial.size() << " case(s) hold region '" << o.region
              << "' only in part (cropped to the part in the scan):";
    for (std::size_t p = 0; p < partial.size(); ++p) std::cerr << (p == 0 ? " " : ", ") << partial[p];
    std::cerr << '\n';
  }
  return batch_exit_code(summary);
}

int run_restore(const RestoreOptions& o) {
  std::vector<BatchCase> cases;
  try {
    cases = select_shard(list_batch_cases(o.predictions), o.shard);
  } catch (const BatchNotFoundError& e) {
    return report(SLICENAV_ERR_NOT_FOUND, e.what());
  } catch (const std::runtime_error& e) {
    return report(SLICENAV_ERR_INVALID_ARGUMENT, e.what());
  }
  std::error_code ec;
  if (!fs::is_directory(o.records, ec)) {
    return report(SLICENAV_ERR_NOT_FOUND, "crop records folder '" + o.records + "' does not exist");
  }
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out)) {
    return report(SLICENAV_ERR_IO, "cannot create '" + o.out + "': " + (ec ? ec.message() : "not a directory"));
  }
  if (fs::equivalent(o.out, o.predictions, ec)) {
    return report(SLICENAV_ERR_INVALID_ARGUMENT,
                  "--out must differ from --pred: restoring would replace the predictions");
  }

  // OUT/<case> with the prediction's own extension.
  const auto output_for = [&](const BatchCase& c) {
    return (fs::path(o.out) / (c.name + fs::path(c.input).filename().string().substr(c.name.size()))).string();
  };
  const auto process = [&](const BatchCase& c, std::string* message) {
    try {
      nnunet::restore_case(o.records, c.name, c.input, output_for(c), &o.write);
      return 0;
    } catch (const nnunet::Error& e) {
      return case_error(e, message);
    }
  };
  return batch_exit_code(run_batch(cases, output_for, process, std::cerr, o.jobs));
}

}  // namespace

void add_nnunet_commands(CLI::App& app, Action& action) {
  CLI::App* nnunet = app.add_subcommand("nnunet", "Crop nnU-Net v2 raw datasets to a region; restore predictions");
  nnunet->require_subcommand(1);

  auto crop = std::make_shared<CropDatasetOptions>();
  CLI::App* crop_cmd = nnunet->add_subcommand(
      "crop-dataset",
      "Crop every case of an nnU-Net raw dataset (all channels and labels, to one box per case) into a new dataset "
      "with one crop record per case; cases already done are skipped");
  crop_cmd->add_option("--in", crop->in, "Source dataset folder (nnUNet_raw/DatasetXXX_Name)")->required();
  crop_cmd->add_option("--region", crop->region, "Region (lungs, heart, liver, kidneys, abdomen, ...) or organ to crop to")
      ->required();
  crop_cmd->add_option("--out", crop->out, "New dataset folder, named DatasetYYY_Name (created)")->required();
  crop_cmd->add_option("--method", crop->method, "How the region's ends are located: insertion or score")
      ->check(CLI::IsMember({"insertion", "score"}));
  crop_cmd->add_option("--jobs", crop->jobs, "Cases cropped at once (they share one loaded model)")
      ->check(CLI::PositiveNumber);
  add_model_options(crop_cmd, crop->model);
  add_gzip_level_option(crop_cmd, crop->write);
  add_shard_option(*crop_cmd, crop->shard);
  crop_cmd->callback([crop, &action] { action = [crop] { return run_crop_dataset(*crop); }; });

  auto restore = std::make_shared<RestoreOptions>();
  CLI::App* restore_cmd = nnunet->add_subcommand(
      "restore",
      "Paste predictions on cropped cases back into the original scans (background 0), using the crop "
      "records; other files in --pred (.npz, .pkl, .json) are ignored");
  restore_cmd->add_option("--pred", restore->predictions, "Folder of predictions (<case>.nii.gz, ...)")->required();
  restore_cmd->add_option("--records", restore->records, "Folder of crop records (<case>.json)")->required();
  restore_cmd->add_option("--out", restore->out, "Output folder (created)")->required();
  restore_cmd->add_option("--jobs", restore->jobs, "Cases restored at once")->check(CLI::PositiveNumber);
  add_gzip_level_option(restore_cmd, restore->write);
  add_shard_option(*restore_cmd, restore->shard);
  restore_cmd->callback([restore, &action] { action = [restore] { return run_restore(*restore); }; });
}

}  // namespace slicenav::cli
