// Crop records: their JSON form (what uncrop needs, with no original image) and their files, and the check that
// an image lies on a record's grid.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "json_number.hpp"
#include "slicenav/crop.hpp"
#include "slicenav/error.hpp"
#include "slicenav/orientation.hpp"
#include "text.hpp"

namespace slicenav {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // records keep their fields in a readable order

constexpr const char* kRecordFormat = "slicenav-crop-record";
// Grids match when sizes are equal, spacings agree to this relative tolerance, origins to this fraction of
// the smallest spacing and direction cosines to this (NIfTI stores geometry as float32).
constexpr double kSpacingTolerance = 1e-4;
constexpr double kOriginVoxelTolerance = 0.01;
constexpr double kDirectionTolerance = 1e-4;

std::string triple(const Vec3& v, int digits) {
  return "(" + detail::fixed_decimals(v[0], digits) + ", " + detail::fixed_decimals(v[1], digits) + ", " +
         detail::fixed_decimals(v[2], digits) + ")";
}

ojson end_json(const LocatedLandmark& l) {
  const bool inside = l.position.where == InsertedSlice::Where::inside;
  return {{"name", l.name},
          {"atlas_mm", l.atlas_mm},
          {"where", where_name(l.position.where)},
          {"world_z_mm", inside ? ojson(l.position.world_z_mm) : ojson(nullptr)},
          {"original_slice", inside ? ojson(l.position.original_slice) : ojson(nullptr)},
          {"canonical_slice", inside ? ojson(l.position.canonical_slice) : ojson(nullptr)},
          {"confidence", l.confidence},
          {"votes", l.votes}};
}

LocatedLandmark end_from_json(const json& j) {
  LocatedLandmark l;
  l.name = j.at("name").get<std::string>();
  l.atlas_mm = j.at("atlas_mm").get<double>();
  const std::string where = j.at("where").get<std::string>();
  if (where == "above") {
    l.position.where = InsertedSlice::Where::above;
  } else if (where == "below") {
    l.position.where = InsertedSlice::Where::below;
  } else if (where == "inside") {
    l.position.world_z_mm = j.at("world_z_mm").get<double>();
    l.position.original_slice = j.at("original_slice").get<double>();
    l.position.canonical_slice = j.at("canonical_slice").get<double>();
  } else {
    fail(Status::invalid_argument, "'where' is '" + where + "', not inside, above or below");
  }
  l.confidence = detail::json_number<float>(j.at("confidence"));
  l.votes = detail::json_number<std::size_t>(j.at("votes"));
  return l;
}

template <std::size_t N, typename T>
std::array<T, N> fixed_array(const json& j, const char* field) {
  const json& a = j.at(field);
  if (!a.is_array() || a.size() != N) {
    fail(Status::invalid_argument,
         std::string("'") + field + "' must be an array of " + std::to_string(N) + " numbers");
  }
  std::array<T, N> out{};
  for (std::size_t n = 0; n < N; ++n) out[n] = detail::json_number<T>(a[n]);
  return out;
}

ojson geometry_json(const Geometry& g) {
  return {{"size", g.size}, {"spacing", g.spacing}, {"origin", g.origin}, {"direction", g.direction}};
}

ojson world_box_json(const WorldBox& b) { return {{"min_mm", b.lo}, {"max_mm", b.hi}}; }

WorldBox world_box_from_json(const json& j) {
  return {fixed_array<3, double>(j, "min_mm"), fixed_array<3, double>(j, "max_mm")};
}

ojson ape_json(const CropApe& a) {
  if (a.organ.empty()) return nullptr;
  return {{"organ", a.organ},
          {"used", a.used},
          {"factor", a.factor},
          {"match_distance", a.match_distance},
          {"max_distance", a.max_distance},
          {"templates", a.templates},
          {"search", ape_search_name(a.search_region)},
          {"retrieved", world_box_json(a.retrieved)},
          {"box", world_box_json(a.box)},
          {"corroborated_by", a.corroborated_by},
          {"note", a.note}};
}

CropApe ape_from_json(const json& j) {
  CropApe a;
  if (j.is_null()) return a;
  a.organ = j.at("organ").get<std::string>();
  if (a.organ.empty()) fail(Status::invalid_argument, "'organ' is empty");
  a.used = j.at("used").get<bool>();
  a.factor = j.at("factor").get<double>();
  a.match_distance = j.at("match_distance").get<double>();
  a.max_distance = j.at("max_distance").get<double>();
  a.templates = detail::json_number<std::size_t>(j.at("templates"));
  // Records written before "search" existed searched the whole scan.
  if (j.contains("search")) a.search_region = ape_search_region(j.at("search").get<std::string>());
  a.retrieved = world_box_from_json(j.at("retrieved"));
  a.box = world_box_from_json(j.at("box"));
  // Records written before "corroborated_by" existed sought no corroboration.
  if (j.contains("corroborated_by")) a.corroborated_by = j.at("corroborated_by").get<std::string>();
  a.note = j.at("note").get<std::string>();
  return a;
}

Geometry geometry_from_json(const json& j) {
  Geometry g;
  g.size = fixed_array<3, std::size_t>(j, "size");
  g.spacing = fixed_array<3, double>(j, "spacing");
  g.origin = fixed_array<3, double>(j, "origin");
  g.direction = fixed_array<9, double>(j, "direction");
  g.validate();
  return g;
}
}  // namespace

std::string grid_mismatch(const Geometry& expected, const Geometry& actual) {
  if (actual.size != expected.size) {
    return "size " + std::to_string(actual.size[0]) + "x" + std::to_string(actual.size[1]) + "x" +
           std::to_string(actual.size[2]) + " is not " + std::to_string(expected.size[0]) + "x" +
           std::to_string(expected.size[1]) + "x" + std::to_string(expected.size[2]);
  }
  for (int a = 0; a < 3; ++a) {
    if (std::abs(actual.spacing[a] - expected.spacing[a]) > kSpacingTolerance * expected.spacing[a]) {
      return "spacing " + triple(actual.spacing, 4) + " mm is not " + triple(expected.spacing, 4) + " mm";
    }
  }
  const double min_spacing = *std::min_element(expected.spacing.begin(), expected.spacing.end());
  double shift = 0;
  for (int a = 0; a < 3; ++a) shift = std::max(shift, std::abs(actual.origin[a] - expected.origin[a]));
  if (shift > kOriginVoxelTolerance * min_spacing) {
    return "origin " + triple(actual.origin, 3) + " mm is not " + triple(expected.origin, 3) + " mm (off by " +
           detail::fixed_decimals(shift, 3) + " mm)";
  }
  for (int e = 0; e < 9; ++e) {
    if (std::abs(actual.direction[e] - expected.direction[e]) > kDirectionTolerance) {
      return "direction (orientation " + orientation_code(actual) + ") is not the expected one (orientation " +
             orientation_code(expected) + ")";
    }
  }
  return {};
}

Geometry CropRecord::cropped() const {
  Geometry g = original;
  g.size = box.size();
  g.origin = original.index_to_world(
      {static_cast<double>(box.begin[0]), static_cast<double>(box.begin[1]), static_cast<double>(box.begin[2])});
  return g;
}

double CropRecord::volume_ratio() const {
  return static_cast<double>(original.voxel_count()) / static_cast<double>(std::max<std::size_t>(box.voxel_count(), 1));
}

std::string CropRecord::to_json() const {
  const Geometry c = cropped();
  const Vec3 last = original.index_to_world(
      {static_cast<double>(box.end[0]) - 1, static_cast<double>(box.end[1]) - 1, static_cast<double>(box.end[2]) - 1});
  Vec3 lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    lo[a] = std::min(c.origin[a], last[a]);
    hi[a] = std::max(c.origin[a], last[a]);
  }
  ojson coverage_json = {
      {"status", coverage}, {"partial", partial}, {"recognised", recognised}, {"score_slope", score_slope}};
  const bool located = coverage != "unlocated";
  coverage_json["superior"] = located ? end_json(superior) : ojson(nullptr);
  coverage_json["inferior"] = located ? end_json(inferior) : ojson(nullptr);
  coverage_json["crop_superior"] = located ? end_json(superior_crop) : ojson(nullptr);
  coverage_json["crop_inferior"] = located ? end_json(inferior_crop) : ojson(nullptr);
  ojson original_json = geometry_json(original);
  original_json["pixel_type"] = original_pixel_type;
  const ojson out = {
      {"format", kRecordFormat},
      {"format_version", kFormatVersion},
      {"region",
       {{"name", region.name},
        {"description", region.description},
        {"superior_landmark", region.superior_landmark},
        {"superior_offset_mm", region.superior_offset_mm},
        {"inferior_landmark", region.inferior_landmark},
        {"inferior_offset_mm", region.inferior_offset_mm}}},
      {"margins",
       {{"superior_atlas_mm", region.crop_superior_margin_mm},
        {"inferior_atlas_mm", region.crop_inferior_margin_mm},
        {"in_plane_mm", region.crop_in_plane_margin_mm},
        {"unrecognised_keeps_all_slices", region.crop_unrecognised_keeps_all_slices}}},
      {"model", {{"version", model_version}, {"method", method}}},
      {"ape", ape_json(ape)},
      {"coverage", coverage_json},
      {"warnings", warnings},
      {"original", original_json},
      {"box",
       {{"index_begin", box.begin},
        {"index_end", box.end},
        {"size", box.size()},
        {"world_first_voxel_mm", c.origin},
        {"world_last_voxel_mm", last},
        {"world_min_mm", lo},
        {"world_max_mm", hi}}},
      {"cropped", geometry_json(c)},
      {"volume_ratio", volume_ratio()},
  };
  return out.dump(2);
}

CropRecord CropRecord::from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(Status::invalid_argument, std::string("not a crop record: not valid JSON (") + e.what() + ")");
  }
  // A "format" that is not a string is a foreign record too (json::value would throw a type error on it).
  const bool ours = j.is_object() && j.contains("format") && j["format"].is_string() &&
                    j["format"].get<std::string>() == kRecordFormat;
  if (!ours) {
    fail(Status::invalid_argument, std::string("not a crop record: \"format\" is not \"") + kRecordFormat + "\"");
  }
  CropRecord r;
  std::string field = "format_version";
  try {
    const int version = detail::json_number<int>(j.at("format_version"));
    if (version > kFormatVersion) {
      fail(Status::invalid_argument, "crop record format version " + std::to_string(version) +
                                         " is newer than this library's (" + std::to_string(kFormatVersion) + ")");
    }
    field = "region";
    const json& region = j.at("region");
    r.region.name = region.at("name").get<std::string>();
    r.region.description = region.value("description", std::string());
    r.region.superior_landmark = region.at("superior_landmark").get<std::string>();
    r.region.superior_offset_mm = region.at("superior_offset_mm").get<double>();
    r.region.inferior_landmark = region.at("inferior_landmark").get<std::string>();
    r.region.inferior_offset_mm = region.at("inferior_offset_mm").get<double>();
    field = "margins";
    const json& margins = j.at("margins");
    r.region.crop_superior_margin_mm = margins.at("superior_atlas_mm").get<double>();
    r.region.crop_inferior_margin_mm = margins.at("inferior_atlas_mm").get<double>();
    r.region.crop_in_plane_margin_mm = margins.at("in_plane_mm").get<double>();
    r.region.crop_unrecognised_keeps_all_slices = margins.at("unrecognised_keeps_all_slices").get<bool>();
    field = "model";
    r.model_version = j.at("model").at("version").get<std::string>();
    r.method = j.at("model").at("method").get<std::string>();
    field = "ape";  // absent from the records of earlier versions
    if (j.contains("ape")) r.ape = ape_from_json(j.at("ape"));
    field = "coverage";
    const json& cov = j.at("coverage");
    r.coverage = cov.at("status").get<std::string>();
    if (r.coverage != "full" && r.coverage != "partial" && r.coverage != "unlocated") {
      fail(Status::invalid_argument, "status '" + r.coverage + "' is not full, partial or unlocated");
    }
    r.partial = cov.at("partial").get<bool>();
    r.recognised = cov.at("recognised").get<bool>();
    r.score_slope = cov.at("score_slope").get<double>();
    if (r.coverage != "unlocated") {
      r.superior = end_from_json(cov.at("superior"));
      r.inferior = end_from_json(cov.at("inferior"));
      r.superior_crop = end_from_json(cov.at("crop_superior"));
      r.inferior_crop = end_from_json(cov.at("crop_inferior"));
    }
    field = "warnings";
    r.warnings = j.at("warnings").get<std::vector<std::string>>();
    field = "original";
    r.original = geometry_from_json(j.at("original"));
    r.original_pixel_type = j.at("original").value("pixel_type", std::string());
    field = "box";
    r.box.begin = fixed_array<3, std::size_t>(j.at("box"), "index_begin");
    r.box.end = fixed_array<3, std::size_t>(j.at("box"), "index_end");
    for (int a = 0; a < 3; ++a) {
      if (r.box.begin[a] >= r.box.end[a] || r.box.end[a] > r.original.size[a]) {
        fail(Status::invalid_argument,
             "index range " + std::to_string(r.box.begin[a]) + ".." + std::to_string(r.box.end[a]) + " along axis " +
                 "ijk"[a] + " is empty or outside the original grid (size " + std::to_string(r.original.size[a]) + ")");
      }
    }
    field = "cropped";
    const std::string mismatch = grid_mismatch(r.cropped(), geometry_from_json(j.at("cropped")));
    if (!mismatch.empty())
      fail(Status::invalid_argument, "the cropped grid disagrees with the original grid and box: " + mismatch);
  } catch (const json::exception& e) {
    fail(Status::invalid_argument, "malformed crop record field '" + field + "': " + e.what());
  } catch (const Error& e) {
    fail(Status::invalid_argument, "malformed crop record field '" + field + "': " + e.what());
  }
  return r;
}

void write_crop_record(const CropRecord& record, const std::string& path) {
  if (path.empty()) fail(Status::invalid_argument, "crop record path is empty");
  const std::string text = record.to_json() + "\n";
  detail::write_atomically(path, [&](const std::string& temp) {
    std::ofstream out(temp, std::ios::binary);
    out << text;
    out.close();
    if (!out) fail(Status::io, "cannot write crop record '" + path + "'");
  });
}

CropRecord read_crop_record(const std::string& path) {
  std::error_code ec;
  if (path.empty()) fail(Status::invalid_argument, "crop record path is empty");
  if (!std::filesystem::exists(path, ec)) fail(Status::not_found, "crop record '" + path + "' does not exist");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) fail(Status::io, "cannot read crop record '" + path + "'");
  try {
    return CropRecord::from_json(text.str());
  } catch (const Error& e) {
    fail(e.status(), "crop record '" + path + "': " + e.what());
  }
}

}  // namespace slicenav
