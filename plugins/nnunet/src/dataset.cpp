#include "slicenav/nnunet/dataset.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

namespace slicenav::nnunet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// `path` without trailing '/': "nnUNet_raw/Dataset001_A/" -> "nnUNet_raw/Dataset001_A".
fs::path without_trailing_slash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The last component of a path: "nnUNet_raw/Dataset001_A/" -> "Dataset001_A".
std::string folder_name(const std::string& path) { return without_trailing_slash(path).filename().string(); }

// "CASE_0003<ending>" -> {"CASE", 3}; false for any other file name.
bool split_channel_file(const std::string& file_name, const std::string& ending, std::string* name, int* channel) {
  if (!ends_with(file_name, ending)) return false;
  const std::string stem = file_name.substr(0, file_name.size() - ending.size());
  if (stem.size() < 6 || stem[stem.size() - 5] != '_' || !all_digits(std::string_view(stem).substr(stem.size() - 4))) {
    return false;
  }
  *name = stem.substr(0, stem.size() - 5);
  *channel = std::stoi(stem.substr(stem.size() - 4));
  return true;
}

// The non-hidden regular files directly in `dir`, sorted; none when `dir` does not exist.
std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (name.front() != '.' && it->is_regular_file(type_ec)) names.push_back(name);
  }
  if (ec) throw Error(SLICENAV_ERR_IO, "cannot read '" + dir.string() + "': " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

std::string channel_file(const std::string& name, std::size_t channel, const std::string& ending) {
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%04zu", channel);
  return name + suffix + ending;
}

json read_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(SLICENAV_ERR_NOT_FOUND, "'" + path.string() + "' does not exist");
  std::ifstream in(path);
  if (!in) throw Error(SLICENAV_ERR_IO, "cannot read '" + path.string() + "'");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {  // a syntax error, or a number out of range (out_of_range 406)
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "'" + path.string() + "' is not valid JSON: " + e.what());
  }
}

// channel_names {"0": "CT", "1": "T2"} -> {"CT", "T2"}; the numbers must be exactly 0..n-1.
std::vector<std::string> parse_channel_names(const json& names, const std::string& where) {
  if (!names.is_object() || names.empty()) {
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT,
                where + ": channel_names must be a non-empty object {\"0\": \"CT\", ...}");
  }
  std::map<int, std::string> by_number;
  for (const auto& [key, value] : names.items()) {
    if (!all_digits(key) || key.size() > 4) {
      throw Error(SLICENAV_ERR_INVALID_ARGUMENT, where + ": channel_names key '" + key + "' is not a channel number");
    }
    by_number[std::stoi(key)] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  std::vector<std::string> channels;
  for (const auto& [number, name] : by_number) {
    if (number != static_cast<int>(channels.size())) {
      throw Error(SLICENAV_ERR_INVALID_ARGUMENT, where + ": channel_names must number the channels 0 to " +
                                                     std::to_string(by_number.size() - 1) + "; channel " +
                                                     std::to_string(channels.size()) + " is missing");
    }
    channels.push_back(name);
  }
  return channels;
}

// "Dataset502_LiverCrop" -> {502, "LiverCrop"}; false unless "Dataset", three digits, '_', a non-empty name.
bool parse_folder_name(const std::string& folder, DatasetName* name) {
  const std::string_view prefix = "Dataset";
  if (folder.size() < prefix.size() + 5 || folder.compare(0, prefix.size(), prefix) != 0 ||
      !all_digits(std::string_view(folder).substr(prefix.size(), 3)) || folder[prefix.size() + 3] != '_') {
    return false;
  }
  *name = {std::stoi(folder.substr(prefix.size(), 3)), folder.substr(prefix.size() + 4)};
  return true;
}

}  // namespace

std::string DatasetName::folder() const {
  char id_text[16];
  std::snprintf(id_text, sizeof id_text, "%03d", id);
  return "Dataset" + std::string(id_text) + "_" + name;
}

DatasetName parse_dataset_name(const std::string& path) {
  DatasetName name;
  if (!parse_folder_name(folder_name(path), &name)) {
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "'" + path +
                                                   "' is not named DatasetXXX_Name (nnU-Net's raw dataset "
                                                   "folders: three-digit id, e.g. Dataset502_LiverCrop)");
  }
  return name;
}

Dataset read_dataset(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(SLICENAV_ERR_NOT_FOUND, "dataset folder '" + dir + "' does not exist");
  Dataset dataset;
  dataset.dir = dir;
  dataset.folder = folder_name(dir);
  const fs::path json_path = fs::path(dir) / "dataset.json";
  dataset.json = read_json(json_path);
  const std::string where = json_path.string();
  const json& j = dataset.json;
  if (!j.is_object()) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, where + ": not a JSON object");
  if (j.contains("modality") && !j.contains("channel_names")) {
    throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT,
                where +
                    ": an nnU-Net v1 dataset.json ('modality'); convert the dataset with "
                    "nnUNetv2_convert_old_nnUNet_dataset first");
  }
  if (j.contains("dataset")) {
    throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT,
                where +
                    ": lists its files under 'dataset'; only the standard imagesTr/labelsTr/imagesTs layout is "
                    "supported");
  }
  for (const char* key : {"channel_names", "labels", "numTraining", "file_ending"}) {
    if (!j.contains(key)) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, where + ": lacks '" + key + "'");
  }
  if (!j["labels"].is_object()) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, where + ": 'labels' is not an object");
  if (!j["numTraining"].is_number_integer()) {
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT, where + ": 'numTraining' is not an integer");
  }
  if (!j["file_ending"].is_string())
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT, where + ": 'file_ending' is not a string");
  dataset.file_ending = j["file_ending"].get<std::string>();
  if (std::none_of(std::begin(kFileEndings), std::end(kFileEndings),
                   [&](const char* ending) { return dataset.file_ending == ending; })) {
    throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT, where + ": file_ending '" + dataset.file_ending +
                                                    "' is not a 3D volume format slicenav crops (.nii.gz, .nii, "
                                                    ".mha, .nrrd)");
  }
  dataset.channel_names = parse_channel_names(j["channel_names"], where);
  const std::string& ending = dataset.file_ending;
  const std::size_t channels = dataset.channel_names.size();

  std::set<std::string> training_names;
  for (const auto& [folder, split] : {std::pair{"imagesTr", Split::training}, std::pair{"imagesTs", Split::test}}) {
    const fs::path images = fs::path(dir) / folder;
    std::map<std::string, Case> cases;
    for (const std::string& file : files_in(images)) {
      std::string name;
      int channel = 0;
      if (!split_channel_file(file, ending, &name, &channel)) {
        dataset.warnings.push_back(std::string("ignored ") + folder + "/" + file + ": not <case>_XXXX" + ending);
        continue;
      }
      Case& c = cases[name];
      if (c.name.empty()) {
        c.name = name;
        c.split = split;
        for (std::size_t k = 0; k < channels; ++k)
          c.images.push_back((images / channel_file(name, k, ending)).string());
        if (split == Split::training) c.label = (fs::path(dir) / "labelsTr" / (name + ending)).string();
      }
      if (static_cast<std::size_t>(channel) >= channels) {
        c.problems.push_back("unexpected channel file '" + (images / file).string() + "': dataset.json names " +
                             std::to_string(channels) + " channel(s)");
      }
    }
    for (auto& [name, c] : cases) {
      if (split == Split::training) {
        training_names.insert(name);
      } else if (training_names.count(name) > 0) {
        throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "case '" + name +
                                                       "' is in both imagesTr and imagesTs: their crop records "
                                                       "would collide");
      }
      dataset.cases.push_back(std::move(c));
    }
  }
  if (dataset.cases.empty()) {
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT,
                "dataset '" + dir + "' holds no case: no <case>_XXXX" + ending + " in imagesTr or imagesTs");
  }
  for (const std::string& file : files_in(fs::path(dir) / "labelsTr")) {
    if (!ends_with(file, ending) || training_names.count(file.substr(0, file.size() - ending.size())) == 0) {
      dataset.warnings.push_back("ignored labelsTr/" + file + ": no training case of that name in imagesTr");
    }
  }
  const auto num_training = j["numTraining"].get<long long>();
  if (num_training != static_cast<long long>(training_names.size())) {
    dataset.warnings.push_back("dataset.json says numTraining " + std::to_string(num_training) + ", imagesTr holds " +
                               std::to_string(training_names.size()) + " case(s)");
  }
  return dataset;
}

CaseOutputs case_outputs(const Dataset& dataset, const Case& c, const std::string& out_dir) {
  const fs::path out(out_dir);
  const char* folder = c.split == Split::training ? "imagesTr" : "imagesTs";
  CaseOutputs outputs;
  for (std::size_t k = 0; k < c.images.size(); ++k) {
    outputs.images.push_back((out / folder / channel_file(c.name, k, dataset.file_ending)).string());
  }
  if (!c.label.empty()) outputs.label = (out / "labelsTr" / (c.name + dataset.file_ending)).string();
  outputs.record = (out / "crop_records" / (c.name + ".json")).string();
  return outputs;
}

std::string staging_dir(const std::string& out_dir, const std::string& case_name) {
  return (fs::path(out_dir) / (".crop-" + case_name + ".tmp")).string();
}

nlohmann::json cropped_dataset_json(const Dataset& dataset, const DatasetName& name, const CropProvenance& provenance) {
  json out = dataset.json;
  out["name"] = name.name;
  out["slicenav_crop"] = {{"source", provenance.source},
                          {"region", provenance.region},
                          {"method", provenance.method},
                          {"crop_records", "crop_records"}};
  return out;
}

void check_resumable(const nlohmann::json& existing, const CropProvenance& provenance, const std::string& out_dir) {
  const json crop = existing.is_object() && existing.contains("slicenav_crop") ? existing["slicenav_crop"] : json();
  const auto field = [&](const char* key) {
    return crop.is_object() && crop.contains(key) && crop[key].is_string() ? crop[key].get<std::string>() : "";
  };
  if (field("source") == provenance.source && field("region") == provenance.region &&
      field("method") == provenance.method) {
    return;
  }
  const std::string before = crop.is_object() ? "'" + field("source") + "' cropped to region '" + field("region") +
                                                    "' (method " + field("method") + ")"
                                              : "a dataset slicenav did not crop";
  throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "'" + out_dir + "' already holds " + before + "; this run crops '" +
                                                 provenance.source + "' to region '" + provenance.region +
                                                 "' (method " + provenance.method + "): use another output folder");
}

void check_unique_id(const std::string& out_dir) {
  const DatasetName out = parse_dataset_name(out_dir);
  const std::string out_folder = folder_name(out_dir);
  fs::path parent = without_trailing_slash(out_dir).parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string folder = it->path().filename().string();
    DatasetName other;
    if (folder != out_folder && parse_folder_name(folder, &other) && other.id == out.id) {
      throw Error(SLICENAV_ERR_INVALID_ARGUMENT,
                  "'" + (parent / folder).string() + "' already has id " + std::to_string(out.id) +
                      ": nnU-Net finds datasets by id, so give '" + out_folder + "' another one");
    }
  }
}

}  // namespace slicenav::nnunet
