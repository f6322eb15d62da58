// Named anatomical regions (lungs, heart, liver, kidneys, abdomen, pelvis, head-neck) as spans of the
// model's atlas axis between two landmarks, with the margins ROI cropping adds. Locating a region's ends in a
// scan and judging its coverage are in navigation.hpp.
#pragma once

#include <string>
#include <vector>

#include "slicenav/model.hpp"

namespace slicenav {

// A named anatomical region as a span of the atlas axis: from a landmark (plus an offset, superior
// positive) down to another.
struct Region {
  std::string name;
  std::string description;
  std::string superior_landmark;
  double superior_offset_mm = 0;
  std::string inferior_landmark;
  double inferior_offset_mm = 0;
  // ROI cropping (crop.hpp): how far beyond the located ends the crop reaches along the atlas axis (atlas mm,
  // calibrated for recall, docs/crop.md), the in-plane margin around the body (mm), and whether a scan the
  // model does not recognise is still cropped, keeping every slice, instead of refused.
  double crop_superior_margin_mm = 0;
  double crop_inferior_margin_mm = 0;
  double crop_in_plane_margin_mm = 0;
  bool crop_unrecognised_keeps_all_slices = false;
};

// The regions the model knows: its "regions" metadata section when it has one, else the bundled table.
std::vector<Region> regions(const Model& model);
// Throws Error(invalid_argument) naming the known regions when `name` is not one of them.
Region find_region(const Model& model, const std::string& name);

}  // namespace slicenav
