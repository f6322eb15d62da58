// A small synthetic CT series written with GDCM, for tests of damaged DICOM input that must run without the data
// folder: slices of a water cylinder in air, one file per slice, head first.
#pragma once

#include <gdcmAttribute.h>
#include <gdcmImage.h>
#include <gdcmImageWriter.h>
#include <gdcmUIDGenerator.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace slicenav::test {

struct DicomSeriesOptions {
  unsigned size = 32;  // rows = columns
  unsigned slices = 8;
  double pixel_mm = 10.0;
  double step_mm = 5.0;    // ImagePositionPatient z step between files
  std::string series_uid;  // "" = a new UID
  std::string prefix = "slice";
  double slope = 1.0;        // RescaleSlope of the files from slope_from on (the others: 1)
  unsigned slope_from = 0;
};

// Writes the series into `directory` (which must exist) as prefix_000.dcm, prefix_001.dcm, ... and returns the paths.
inline std::vector<std::string> write_dicom_series(const std::string& directory, const DicomSeriesOptions& o = {}) {
  gdcm::UIDGenerator uids;
  const std::string series = o.series_uid.empty() ? std::string(uids.Generate()) : o.series_uid;
  const std::string study = uids.Generate();
  std::vector<std::string> paths;
  for (unsigned k = 0; k < o.slices; ++k) {
    gdcm::ImageWriter writer;
    gdcm::Image& image = writer.GetImage();
    image.SetNumberOfDimensions(2);
    image.SetDimension(0, o.size);
    image.SetDimension(1, o.size);
    image.SetPixelFormat(gdcm::PixelFormat::INT16);
    image.SetPhotometricInterpretation(gdcm::PhotometricInterpretation::MONOCHROME2);
    image.SetSpacing(0, o.pixel_mm);
    image.SetSpacing(1, o.pixel_mm);
    image.SetOrigin(0, 0.0);
    image.SetOrigin(1, 0.0);
    image.SetOrigin(2, -o.step_mm * k);
    image.SetIntercept(-1024.0);
    image.SetSlope(k >= o.slope_from ? o.slope : 1.0);
    std::vector<std::int16_t> pixels(std::size_t(o.size) * o.size);
    const double c = (o.size - 1) / 2.0;
    for (unsigned y = 0; y < o.size; ++y) {
      for (unsigned x = 0; x < o.size; ++x) {
        const bool inside = (x - c) * (x - c) + (y - c) * (y - c) < 0.16 * o.size * o.size;
        pixels[std::size_t(y) * o.size + x] = static_cast<std::int16_t>(inside ? 1024 + (k % 2) : 24);
      }
    }
    gdcm::DataElement pixel_data(gdcm::Tag(0x7fe0, 0x0010));
    pixel_data.SetByteValue(reinterpret_cast<const char*>(pixels.data()),
                            static_cast<std::uint32_t>(pixels.size() * sizeof(std::int16_t)));
    image.SetDataElement(pixel_data);
    gdcm::DataSet& ds = writer.GetFile().GetDataSet();
    // Values are padded to even length: UIDs with NUL, text with a space.
    const auto put = [&](std::uint16_t group, std::uint16_t element, const std::string& value, char pad = ' ') {
      gdcm::DataElement e(gdcm::Tag(group, element));
      std::string padded = value;
      if (padded.size() % 2) padded += pad;
      e.SetByteValue(padded.data(), static_cast<std::uint32_t>(padded.size()));
      ds.Replace(e);
    };
    put(0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2", '\0');  // CT Image Storage
    put(0x0008, 0x0018, uids.Generate(), '\0');
    put(0x0008, 0x0060, "CT");
    put(0x0018, 0x0050, std::to_string(o.step_mm));
    put(0x0018, 0x5100, "HFS");
    put(0x0020, 0x000d, study, '\0');
    put(0x0020, 0x000e, series, '\0');
    put(0x0028, 0x0004, "MONOCHROME2");
    put(0x0020, 0x0013, std::to_string(k + 1));
    writer.GetFile().GetHeader().SetDataSetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
    char name[32];
    std::snprintf(name, sizeof name, "_%03u.dcm", k);
    const std::string path = directory + "/" + o.prefix + name;
    writer.SetFileName(path.c_str());
    if (!writer.Write()) throw std::runtime_error("cannot write the test DICOM file " + path);
    paths.push_back(path);
  }
  return paths;
}

}  // namespace slicenav::test
