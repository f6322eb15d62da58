// Key slices of a prepared scan as users get them: the model's answers (navigation.cpp) checked against the
// anatomical order, sharpened by the key slices measured in the image, and the ends of regions and their
// coverage.
#include <algorithm>
#include <cmath>

#include "slicenav/error.hpp"
#include "slicenav/navigation.hpp"

namespace slicenav {
namespace {

std::vector<std::pair<std::string, double>> atlas_landmarks(const Model& model) {
  const Atlas& atlas = model.atlas();
  if (atlas.position_mm.empty()) fail(Status::unsupported_input, "the model has no anatomical atlas");
  std::vector<std::pair<std::string, double>> out(atlas.position_mm.begin(), atlas.position_mm.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

// The scan's own anatomical map: through the landmarks located inside it, keeping those whose order and
// spacing agree with the atlas (AnatomicalMap's outlier rules).
AnatomicalMap scan_map_of(const Model& model, const std::vector<LocatedLandmark>& located) {
  std::vector<Landmark> inside;
  for (const auto& l : located) {
    if (l.votes > 0 && l.position.where == InsertedSlice::Where::inside)
      inside.push_back({l.name, l.position.world_z_mm});
  }
  return AnatomicalMap::fit(inside, model.atlas());
}

// Templates vote for each landmark on their own, so a few landmarks can come back out of anatomical order
// (on a pelvis scan, the skull base inside it while the lung apex lies above it). Answers are replaced, with
// confidence 0, when the scan's other answers contradict them:
//   1. order: an answer inside the scan, or below it, for a position superior in the atlas to a landmark
//      answered above the scan is above it too (and the converse for below);
//   2. map: an answer that the scan's map (through at least two consistent landmarks inside it) contradicts
//      by more than kOrderToleranceMm is replaced by the map's position: inside but that far from the map,
//      or above (below) the scan where the map puts it that far inside.
// Answers measured in the image are kept. Returns that map, fitted to `landmarks` after rule 1.
constexpr double kOrderToleranceMm = 30.0;

AnatomicalMap enforce_anatomical_order(const Model& model, const PreparedScan& scan,
                                       const std::vector<LocatedLandmark>& landmarks,
                                       std::vector<LocatedLandmark>& answers) {
  double lowest_above = HUGE_VAL, highest_below = -HUGE_VAL;  // atlas mm
  for (const auto& l : landmarks) {
    if (l.votes == 0) continue;
    if (l.position.where == InsertedSlice::Where::above) lowest_above = std::min(lowest_above, l.atlas_mm);
    if (l.position.where == InsertedSlice::Where::below) highest_below = std::max(highest_below, l.atlas_mm);
  }
  for (auto& l : answers) {
    if (l.votes == 0 || l.measured) continue;
    const auto where = l.atlas_mm > lowest_above    ? InsertedSlice::Where::above
                       : l.atlas_mm < highest_below ? InsertedSlice::Where::below
                                                    : l.position.where;
    if (where == l.position.where) continue;
    l.position = ScanPosition{};
    l.position.where = where;
    l.confidence = 0.0f;
  }
  AnatomicalMap map = scan_map_of(model, landmarks);
  if (!map.valid() || map.used().size() < 2) return map;
  const double top = scan.mapping.world_z(0.0);
  const double bottom = scan.mapping.world_z(static_cast<double>(scan.slice_count()) - 1.0);
  for (auto& l : answers) {
    if (l.votes == 0 || l.measured) continue;
    const double z = map.to_world(l.atlas_mm);
    const bool contradicted = l.position.where == InsertedSlice::Where::inside
                                  ? std::abs(l.position.world_z_mm - z) > kOrderToleranceMm
                              : l.position.where == InsertedSlice::Where::above ? z < top - kOrderToleranceMm
                                                                                : z > bottom + kOrderToleranceMm;
    if (!contradicted) continue;
    l.position = position_at_z(scan, z);
    l.confidence = 0.0f;
  }
  return map;
}

// Replaces each answer within the window of the same key slice measured in the image (window_mm) by the
// measurement. An answer above (below) the scan is compared through the scan's first (last) slice.
void refine_by_measurement(const PreparedScan& scan, std::vector<LocatedLandmark>& located) {
  const double top = scan.mapping.world_z(0.0);
  const double bottom = scan.mapping.world_z(static_cast<double>(scan.slice_count()) - 1.0);
  for (auto& l : located) {
    if (l.measured) continue;
    const auto m = std::find_if(scan.measured.begin(), scan.measured.end(),
                                [&](const MeasuredKeySlice& k) { return k.name == l.name; });
    if (m == scan.measured.end()) continue;
    const double learned = l.position.where == InsertedSlice::Where::inside  ? l.position.world_z_mm
                           : l.position.where == InsertedSlice::Where::above ? top
                                                                             : bottom;
    if (std::abs(m->world_z_mm - learned) > m->window_mm) continue;
    l.position = position_at_z(scan, m->world_z_mm);
    l.measured = true;
  }
}

// C7 is not crisp in CT, but the skull base above it and the lung apex below it are. When both were measured,
// C7 is placed between them at its atlas fraction (the scan's own map through the two): on the development
// scans that show all three, 7.2 mm from the annotations (the model alone: 14.5 mm on validation,
// docs/model-card.md). Other landmarks between measured ones keep the model's answer, which measured better.
struct Bracketed {
  const char* name;
  const char* above;
  const char* below;
};
constexpr Bracketed kBracketedByMeasurements[] = {{"c7", "skull_base", "lung_apex"}};

void place_between_measurements(const PreparedScan& scan, std::vector<LocatedLandmark>& located) {
  const auto find = [&](const char* name) -> LocatedLandmark* {
    const auto it =
        std::find_if(located.begin(), located.end(), [&](const LocatedLandmark& l) { return l.name == name; });
    return it == located.end() ? nullptr : &*it;
  };
  for (const Bracketed& b : kBracketedByMeasurements) {
    LocatedLandmark* l = find(b.name);
    const LocatedLandmark* above = find(b.above);
    const LocatedLandmark* below = find(b.below);
    if (!l || !above || !below || l->measured || !above->measured || !below->measured) continue;
    if (!(above->atlas_mm > l->atlas_mm && l->atlas_mm > below->atlas_mm)) continue;
    const double f = (l->atlas_mm - below->atlas_mm) / (above->atlas_mm - below->atlas_mm);
    const double z = below->position.world_z_mm + f * (above->position.world_z_mm - below->position.world_z_mm);
    l->position = position_at_z(scan, z);
  }
}

}  // namespace

std::vector<LocatedLandmark> locate(const Model& model, const PreparedScan& scan, LocateMethod method) {
  auto located = locate_atlas_positions(model, scan, atlas_landmarks(model), method);
  located.erase(std::remove_if(located.begin(), located.end(), [](const LocatedLandmark& l) { return l.votes == 0; }),
                located.end());
  // Measurements near the templates' answers first, so the order checks see them; then those near the
  // answers the order checks corrected.
  refine_by_measurement(scan, located);
  if (method == LocateMethod::insertion) {
    enforce_anatomical_order(model, scan, located, located);
    refine_by_measurement(scan, located);
  }
  place_between_measurements(scan, located);
  if (!recognise(scan).recognised) {
    for (auto& l : located) l.confidence = 0.0f;
  }
  return located;
}

std::vector<LocatedLandmark> locate_region_positions(const Model& model, const PreparedScan& scan,
                                                     const std::vector<std::pair<std::string, double>>& positions,
                                                     LocateMethod method) {
  // One pass locates the positions and every atlas landmark (the latter for the scan's own map).
  auto all = atlas_landmarks(model);
  const std::size_t landmark_count = all.size();
  all.insert(all.end(), positions.begin(), positions.end());
  auto located = locate_atlas_positions(model, scan, all, method);
  std::vector<LocatedLandmark> out(located.begin() + static_cast<std::ptrdiff_t>(landmark_count), located.end());
  located.resize(landmark_count);
  // A position no template shows is extrapolated through the scan's own anatomical map (from the landmarks
  // located inside it), or failing that read off the slice-score line; either way with confidence 0. With the
  // insertion method, a position the map contradicts is replaced as in locate().
  AnatomicalMap scan_map;
  if (method == LocateMethod::insertion) {
    enforce_anatomical_order(model, scan, located, located);
    scan_map = enforce_anatomical_order(model, scan, located, out);
  } else {
    scan_map = scan_map_of(model, located);
  }
  for (auto& p : out) {
    if (p.votes > 0) continue;
    p.position =
        scan_map.valid()
            ? position_at_z(scan, scan_map.to_world(p.atlas_mm))
            : locate_atlas_positions(model, scan, {{p.name, p.atlas_mm}}, LocateMethod::score).front().position;
    p.confidence = 0.0f;
  }
  return out;
}

Coverage coverage(const Model& model, const PreparedScan& scan, const std::string& region, LocateMethod method) {
  Coverage c;
  c.region = find_region(model, region);
  const Atlas& atlas = model.atlas();
  for (const std::string* l : {&c.region.superior_landmark, &c.region.inferior_landmark}) {
    if (atlas.position_mm.count(*l) == 0) {
      fail(Status::model_format, "region '" + region + "' refers to '" + *l + "', which the model's atlas lacks");
    }
  }
  const double sup = atlas.position_mm.at(c.region.superior_landmark) + c.region.superior_offset_mm;
  const double inf = atlas.position_mm.at(c.region.inferior_landmark) + c.region.inferior_offset_mm;
  const auto ends =
      locate_region_positions(model, scan, {{region + ":superior", sup}, {region + ":inferior", inf}}, method);
  c.superior = ends[0];
  c.inferior = ends[1];
  c.recognised = recognise(scan).recognised;
  if (!c.recognised) {
    c.superior.confidence = c.inferior.confidence = 0.0f;
    c.status = Coverage::Status::none;
    return c;
  }
  using W = InsertedSlice::Where;
  const W s = c.superior.position.where, i = c.inferior.position.where;
  if ((s == W::above && i == W::above) || (s == W::below && i == W::below)) {
    c.status = Coverage::Status::none;
  } else if (s == W::inside && i == W::inside) {
    c.status = Coverage::Status::full;
  } else {
    c.status = Coverage::Status::partial;
  }
  return c;
}

}  // namespace slicenav
