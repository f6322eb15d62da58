// Fuzzes the nnU-Net dataset reader: the input is dataset.json of a dataset folder that holds two cases.
#include <filesystem>

#include "fuzz_support.hpp"
#include "slicenav/nnunet/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path dir = [] {
    const auto d = slicenav::fuzz::scratch("nnunet") / "Dataset001_Fuzz";
    for (const char* folder : {"imagesTr", "labelsTr", "imagesTs"}) std::filesystem::create_directories(d / folder);
    for (const char* file : {"imagesTr/a_0000.nii.gz", "imagesTr/a_0001.nii.gz", "labelsTr/a.nii.gz",
                             "imagesTr/b_0000.nii.gz", "labelsTr/b.nii.gz", "imagesTs/c_0000.nii.gz"}) {
      slicenav::fuzz::write_file(d / file, nullptr, 0);
    }
    return d;
  }();
  slicenav::fuzz::write_file(dir / "dataset.json", data, size);
  try {
    slicenav::nnunet::read_dataset(dir.string());
  } catch (const slicenav::nnunet::Error&) {
  }
  return 0;
}
