// Writes the seed corpus of every fuzz target into OUT/<target>/: the same small inputs the tests use (phantom
// volumes in each format, hand-made NIfTI headers, a DICOM slice of the fuzzed series, a tiny model, the bundled
// model's organ templates, a crop record,
// an nnU-Net dataset.json, a batch list and the bundled elastix parameter presets).
//   fuzz_seeds OUT
#include <filesystem>
#include <fstream>
#include <iostream>

#include "crop_fixtures.hpp"
#include "dicom_series.hpp"
#include "file_text.hpp"
#include "model_fixtures.hpp"
#include "nifti_bytes.hpp"
#include "slicenav/ape.hpp"
#include "slicenav/crop.hpp"
#include "slicenav/elastix/parameters.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/phantom.hpp"

namespace fs = std::filesystem;
using namespace slicenav;
using test::read_text;

namespace {

void seed(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds OUT\n";
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path work = out / ".work";
  fs::create_directories(work);

  // volume: the first byte picks the format (0 .nii, 1 .nii.gz, 2 .mha, 3 .nrrd).
  PhantomOptions options;
  options.size = {12, 10, 6};
  options.spacing = {30.0, 30.0, 40.0};
  options.orientation = "LPS";
  const Volume phantom = make_phantom(options).volume;
  const char* const names[] = {"p.nii", "p.nii.gz", "p.mha", "p.nrrd"};
  for (char format = 0; format < 4; ++format) {
    write_volume(phantom, (work / names[int(format)]).string());
    seed(out / "volume", std::string("phantom_") + names[int(format)], format + read_text(work / names[int(format)]));
  }
  test::NiftiFile handmade;
  handmade.big_endian = true;
  seed(out / "volume", "handmade_big_endian.nii", '\0' + test::nifti_bytes(handmade));

  // dicom: one more slice of the series the target holds.
  test::DicomSeriesOptions dicom;
  dicom.size = 16;
  dicom.slices = 5;
  dicom.series_uid = "1.2.826.0.1.3680043.2.1125.1";
  fs::create_directories(work / "dicom");
  const auto slices = test::write_dicom_series((work / "dicom").string(), dicom);
  seed(out / "dicom", "slice.dcm", read_text(slices.back()));

  // model: a tiny fresh model with an atlas section.
  Model model(test::tiny_model_config(), 1);
  model.save((work / "tiny.snm").string());
  seed(out / "model", "tiny.snm", read_text(work / "tiny.snm"));

  // ape_organs: the bundled model's organ templates.
  const Model bundled = Model::load(default_model_path());
  seed(out / "ape_organs", "bundled.json", ape_organs_to_json(ape_organs(bundled)));

  // crop_record: a liver record of the bundled model on a small grid.
  const CropRecord record = test::small_crop_record(find_region(bundled, "liver"));
  seed(out / "crop_record", "liver.json", record.to_json());

  seed(out / "nnunet_dataset", "dataset.json",
       R"({"channel_names": {"0": "CT", "1": "PET"}, "labels": {"background": 0, "liver": 1}, "numTraining": 2,)"
       R"( "file_ending": ".nii.gz"})");
  for (const std::string& name : elastix::preset_names()) {
    seed(out / "elastix_parameters", name + ".txt", read_text(elastix::preset_path(name)));
  }
  seed(out / "batch_list", "cases.txt", "# cases\n/data/a.nii.gz\n  b.mha  \n\ndicom/case_3/\n");
  fs::remove_all(work);
  return 0;
}
