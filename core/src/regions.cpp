#include "slicenav/regions.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "slicenav/error.hpp"

namespace slicenav {
namespace {

using nlohmann::json;

// The bundled region table: spans of the atlas axis (offsets in atlas mm, superior positive). Head and
// neck's superior end lies above the skull base, beyond most templates, so it is often extrapolated (see
// coverage()).
// The last four fields are ROI cropping's margins (superior, inferior atlas mm; in-plane mm) and whether an
// unrecognised scan keeps all its slices. The z margins come from benchmarks/crop_benchmark.cpp (section
// "Cropping" of docs/benchmarks.md): pelvis on manual pelvic contours, head-neck on the skull base and C7.
const std::vector<Region>& bundled_regions() {
  static const std::vector<Region> table{
      {"lungs", "both lungs, apex to base", "lung_apex", 10, "lung_base", -10,  //
       50, 50, 10, false},
      {"heart", "heart, top to bottom", "heart_top", 10, "heart_bottom", -10,  //
       50, 50, 10, false},
      {"liver", "liver, dome to the kidneys' lower end (the liver's lower tip lies about there)", "liver_dome", 10,
       "kidney_lower_end", 0,  //
       50, 50, 10, false},
      {"kidneys", "both kidneys: 130 mm above the lower end to just below it", "kidney_lower_end", 130,
       "kidney_lower_end", -10,  //
       50, 60, 10, false},
      {"abdomen", "diaphragm (liver dome) to the iliac crests (about 20 mm below the kidneys' lower end)", "liver_dome",
       10, "kidney_lower_end", -20,  //
       50, 50, 10, false},
      {"pelvis", "iliac crests to 80 mm below the femoral head tops", "kidney_lower_end", -10, "femur_head_top", -80,
       50, 70, 10, false},
      {"head-neck", "100 mm above the skull base (orbits, brainstem) to the lung apex", "skull_base", 100, "lung_apex",
       -20,  //
       50, 50, 10, true},
  };
  return table;
}

}  // namespace

std::vector<Region> regions(const Model& model) {
  const json section = json::parse(model.metadata_section("regions"));
  if (section.is_null()) return bundled_regions();
  std::vector<Region> out;
  try {
    for (const auto& r : section) {
      Region region{r.at("name").get<std::string>(),
                    r.value("description", std::string()),
                    r.at("superior_landmark").get<std::string>(),
                    r.at("superior_offset_mm").get<double>(),
                    r.at("inferior_landmark").get<std::string>(),
                    r.at("inferior_offset_mm").get<double>()};
      // Crop margins are optional: a model made before ROI cropping gets the bundled region's (or none).
      const auto bundled = std::find_if(bundled_regions().begin(), bundled_regions().end(),
                                        [&](const Region& b) { return b.name == region.name; });
      const Region defaults = bundled != bundled_regions().end() ? *bundled : Region{};
      region.crop_superior_margin_mm = r.value("crop_superior_margin_mm", defaults.crop_superior_margin_mm);
      region.crop_inferior_margin_mm = r.value("crop_inferior_margin_mm", defaults.crop_inferior_margin_mm);
      region.crop_in_plane_margin_mm = r.value("crop_in_plane_margin_mm", defaults.crop_in_plane_margin_mm);
      region.crop_unrecognised_keeps_all_slices =
          r.value("crop_unrecognised_keeps_all_slices", defaults.crop_unrecognised_keeps_all_slices);
      out.push_back(std::move(region));
    }
  } catch (const json::exception& e) {
    fail(Status::model_format, std::string("the model's \"regions\" section is malformed: ") + e.what());
  }
  return out;
}

Region find_region(const Model& model, const std::string& name) {
  const auto all = regions(model);
  std::string known;
  for (const auto& r : all) {
    if (r.name == name) return r;
    known += (known.empty() ? "" : ", ") + r.name;
  }
  fail(Status::invalid_argument, "unknown region '" + name + "'; known regions: " + known);
}

}  // namespace slicenav
