// Fuzzes the DICOM series reader through one mutated slice among good ones: a fixed series of good slices (written
// once per process) plus the input as one more file in the same directory.
#include <filesystem>

#include "dicom_series.hpp"
#include "fuzz_support.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path dir = [] {
    const auto d = slicenav::fuzz::scratch("dicom") / "series";
    std::filesystem::create_directories(d);
    slicenav::test::DicomSeriesOptions options;
    options.size = 16;
    options.slices = 4;
    options.series_uid = "1.2.826.0.1.3680043.2.1125.1";
    slicenav::test::write_dicom_series(d.string(), options);
    return d;
  }();
  slicenav::fuzz::write_file(dir / "mutated.dcm", data, size);
  try {
    slicenav::read_volume(dir.string());
  } catch (const slicenav::Error&) {
  }
  return 0;
}
