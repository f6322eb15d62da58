// The nnU-Net adapter (plugins/nnunet): reading raw datasets, naming and carrying over dataset.json, and
// cropping cases and restoring predictions end to end through the C API, on phantoms and on real CT.
#include "slicenav/nnunet/crop.hpp"
#include "slicenav/nnunet/dataset.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "plugin_test_support.hpp"
#include "slicenav_experimental.h"
#include "temp_dir_test.hpp"
#include "test_data.hpp"

namespace slicenav::nnunet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using VolumePtr = std::unique_ptr<slicenav_volume, decltype(&slicenav_volume_free)>;
using ModelPtr = std::unique_ptr<slicenav_model, decltype(&slicenav_model_free)>;

using test::plugin_status_of;

using NnunetTest = test::TempDirTest;

json two_channel_json(int num_training) {
  return {{"channel_names", {{"0", "CT"}, {"1", "CT_copy"}}},
          {"labels", {{"background", 0}, {"a", 1}, {"b", 2}}},
          {"numTraining", num_training},
          {"file_ending", ".nii.gz"},
          {"name", "Source"},
          {"licence", "CC-BY 4.0"}};
}

std::vector<std::string> names_of(const Dataset& dataset) {
  std::vector<std::string> names;
  for (const Case& c : dataset.cases) names.push_back(c.name);
  return names;
}

bool contains(const std::vector<std::string>& texts, const std::string& part) {
  for (const std::string& text : texts) {
    if (text.find(part) != std::string::npos) return true;
  }
  return false;
}

// ---- Reading datasets ------------------------------------------------------------------------------

using NnunetDataset = NnunetTest;

TEST_F(NnunetDataset, ListsTrainingThenTestCasesWithEveryChannelAndLabel) {
  const std::string dir = path("Dataset001_Src");
  write("Dataset001_Src/dataset.json", two_channel_json(2).dump());
  for (const char* file : {"imagesTr/zeta_0000.nii.gz", "imagesTr/zeta_0001.nii.gz", "imagesTr/alpha_0001.nii.gz",
                           "imagesTr/alpha_0000.nii.gz", "labelsTr/zeta.nii.gz", "labelsTr/alpha.nii.gz",
                           "imagesTs/test_case_7_0000.nii.gz", "imagesTs/test_case_7_0001.nii.gz"}) {
    write(std::string("Dataset001_Src/") + file);
  }
  const Dataset d = read_dataset(dir);
  EXPECT_EQ(d.folder, "Dataset001_Src");
  EXPECT_EQ(d.file_ending, ".nii.gz");
  EXPECT_EQ(d.channel_names, (std::vector<std::string>{"CT", "CT_copy"}));
  EXPECT_EQ(names_of(d), (std::vector<std::string>{"alpha", "zeta", "test_case_7"}));
  ASSERT_EQ(d.cases.size(), 3u);
  EXPECT_EQ(d.cases[0].split, Split::training);
  EXPECT_EQ(d.cases[0].images,
            (std::vector<std::string>{dir + "/imagesTr/alpha_0000.nii.gz", dir + "/imagesTr/alpha_0001.nii.gz"}));
  EXPECT_EQ(d.cases[0].label, dir + "/labelsTr/alpha.nii.gz");
  EXPECT_EQ(d.cases[2].split, Split::test);
  EXPECT_EQ(d.cases[2].images, (std::vector<std::string>{dir + "/imagesTs/test_case_7_0000.nii.gz",
                                                         dir + "/imagesTs/test_case_7_0001.nii.gz"}));
  EXPECT_EQ(d.cases[2].label, "");
  for (const Case& c : d.cases) EXPECT_TRUE(c.problems.empty()) << c.name;
  EXPECT_TRUE(d.warnings.empty()) << d.warnings.front();
}

TEST_F(NnunetDataset, MissingFilesAreLeftToTheirCaseAndStrayFilesAreWarnedAbout) {
  const std::string dir = path("Dataset002_Src");
  write("Dataset002_Src/dataset.json", two_channel_json(3).dump());
  // "one" lacks channel 1, "two" has a third channel, "three" lacks its label; stray files around them.
  for (const char* file : {"imagesTr/one_0000.nii.gz", "imagesTr/two_0000.nii.gz", "imagesTr/two_0001.nii.gz",
                           "imagesTr/two_0002.nii.gz", "imagesTr/three_0001.nii.gz", "imagesTr/three_0000.nii.gz",
                           "imagesTr/notes.txt", "imagesTr/one.nii.gz", "imagesTr/.DS_Store", "imagesTr/one_0000.nii",
                           "labelsTr/one.nii.gz", "labelsTr/two.nii.gz", "labelsTr/ghost.nii.gz"}) {
    write(std::string("Dataset002_Src/") + file);
  }
  const Dataset d = read_dataset(dir);
  EXPECT_EQ(names_of(d), (std::vector<std::string>{"one", "three", "two"}));
  ASSERT_EQ(d.cases.size(), 3u);
  // A missing channel or label is a path like any other here: its case fails when it is cropped.
  EXPECT_EQ(d.cases[0].images.size(), 2u);
  EXPECT_FALSE(fs::exists(d.cases[0].images[1]));
  EXPECT_FALSE(fs::exists(d.cases[1].label));
  EXPECT_TRUE(d.cases[0].problems.empty());
  ASSERT_EQ(d.cases[2].problems.size(), 1u);
  EXPECT_NE(d.cases[2].problems[0].find("two_0002.nii.gz"), std::string::npos) << d.cases[2].problems[0];
  EXPECT_NE(d.cases[2].problems[0].find("2 channel"), std::string::npos) << d.cases[2].problems[0];
  for (const char* part : {"imagesTr/notes.txt", "imagesTr/one.nii.gz", "imagesTr/one_0000.nii", "labelsTr/ghost"}) {
    EXPECT_TRUE(contains(d.warnings, part)) << part;
  }
  EXPECT_FALSE(contains(d.warnings, "DS_Store"));
  EXPECT_FALSE(contains(d.warnings, "numTraining"));

  write("Dataset002_Src/dataset.json", two_channel_json(5).dump());
  EXPECT_TRUE(contains(read_dataset(dir).warnings, "numTraining 5, imagesTr holds 3"));
}

TEST_F(NnunetDataset, BadDatasetsAreClearErrors) {
  std::string message;
  EXPECT_EQ(plugin_status_of([&] { read_dataset(path("Dataset404_None")); }, &message), SLICENAV_ERR_NOT_FOUND);
  EXPECT_NE(message.find("Dataset404_None"), std::string::npos) << message;
  write("Dataset003_Src/imagesTr/a_0000.nii.gz");
  const std::string dir = path("Dataset003_Src");
  EXPECT_EQ(plugin_status_of([&] { read_dataset(dir); }, &message), SLICENAV_ERR_NOT_FOUND);
  EXPECT_NE(message.find("dataset.json"), std::string::npos) << message;

  const auto error_for = [&](const std::string& dataset_json, std::string* text) {
    write("Dataset003_Src/dataset.json", dataset_json);
    return plugin_status_of([&] { read_dataset(dir); }, text);
  };
  EXPECT_EQ(error_for("{\"channel_names\": ", &message), SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
  // Found by fuzz_nnunet_dataset: a number too large for a double escaped as nlohmann's out_of_range.
  EXPECT_EQ(error_for("{\"numTraining\": 1e999}", &message), SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
  for (const char* key : {"channel_names", "labels", "numTraining", "file_ending"}) {
    json j = two_channel_json(1);
    j.erase(key);
    EXPECT_EQ(error_for(j.dump(), &message), SLICENAV_ERR_INVALID_ARGUMENT) << key;
    EXPECT_NE(message.find(key), std::string::npos) << message;
  }
  json gap = two_channel_json(1);
  gap["channel_names"] = {{"0", "CT"}, {"2", "PET"}};
  EXPECT_EQ(error_for(gap.dump(), &message), SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("channel 1 is missing"), std::string::npos) << message;
  json png = two_channel_json(1);
  png["file_ending"] = ".png";
  EXPECT_EQ(error_for(png.dump(), &message), SLICENAV_ERR_UNSUPPORTED_INPUT);
  EXPECT_NE(message.find(".png"), std::string::npos) << message;
  json v1 = two_channel_json(1);
  v1.erase("channel_names");
  v1["modality"] = {{"0", "CT"}};
  EXPECT_EQ(error_for(v1.dump(), &message), SLICENAV_ERR_UNSUPPORTED_INPUT);
  EXPECT_NE(message.find("nnUNetv2_convert_old_nnUNet_dataset"), std::string::npos) << message;
  json listed = two_channel_json(1);
  listed["dataset"] = json::object();
  EXPECT_EQ(error_for(listed.dump(), &message), SLICENAV_ERR_UNSUPPORTED_INPUT);

  // The same case in imagesTr and imagesTs would give two crop records of one name.
  write("Dataset003_Src/imagesTs/a_0000.nii.gz");
  EXPECT_EQ(error_for(two_channel_json(1).dump(), &message), SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("'a' is in both"), std::string::npos) << message;

  write("Dataset004_Empty/dataset.json", two_channel_json(0).dump());
  write("Dataset004_Empty/imagesTr/readme.txt");
  EXPECT_EQ(plugin_status_of([&] { read_dataset(path("Dataset004_Empty")); }, &message), SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("no case"), std::string::npos) << message;
}

TEST(NnunetDatasetName, ParsesThreeDigitIdAndName) {
  const DatasetName name = parse_dataset_name("/data/nnUNet_raw/Dataset502_Liver_Crop/");
  EXPECT_EQ(name.id, 502);
  EXPECT_EQ(name.name, "Liver_Crop");
  EXPECT_EQ(name.folder(), "Dataset502_Liver_Crop");
  EXPECT_EQ(parse_dataset_name("Dataset007_X").folder(), "Dataset007_X");
  for (const char* bad : {"Dataset52_Liver", "Dataset0502_Liver", "Dataset502_", "Dataset502Liver", "Task502_Liver",
                          "dataset502_Liver", "Dataset5a2_Liver", ""}) {
    std::string message;
    EXPECT_EQ(plugin_status_of([&] { parse_dataset_name(bad); }, &message), SLICENAV_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_NE(message.find("DatasetXXX_Name"), std::string::npos) << message;
  }
}

TEST_F(NnunetDataset, CroppedDatasetJsonKeepsEverythingButTheNameAndRecordsItsOrigin) {
  write("Dataset010_Src/dataset.json", two_channel_json(1).dump());
  write("Dataset010_Src/imagesTr/a_0000.nii.gz");
  const Dataset d = read_dataset(path("Dataset010_Src"));
  const CropProvenance provenance{"Dataset010_Src", "liver", "insertion"};
  const json out = cropped_dataset_json(d, parse_dataset_name("Dataset510_LiverCrop"), provenance);
  json expected = two_channel_json(1);
  expected["name"] = "LiverCrop";
  expected["slicenav_crop"] = {
      {"source", "Dataset010_Src"}, {"region", "liver"}, {"method", "insertion"}, {"crop_records", "crop_records"}};
  EXPECT_EQ(out, expected);

  // Resuming needs the same source, region and method.
  EXPECT_EQ(plugin_status_of([&] { check_resumable(out, provenance, "o"); }), SLICENAV_OK);
  std::string message;
  EXPECT_EQ(plugin_status_of(
                [&] {
                  check_resumable(out, {"Dataset010_Src", "lungs", "insertion"}, "o");
                },
                &message),
            SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("region 'liver'"), std::string::npos) << message;
  EXPECT_NE(message.find("another output folder"), std::string::npos) << message;
  EXPECT_EQ(plugin_status_of([&] {
              check_resumable(out, {"Dataset010_Src", "liver", "score"}, "o");
            }),
            SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(plugin_status_of([&] { check_resumable(two_channel_json(1), provenance, "o"); }, &message),
            SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("did not crop"), std::string::npos) << message;
}

TEST_F(NnunetDataset, OutputIdMustBeUniqueInItsFolder) {
  write("raw/Dataset010_Src/dataset.json");
  write("raw/Dataset011_Other/dataset.json");
  EXPECT_EQ(plugin_status_of([&] { check_unique_id(path("raw/Dataset510_Crop")); }), SLICENAV_OK);
  EXPECT_EQ(plugin_status_of([&] { check_unique_id(path("raw/Dataset510_Crop/")); }), SLICENAV_OK);
  fs::create_directories(path("raw/Dataset510_Crop"));  // resuming: the folder itself does not count
  EXPECT_EQ(plugin_status_of([&] { check_unique_id(path("raw/Dataset510_Crop")); }), SLICENAV_OK);
  std::string message;
  EXPECT_EQ(plugin_status_of([&] { check_unique_id(path("raw/Dataset010_SrcCrop/")); }, &message),
            SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("Dataset010_Src'"), std::string::npos) << message;
  EXPECT_NE(message.find("id 10"), std::string::npos) << message;
}

TEST_F(NnunetDataset, OutputsKeepTheSourceLayoutWithOneRecordPerCase) {
  write("Dataset012_Src/dataset.json", two_channel_json(1).dump());
  write("Dataset012_Src/imagesTr/a_0000.nii.gz");
  write("Dataset012_Src/imagesTs/b_0000.nii.gz");
  const Dataset d = read_dataset(path("Dataset012_Src"));
  const std::string out = path("Dataset512_Crop");
  const CaseOutputs a = case_outputs(d, d.cases[0], out);
  EXPECT_EQ(a.images, (std::vector<std::string>{out + "/imagesTr/a_0000.nii.gz", out + "/imagesTr/a_0001.nii.gz"}));
  EXPECT_EQ(a.label, out + "/labelsTr/a.nii.gz");
  EXPECT_EQ(a.record, out + "/crop_records/a.json");
  const CaseOutputs b = case_outputs(d, d.cases[1], out);
  EXPECT_EQ(b.images, (std::vector<std::string>{out + "/imagesTs/b_0000.nii.gz", out + "/imagesTs/b_0001.nii.gz"}));
  EXPECT_EQ(b.label, "");
  EXPECT_EQ(b.record, out + "/crop_records/b.json");
  EXPECT_EQ(record_path(out + "/crop_records", "b"), b.record);

  prepare_output(d, out);
  for (const char* folder : {"imagesTr", "labelsTr", "imagesTs", "crop_records"}) {
    EXPECT_TRUE(fs::is_directory(fs::path(out) / folder)) << folder;
  }
  write("blocker");
  EXPECT_EQ(plugin_status_of([&] { prepare_output(d, path("blocker/Dataset513_Crop")); }), SLICENAV_ERR_IO);
}

// ---- Cropping and restoring ------------------------------------------------------------------------

// A volume's grid and voxels (float, file index order, x fastest).
struct Image {
  slicenav_volume_info info = slicenav_volume_info_init();
  std::vector<float> voxels;
};

Image read_image(const std::string& path) {
  slicenav_volume* raw = nullptr;
  const slicenav_status status = slicenav_volume_read(&raw, path.c_str(), nullptr);
  const VolumePtr volume(raw, &slicenav_volume_free);
  Image image;
  EXPECT_EQ(status, SLICENAV_OK) << path << ": " << slicenav_last_error();
  if (status != SLICENAV_OK) return image;
  EXPECT_EQ(slicenav_volume_get_info(&image.info, volume.get()), SLICENAV_OK);
  std::size_t n = 0;
  EXPECT_EQ(slicenav_volume_copy_voxels(nullptr, 0, &n, volume.get()), SLICENAV_OK);
  image.voxels.resize(n);
  EXPECT_EQ(slicenav_volume_copy_voxels(image.voxels.data(), n, &n, volume.get()), SLICENAV_OK);
  return image;
}

// Writes `voxels` on `grid`'s geometry to `path` (int16 when they are integers).
void write_on_grid(const slicenav_volume_info& grid, const std::vector<float>& voxels, const std::string& path) {
  slicenav_volume* raw = nullptr;
  ASSERT_EQ(slicenav_volume_from_buffer(&raw, voxels.data(), SLICENAV_PIXEL_FLOAT32, grid.size, grid.spacing,
                                        grid.origin, grid.direction),
            SLICENAV_OK)
      << slicenav_last_error();
  const VolumePtr volume(raw, &slicenav_volume_free);
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_EQ(slicenav_volume_write(path.c_str(), volume.get(), nullptr), SLICENAV_OK) << slicenav_last_error();
}

bool same_grid(const slicenav_volume_info& a, const slicenav_volume_info& b) {
  for (int i = 0; i < 3; ++i) {
    if (a.size[i] != b.size[i] || std::abs(a.spacing[i] - b.spacing[i]) > 1e-4 ||
        std::abs(a.origin[i] - b.origin[i]) > 1e-3) {
      return false;
    }
  }
  for (int i = 0; i < 9; ++i) {
    if (std::abs(a.direction[i] - b.direction[i]) > 1e-5) return false;
  }
  return true;
}

// Where the cropped grid starts in the original grid's indices (same spacing and direction: a crop).
std::vector<long> box_begin(const slicenav_volume_info& original, const slicenav_volume_info& cropped) {
  std::vector<long> begin(3);
  for (int a = 0; a < 3; ++a) {
    double along = 0;
    for (int r = 0; r < 3; ++r) along += original.direction[r * 3 + a] * (cropped.origin[r] - original.origin[r]);
    begin[a] = std::lround(along / original.spacing[a]);
    EXPECT_NEAR(along / original.spacing[a], static_cast<double>(begin[a]), 1e-3) << "axis " << a;
    EXPECT_GE(begin[a], 0) << "axis " << a;
    EXPECT_LE(begin[a] + static_cast<long>(cropped.size[a]), static_cast<long>(original.size[a])) << "axis " << a;
  }
  return begin;
}

// Checks that `cropped` holds exactly original's voxels in the box; returns the box's voxel count.
std::size_t expect_crop_of(const Image& original, const Image& cropped, const std::string& what) {
  const std::vector<long> b = box_begin(original.info, cropped.info);
  const std::size_t* os = original.info.size;
  const std::size_t* cs = cropped.info.size;
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < cs[2]; ++k) {
    for (std::size_t j = 0; j < cs[1]; ++j) {
      for (std::size_t i = 0; i < cs[0]; ++i) {
        const std::size_t o = (i + b[0]) + os[0] * ((j + b[1]) + os[1] * (k + b[2]));
        if (cropped.voxels[i + cs[0] * (j + cs[1] * k)] != original.voxels[o]) ++mismatches;
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << what << ": voxels differ from the original inside the box";
  return cs[0] * cs[1] * cs[2];
}

// The restored map equals `original` inside the cropped box and is 0 outside it.
void expect_restored(const Image& original, const Image& cropped, const Image& restored, const std::string& what) {
  ASSERT_TRUE(same_grid(original.info, restored.info)) << what << ": restored on another grid";
  const std::vector<long> b = box_begin(original.info, cropped.info);
  const std::size_t* s = original.info.size;
  std::size_t inside_wrong = 0, outside_wrong = 0, inside_labelled = 0;
  for (std::size_t k = 0; k < s[2]; ++k) {
    for (std::size_t j = 0; j < s[1]; ++j) {
      for (std::size_t i = 0; i < s[0]; ++i) {
        const std::size_t v = i + s[0] * (j + s[1] * k);
        const bool inside =
            static_cast<long>(i) >= b[0] && static_cast<long>(i) < b[0] + static_cast<long>(cropped.info.size[0]) &&
            static_cast<long>(j) >= b[1] && static_cast<long>(j) < b[1] + static_cast<long>(cropped.info.size[1]) &&
            static_cast<long>(k) >= b[2] && static_cast<long>(k) < b[2] + static_cast<long>(cropped.info.size[2]);
        if (inside) {
          inside_wrong += restored.voxels[v] != original.voxels[v];
          inside_labelled += original.voxels[v] != 0;
        } else {
          outside_wrong += restored.voxels[v] != 0;
        }
      }
    }
  }
  EXPECT_EQ(inside_wrong, 0u) << what << ": restored labels differ from the original inside the box";
  EXPECT_EQ(outside_wrong, 0u) << what << ": restored labels are not 0 outside the box";
  EXPECT_GT(inside_labelled, 0u) << what << ": no label inside the box: the check would be empty";
}

ModelPtr load_default_model() {
  slicenav_model* raw = nullptr;
  const slicenav_status status = slicenav_model_load(&raw, nullptr);
  EXPECT_EQ(status, SLICENAV_OK) << slicenav_last_error();
  return ModelPtr(raw, &slicenav_model_free);
}

slicenav_crop_params crop_params(const char* region) {
  slicenav_crop_params params = slicenav_crop_default_params();
  params.region = region;
  return params;
}

// Crops every case of the dataset at `dir` into `out` and checks each one: every channel and the label map
// on one cropped grid, each holding its own source voxels inside the box; a record per case; no staging
// left; and the label map (the last channel for test cases) restored through the record equal to the
// source inside the box and 0 outside. Returns the names of the partly covered cases.
std::vector<std::string> crop_and_check(const slicenav_model* model, const std::string& dir, const std::string& out,
                                        const char* region) {
  const Dataset d = read_dataset(dir);
  prepare_output(d, out);
  std::vector<std::string> partial;
  for (const Case& c : d.cases) {
    SCOPED_TRACE(c.name);
    CropOutcome outcome;
    std::string message;
    EXPECT_EQ(plugin_status_of([&] { outcome = crop_case(model, d, c, out, crop_params(region)); }, &message),
              SLICENAV_OK)
        << message;
    if (outcome.partial) partial.push_back(c.name);
    const CaseOutputs outputs = case_outputs(d, c, out);
    EXPECT_TRUE(fs::exists(outputs.record));
    EXPECT_FALSE(fs::exists(staging_dir(out, c.name)));

    std::vector<std::string> sources = c.images, cropped_paths = outputs.images;
    if (!c.label.empty()) {
      sources.push_back(c.label);
      cropped_paths.push_back(outputs.label);
    }
    Image first_cropped;
    for (std::size_t f = 0; f < sources.size(); ++f) {
      const Image source = read_image(sources[f]);
      const Image cropped = read_image(cropped_paths[f]);
      if (f == 0) first_cropped = cropped;
      EXPECT_TRUE(same_grid(first_cropped.info, cropped.info)) << cropped_paths[f] << " is not on channel 0's grid";
      EXPECT_LT(expect_crop_of(source, cropped, cropped_paths[f]), source.voxels.size())
          << "the box is the whole scan: the check would not see a wrong box";
      if (f + 1 == sources.size()) {
        const std::string restored_path = out + "/restored/" + c.name + d.file_ending;
        fs::create_directories(out + "/restored");
        EXPECT_EQ(plugin_status_of(
                      [&] { restore_case(out + "/crop_records", c.name, cropped_paths[f], restored_path); }, &message),
                  SLICENAV_OK)
            << message;
        expect_restored(source, cropped, read_image(restored_path), c.name);
      }
    }
  }
  return partial;
}

// Phantom case `name` of `folder` ("imagesTr" or "imagesTs"): channel 0 a phantom CT, channel 1 the same
// anatomy with noise, and for training cases a label map with a distinct value pattern.
void write_phantom_case(const std::string& dir, const std::string& folder, const std::string& name, std::size_t slices,
                        double top_z, const char* orientation) {
  for (int channel = 0; channel < 2; ++channel) {
    slicenav_phantom_params params = slicenav_phantom_default_params();
    params.size[0] = 64;
    params.size[1] = 64;
    params.size[2] = slices;
    params.spacing[0] = params.spacing[1] = 4;
    params.spacing[2] = 5;
    std::snprintf(params.orientation, sizeof params.orientation, "%s", orientation);
    params.top_z_mm = top_z;
    params.noise_hu = channel == 0 ? 0 : 25;
    params.seed = 3;
    slicenav_volume* raw = nullptr;
    ASSERT_EQ(slicenav_phantom_create(&raw, &params), SLICENAV_OK) << slicenav_last_error();
    const VolumePtr volume(raw, &slicenav_volume_free);
    const std::string path = dir + "/" + folder + "/" + name + (channel == 0 ? "_0000" : "_0001") + ".nii.gz";
    fs::create_directories(dir + "/" + folder);
    ASSERT_EQ(slicenav_volume_write(path.c_str(), volume.get(), nullptr), SLICENAV_OK) << slicenav_last_error();
    if (channel == 0 && folder == "imagesTr") {
      slicenav_volume_info info = slicenav_volume_info_init();
      ASSERT_EQ(slicenav_volume_get_info(&info, volume.get()), SLICENAV_OK);
      std::vector<float> label(info.size[0] * info.size[1] * info.size[2]);
      for (std::size_t v = 0; v < label.size(); ++v) label[v] = static_cast<float>((v * 7 + v / 4096) % 3);
      write_on_grid(info, label, dir + "/labelsTr/" + name + ".nii.gz");
    }
  }
}

// Two training phantoms and one test phantom whose liver boxes differ (partly and fully covered).
std::string write_phantom_dataset(const fs::path& root) {
  const std::string dir = (root / "Dataset901_Phantoms").string();
  fs::create_directories(dir);
  std::ofstream(dir + "/dataset.json") << two_channel_json(2).dump(2);
  write_phantom_case(dir, "imagesTr", "p1", 60, 0, "RAI");
  write_phantom_case(dir, "imagesTr", "p2", 90, 50, "LPS");
  write_phantom_case(dir, "imagesTs", "t1", 60, -20, "LPS");
  return dir;
}

using NnunetCrop = NnunetTest;

TEST_F(NnunetCrop, PhantomCasesCropEveryChannelAndLabelToOneBoxAndRestore) {
  const std::string dir = write_phantom_dataset(dir_);
  const ModelPtr model = load_default_model();
  ASSERT_NE(model, nullptr);
  const std::vector<std::string> partial = crop_and_check(model.get(), dir, path("Dataset902_Crop"), "liver");
  EXPECT_EQ(partial, (std::vector<std::string>{"p1", "t1"}));  // p2 holds the whole liver
}

TEST_F(NnunetCrop, FailedCasesLeaveNoFiles) {
  const std::string dir = write_phantom_dataset(dir_);
  const ModelPtr model = load_default_model();
  ASSERT_NE(model, nullptr);
  const std::string out = path("Dataset903_Crop");
  const auto folder_is_empty = [&](const char* folder) { return fs::is_empty(fs::path(out) / folder); };
  const auto expect_failure = [&](slicenav_status status, const std::string& part) {
    const Dataset d = read_dataset(dir);
    prepare_output(d, out);
    std::string message;
    EXPECT_EQ(plugin_status_of([&] { crop_case(model.get(), d, d.cases[0], out, crop_params("liver")); }, &message),
              status);
    EXPECT_NE(message.find(part), std::string::npos) << message;
    for (const char* folder : {"imagesTr", "labelsTr", "crop_records"}) EXPECT_TRUE(folder_is_empty(folder)) << folder;
    EXPECT_FALSE(fs::exists(staging_dir(out, "p1")));
  };

  // A second channel on another grid (one slice fewer): its case fails, nothing is written.
  const Image channel1 = read_image(dir + "/imagesTr/p1_0001.nii.gz");
  slicenav_volume_info shorter = channel1.info;
  shorter.size[2] -= 1;
  write_on_grid(shorter,
                std::vector<float>(channel1.voxels.begin(),
                                   channel1.voxels.begin() + static_cast<std::ptrdiff_t>(
                                                                 shorter.size[0] * shorter.size[1] * shorter.size[2])),
                dir + "/imagesTr/p1_0001.nii.gz");
  expect_failure(SLICENAV_ERR_INVALID_ARGUMENT, "channel 1 ('CT_copy')");

  // A missing channel or label is NOT_FOUND, naming it.
  fs::remove(dir + "/imagesTr/p1_0001.nii.gz");
  expect_failure(SLICENAV_ERR_NOT_FOUND, "missing channel 1 ('CT_copy')");
  write_phantom_case(dir, "imagesTr", "p1", 60, 0, "RAI");
  fs::remove(dir + "/labelsTr/p1.nii.gz");
  expect_failure(SLICENAV_ERR_NOT_FOUND, "missing label map");
  write_phantom_case(dir, "imagesTr", "p1", 60, 0, "RAI");

  // labelsTr unwritable (a file in its place): the images already moved into place are taken back.
  fs::remove_all(fs::path(out) / "labelsTr");
  std::ofstream(fs::path(out) / "labelsTr") << "not a folder";
  const Dataset d = read_dataset(dir);
  std::string message;
  EXPECT_EQ(plugin_status_of([&] { crop_case(model.get(), d, d.cases[0], out, crop_params("liver")); }, &message),
            SLICENAV_ERR_IO);
  EXPECT_NE(message.find("labelsTr/p1.nii.gz"), std::string::npos) << message;
  EXPECT_TRUE(folder_is_empty("imagesTr"));
  EXPECT_TRUE(folder_is_empty("crop_records"));
  EXPECT_FALSE(fs::exists(staging_dir(out, "p1")));
}

TEST_F(NnunetCrop, RestoreNeedsTheRecordAndTheCroppedGrid) {
  const std::string dir = write_phantom_dataset(dir_);
  const ModelPtr model = load_default_model();
  ASSERT_NE(model, nullptr);
  const std::string out = path("Dataset904_Crop");
  const Dataset d = read_dataset(dir);
  prepare_output(d, out);
  ASSERT_EQ(plugin_status_of([&] { crop_case(model.get(), d, d.cases[0], out, crop_params("liver")); }), SLICENAV_OK);
  std::string message;
  EXPECT_EQ(
      plugin_status_of(
          [&] { restore_case(out + "/crop_records", "p2", out + "/labelsTr/p1.nii.gz", path("r.nii.gz")); }, &message),
      SLICENAV_ERR_NOT_FOUND);
  EXPECT_NE(message.find("no crop record"), std::string::npos) << message;
  EXPECT_NE(message.find("p2.json"), std::string::npos) << message;
  // The uncropped label is on the original grid, not the cropped one.
  EXPECT_EQ(plugin_status_of([&] { restore_case(out + "/crop_records", "p1", d.cases[0].label, path("r.nii.gz")); },
                             &message),
            SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find(d.cases[0].label), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(path("r.nii.gz")));
}

// Real CT: two training cases with manual (IRCAD) and TotalSegmentator liver masks as labels, and a test case,
// cropped to the liver.
TEST_F(NnunetCrop, RealCtCasesCropEveryChannelAndLabelToOneBoxAndRestore) {
  SLICENAV_REQUIRE_DATA(ircad17, "ct/ircad_1_17");
  SLICENAV_REQUIRE_DATA(ts, "ct/ts_example_ct");
  SLICENAV_REQUIRE_DATA(ircad01, "ct/ircad_1_01/ct.nii.gz");
  const std::string dir = path("Dataset905_Real");
  fs::create_directories(dir + "/imagesTr");
  fs::create_directories(dir + "/imagesTs");
  fs::create_directories(dir + "/labelsTr");
  json j = two_channel_json(2);
  j["labels"] = {{"background", 0}, {"liver", 1}, {"spleen", 2}};
  std::ofstream(dir + "/dataset.json") << j.dump(2);
  for (const auto& [name, source] : {std::pair{"ircad17", ircad17}, std::pair{"ts", ts}}) {
    for (const char* channel : {"_0000", "_0001"}) {
      fs::copy_file(source + "/ct.nii.gz", dir + "/imagesTr/" + name + channel + ".nii.gz");
    }
  }
  for (const char* channel : {"_0000", "_0001"})
    fs::copy_file(ircad01, dir + "/imagesTs/ircad01" + channel + ".nii.gz");
  fs::copy_file(ircad17 + "/masks/liver.nii.gz", dir + "/labelsTr/ircad17.nii.gz");  // uint8, kept
  Image liver = read_image(ts + "/masks/liver.nii.gz");
  const Image spleen = read_image(ts + "/masks/spleen.nii.gz");
  for (std::size_t v = 0; v < liver.voxels.size(); ++v) liver.voxels[v] += 2 * spleen.voxels[v];
  write_on_grid(liver.info, liver.voxels, dir + "/labelsTr/ts.nii.gz");

  const ModelPtr model = load_default_model();
  ASSERT_NE(model, nullptr);
  const std::vector<std::string> partial = crop_and_check(model.get(), dir, path("Dataset906_RealCrop"), "liver");
  // ts_example_ct starts inside the liver; ircad_1_01 starts 6.4 mm above its liver dome (annotated at 198.4 mm,
  // first slice 204.8 mm), inside the liver region's 10 mm margin above the dome.
  EXPECT_EQ(partial, (std::vector<std::string>{"ts", "ircad01"}));
}

}  // namespace
}  // namespace slicenav::nnunet
