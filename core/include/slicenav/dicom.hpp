// DICOM series directories: list the series a directory holds and read one as a Volume.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "slicenav/io.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

struct DicomSeries {
  std::string series_uid;
  std::string modality;
  std::string description;
  std::size_t file_count = 0;
};

// Every series with image files in `directory` (not recursive). Throws Error(not_found) when the
// directory does not exist and Error(unsupported_input) when it holds no DICOM image file.
std::vector<DicomSeries> list_dicom_series(const std::string& directory);

// Reads one series. Chooses options.series_uid when given, else the only CT series (non-image objects
// such as RTSTRUCT are ignored). Several CT series without a choice is Error(unsupported_input) listing
// them. Slices are sorted by position along the slice normal; rescale slope/intercept is applied.
// Warnings: modality is not CT, gantry tilt (degrees), uneven or missing slices (spacing min/max),
// duplicate slice positions.
Volume read_dicom_series(const std::string& directory, const ReadOptions& options = {});

}  // namespace slicenav
