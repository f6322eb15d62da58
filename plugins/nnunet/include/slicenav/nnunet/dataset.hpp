// nnU-Net v2 raw datasets: reading a DatasetXXX_Name folder (dataset.json, imagesTr, labelsTr, imagesTs),
// naming the files of a cropped copy, and carrying dataset.json over to it.
//
// The layout (nnU-Net v2, documentation/dataset_format.md):
//
//   DatasetXXX_Name/
//     dataset.json          channel_names, labels, numTraining, file_ending, ...
//     imagesTr/CASE_0000.nii.gz, CASE_0001.nii.gz, ...   one file per channel, 4-digit channel suffix
//     labelsTr/CASE.nii.gz
//     imagesTs/CASE_0000.nii.gz, ...                      optional; no labels
//
// Built only on the public C API (slicenav.h), nlohmann_json and the standard library.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slicenav.h"
#include "slicenav/plugin/error.hpp"

namespace slicenav::nnunet {

// Every failure of the nnU-Net adapter (NOT_FOUND for a missing file, INVALID_ARGUMENT for a malformed
// dataset, ...).
using Error = plugin::Error;

// The id and name of a DatasetXXX_Name folder: "Dataset502_LiverCrop" is {502, "LiverCrop"}.
struct DatasetName {
  int id = 0;
  std::string name;
  std::string folder() const;  // "Dataset502_LiverCrop": the id with three digits
};

// Parses the last component of `path` (trailing '/' ignored) as DatasetXXX_Name: "Dataset", three decimal
// digits, '_', a non-empty name. Throws Error(INVALID_ARGUMENT) naming the path otherwise.
DatasetName parse_dataset_name(const std::string& path);

enum class Split { training, test };

// One case: its channel images (index = channel number) and, for training cases, its label map.
struct Case {
  std::string name;
  Split split = Split::training;
  std::vector<std::string> images;  // <dir>/imagesTr|imagesTs/<name>_XXXX<ending>, whether or not they exist
  std::string label;                // <dir>/labelsTr/<name><ending> for training cases, "" for test cases
  // Files that make the case unusable, found while listing (a channel number dataset.json does not name).
  std::vector<std::string> problems;
};

struct Dataset {
  std::string dir;
  std::string folder;                      // the folder's own name, e.g. "Dataset003_Liver"
  nlohmann::json json;                     // dataset.json as read
  std::string file_ending;                 // e.g. ".nii.gz"
  std::vector<std::string> channel_names;  // index = channel number
  std::vector<Case> cases;                 // training cases, then test cases, each sorted by name (bytewise)
  std::vector<std::string> warnings;       // ignored files, numTraining not matching the cases, ...
};

// Image endings the cropper reads and writes as single files; other file_endings are UNSUPPORTED_INPUT.
inline constexpr const char* kFileEndings[] = {".nii.gz", ".nii", ".mha", ".nrrd"};

// Reads dataset.json and lists the cases. A case is every name with at least one channel file in imagesTr
// (training) or imagesTs (test). Missing channel or label files are not checked here: they fail their own
// case when it is processed, so one broken case does not stop a dataset. Files in the image folders that
// are not <case>_XXXX<file_ending> (hidden files aside) are ignored with a warning, as are labels without
// images. Throws Error: NOT_FOUND (no such folder, no dataset.json), INVALID_ARGUMENT (dataset.json is not
// JSON, lacks channel_names, labels, numTraining or file_ending, or its channel numbers are not 0..n-1; a
// case in both imagesTr and imagesTs; no case at all), UNSUPPORTED_INPUT (a file_ending outside
// kFileEndings; a "dataset" file list instead of the standard folders; an nnU-Net v1 "modality" key), IO.
Dataset read_dataset(const std::string& dir);

// Where a case's cropped files go under `out_dir`: the same relative paths as in the source dataset, and
// its crop record in <out_dir>/crop_records/<name>.json.
struct CaseOutputs {
  std::vector<std::string> images;
  std::string label;  // "" for test cases
  std::string record;
};
CaseOutputs case_outputs(const Dataset& dataset, const Case& c, const std::string& out_dir);

// Where crop_case stages a case's files before moving them into place: <out_dir>/.crop-<name>.tmp
std::string staging_dir(const std::string& out_dir, const std::string& case_name);

// The provenance a cropped dataset.json carries under "slicenav_crop".
struct CropProvenance {
  std::string source;  // the source folder name, e.g. "Dataset003_Liver"
  std::string region;
  std::string method;  // "insertion" or "score"
};

// dataset.json of the cropped dataset: the source's, with "name" set to `name.name` and "slicenav_crop"
// set to {"source", "region", "method", "crop_records": "crop_records"}. Every other key (labels,
// channel_names, numTraining, file_ending, licence, ...) is kept as it is: cropping keeps every case.
nlohmann::json cropped_dataset_json(const Dataset& dataset, const DatasetName& name, const CropProvenance& provenance);

// Checks that `existing` (the dataset.json already in an output folder, from an earlier or a concurrent
// run) was written for the same source, region and method; resuming into a folder cropped differently
// would mix two crops. Throws Error(INVALID_ARGUMENT) naming both otherwise.
void check_resumable(const nlohmann::json& existing, const CropProvenance& provenance, const std::string& out_dir);

// nnU-Net finds a dataset by its id alone, so two folders DatasetXXX_* with the same id under one
// nnUNet_raw are ambiguous. Throws Error(INVALID_ARGUMENT) when the parent of `out_dir` holds another
// folder with out_dir's id (the source included), naming it.
void check_unique_id(const std::string& out_dir);

}  // namespace slicenav::nnunet
