// Cropping one nnU-Net case to a region, and pasting one prediction back into its original grid, through
// the C API's crop records (slicenav_crop_record_plan, slicenav_crop_record_crop_file,
// slicenav_crop_record_uncrop_file).
#pragma once

#include <string>

#include "slicenav.h"
#include "slicenav/nnunet/dataset.hpp"

namespace slicenav::nnunet {

// Creates the folders of a cropped dataset under `out_dir` (itself included): imagesTr, labelsTr,
// crop_records, and imagesTs when the source has test cases. Throws Error(IO) naming the folder that
// cannot be made.
void prepare_output(const Dataset& dataset, const std::string& out_dir);

struct CropOutcome {
  bool partial = false;  // the region is only partly in the scan; the crop holds the part that exists
};

// Crops case `c` of `dataset` into `out_dir` (prepared by prepare_output). The box is planned on channel
// 0 (read as CT) with `params`; every channel and the label map are cut to that same box, keeping their
// voxel types. They are written into staging_dir(out_dir, c.name), moved into place once all of them
// exist, and the crop record is written last: a case is complete exactly when its record exists, and a
// failure (or a kill) leaves none of its files in imagesTr/labelsTr/imagesTs beyond what an earlier run
// had. `model` is only read, so several threads may crop different cases with the same model.
// Throws Error: NOT_FOUND (a missing channel or label file, named with its channel), INVALID_ARGUMENT (a
// channel or the label not on channel 0's grid; a problem found when listing the case), UNSUPPORTED_INPUT
// (channel 0 is not CT; the region is not in the scan), IO; the message names the file.
// `write` says how the images are written (nullable: the defaults).
CropOutcome crop_case(const slicenav_model* model, const Dataset& dataset, const Case& c, const std::string& out_dir,
                      const slicenav_crop_params& params, const slicenav_write_params* write = nullptr);

// The crop record of `case_name` in `records_dir`: <records_dir>/<case_name>.json.
std::string record_path(const std::string& records_dir, const std::string& case_name);

// Pastes `prediction` (on the cropped grid of case `case_name`) back into the case's original grid,
// background 0, voxel type kept, and writes it atomically to `out_path`. Throws Error: NOT_FOUND (no record
// for the case, or no prediction file), INVALID_ARGUMENT (a damaged record; a prediction not on the
// record's cropped grid), IO, UNSUPPORTED_INPUT; the message names the file.
void restore_case(const std::string& records_dir, const std::string& case_name, const std::string& prediction,
                  const std::string& out_path, const slicenav_write_params* write = nullptr);

}  // namespace slicenav::nnunet
