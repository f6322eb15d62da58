#include "slicenav/crop.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "body.hpp"
#include "json_number.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/orientation.hpp"

namespace slicenav {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // records keep their fields in a readable order

constexpr const char* kRecordFormat = "slicenav-crop-record";
// The in-plane body mask (body::kBodyHu) is built on cells about this wide, and thin structures (the
// table, its mattress, clothing) are removed by an opening one cell wide.
constexpr double kCellMm = 4.0;
// Body components smaller than this fraction of the largest are dropped (arms at the side, the table's
// remains); two legs are kept.
constexpr double kKeptComponentFraction = 0.2;
// Grids match when sizes are equal, spacings agree to this relative tolerance, origins to this fraction of
// the smallest spacing and direction cosines to this (NIfTI stores geometry as float32).
constexpr double kSpacingTolerance = 1e-4;
constexpr double kOriginVoxelTolerance = 0.01;
constexpr double kDirectionTolerance = 1e-4;

std::string fixed(double value, int digits = 1) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << value;
  return out.str();
}

std::string triple(const Vec3& v, int digits = 3) {
  return "(" + fixed(v[0], digits) + ", " + fixed(v[1], digits) + ", " + fixed(v[2], digits) + ")";
}

// "" when `actual` is the `expected` grid, else what differs (for an error message).
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
    return "origin " + triple(actual.origin) + " mm is not " + triple(expected.origin) + " mm (off by " +
           fixed(shift, 3) + " mm)";
  }
  for (int e = 0; e < 9; ++e) {
    if (std::abs(actual.direction[e] - expected.direction[e]) > kDirectionTolerance) {
      return "direction (orientation " + orientation_code(actual) + ") is not the expected one (orientation " +
             orientation_code(expected) + ")";
    }
  }
  return {};
}

const char* method_name(LocateMethod method) { return method == LocateMethod::insertion ? "insertion" : "score"; }

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

Geometry geometry_from_json(const json& j) {
  Geometry g;
  g.size = fixed_array<3, std::size_t>(j, "size");
  g.spacing = fixed_array<3, double>(j, "spacing");
  g.origin = fixed_array<3, double>(j, "origin");
  g.direction = fixed_array<9, double>(j, "direction");
  g.validate();
  return g;
}

// Copies the box of `from` (a grid of size `from_size`) into the box of `to` (size `to_size`): rows of
// bytes, `component_size` bytes per voxel. Both boxes have the same size.
void copy_box(const unsigned char* from, const std::array<std::size_t, 3>& from_size,
              const std::array<std::size_t, 3>& from_begin, unsigned char* to,
              const std::array<std::size_t, 3>& to_size, const std::array<std::size_t, 3>& to_begin,
              const std::array<std::size_t, 3>& box_size, std::size_t component_size) {
  const std::size_t row_bytes = box_size[0] * component_size;
  for (std::size_t k = 0; k < box_size[2]; ++k) {
    for (std::size_t j = 0; j < box_size[1]; ++j) {
      const std::size_t src =
          (from_begin[0] + from_size[0] * ((from_begin[1] + j) + from_size[1] * (from_begin[2] + k)));
      const std::size_t dst = (to_begin[0] + to_size[0] * ((to_begin[1] + j) + to_size[1] * (to_begin[2] + k)));
      std::memcpy(to + dst * component_size, from + src * component_size, row_bytes);
    }
  }
}

// A canonical range [begin, end) along canonical axis a as a range of the original index axis it reads.
std::array<std::size_t, 2> original_range(const SliceMapping& mapping, int canonical_axis, std::size_t begin,
                                          std::size_t end) {
  const auto axis = static_cast<std::size_t>(mapping.axes().axis[static_cast<std::size_t>(canonical_axis)]);
  const std::size_t n = mapping.original_geometry().size[axis];
  if (mapping.axes().flip[static_cast<std::size_t>(canonical_axis)]) return {n - end, n - begin};
  return {begin, end};
}

std::string scan_extent(const PreparedScan& scan) {
  const double a = scan.mapping.world_z(0), b = scan.mapping.world_z(static_cast<double>(scan.slice_count()) - 1);
  return "world z " + fixed(std::min(a, b)) + " to " + fixed(std::max(a, b)) + " mm";
}

}  // namespace

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

std::array<std::array<std::size_t, 2>, 2> body_in_plane_box(const CanonicalView& view, std::size_t first,
                                                            std::size_t last, double margin_mm) {
  const auto& size = view.size();
  if (first > last || last >= size[2]) fail(Status::invalid_argument, "slice range out of the scan");
  if (!(margin_mm >= 0) || !std::isfinite(margin_mm))
    fail(Status::invalid_argument, "in-plane margin must be finite and >= 0");
  const body::CellGrid grid = body::mean_hu_cells(view, first, last, kCellMm);
  const auto& factor = grid.factor;
  const auto& cells = grid.cells;
  const std::size_t slices = grid.slices;
  std::vector<std::uint8_t> body(grid.mean_hu.size());
  std::transform(grid.mean_hu.begin(), grid.mean_hu.end(), body.begin(),
                 [](float hu) { return hu > body::kBodyHu ? 1 : 0; });
  body::open_slices(body, cells, slices);
  std::vector<std::uint32_t> labels;
  const auto sizes = body::label_components(body, {cells[0], cells[1], slices}, labels);
  const std::size_t largest = *std::max_element(sizes.begin(), sizes.end());
  if (largest == 0) {
    fail(Status::unsupported_input, "no body (voxels above " + std::to_string(static_cast<int>(body::kBodyHu)) +
                                        " HU, thicker than " + fixed(kCellMm * 3, 0) + " mm) in the region's slices");
  }
  std::array<std::size_t, 2> lo{cells[0], cells[1]}, hi{0, 0};
  for (std::size_t c = 0; c < labels.size(); ++c) {
    if (labels[c] == 0 || static_cast<double>(sizes[labels[c]]) < kKeptComponentFraction * static_cast<double>(largest))
      continue;
    const std::size_t x = c % cells[0], y = (c / cells[0]) % cells[1];
    lo = {std::min(lo[0], x), std::min(lo[1], y)};
    hi = {std::max(hi[0], x), std::max(hi[1], y)};
  }
  std::array<std::array<std::size_t, 2>, 2> out{};
  for (int a = 0; a < 2; ++a) {
    const auto grow = static_cast<std::size_t>(std::ceil(margin_mm / view.spacing()[a]));
    const std::size_t begin = lo[a] * factor[a], end = std::min(size[a], (hi[a] + 1) * factor[a]);
    out[a] = {begin > grow ? begin - grow : 0, std::min(size[a], end + grow)};
  }
  return out;
}

CropRecord plan_crop(const Model& model, const PreparedScan& scan, const Volume& volume, const std::string& region_name,
                     LocateMethod method) {
  CropRecord r;
  r.region = find_region(model, region_name);
  const Atlas& atlas = model.atlas();
  for (const std::string* l : {&r.region.superior_landmark, &r.region.inferior_landmark}) {
    if (atlas.position_mm.count(*l) == 0) {
      fail(Status::model_format, "region '" + region_name + "' refers to '" + *l + "', which the model's atlas lacks");
    }
  }
  r.model_version = model_version(model);
  r.method = method_name(method);
  r.original = volume.geometry();
  r.original_pixel_type = volume.source().pixel_type;
  const CanonicalView view(volume, scan.mapping);
  const std::size_t n = scan.slice_count();
  const Recognition recognition = recognise(scan);
  r.recognised = recognition.recognised;
  r.score_slope = recognition.score_slope;

  std::size_t first = 0, last = n - 1;
  if (!recognition.recognised) {
    if (!r.region.crop_unrecognised_keeps_all_slices) {
      fail(Status::unsupported_input,
           "the model does not recognise this scan (its slice scores rise at " + fixed(recognition.score_slope, 2) +
               " atlas mm per mm, below " + fixed(Recognition::kMinRecognisedSlope, 2) +
               ": an extremity, a head-and-neck scan beyond the model's atlas, or not anatomy), so the ends of '" +
               region_name + "' cannot be located; no crop was made");
    }
    r.coverage = "unlocated";
    r.warnings.push_back(
        "the model does not recognise this scan (slice-score slope " + fixed(recognition.score_slope, 2) +
        "): the region's ends were not located, every slice is kept and only the in-plane crop applies");
  } else {
    const double sup = atlas.position_mm.at(r.region.superior_landmark) + r.region.superior_offset_mm;
    const double inf = atlas.position_mm.at(r.region.inferior_landmark) + r.region.inferior_offset_mm;
    const auto ends =
        locate_region_positions(model, scan,
                                {{region_name + ":superior", sup},
                                 {region_name + ":inferior", inf},
                                 {region_name + ":crop_superior", sup + r.region.crop_superior_margin_mm},
                                 {region_name + ":crop_inferior", inf - r.region.crop_inferior_margin_mm}},
                                method);
    r.superior = ends[0];
    r.inferior = ends[1];
    r.superior_crop = ends[2];
    r.inferior_crop = ends[3];
    using W = InsertedSlice::Where;
    const W top = r.superior_crop.position.where, bottom = r.inferior_crop.position.where;
    if (top == W::below || bottom == W::above) {
      fail(Status::unsupported_input, "region '" + region_name + "' is not in the scan: with its margins it lies " +
                                          (top == W::below ? "below" : "above") + " the scan (" + scan_extent(scan) +
                                          "); no crop was made");
    }
    const auto slice_of = [&](const LocatedLandmark& l, bool superior) {
      if (l.position.where != W::inside) return superior ? std::size_t{0} : n - 1;
      const double c = superior ? std::floor(l.position.canonical_slice) : std::ceil(l.position.canonical_slice);
      return static_cast<std::size_t>(std::clamp(c, 0.0, static_cast<double>(n - 1)));
    };
    first = slice_of(r.superior_crop, true);
    last = slice_of(r.inferior_crop, false);
    if (first > last) {
      std::swap(first, last);
      r.warnings.push_back("the crop's ends were located in inverted order; the crop spans both");
    }
    const W s = r.superior.position.where, i = r.inferior.position.where;
    r.partial = !(s == W::inside && i == W::inside);
    r.coverage = r.partial ? "partial" : "full";
    if (r.partial) {
      std::string what;
      if (s != W::inside) what += std::string("its superior end lies ") + where_name(s) + " the scan";
      if (i != W::inside)
        what += std::string(what.empty() ? "its" : " and its") + " inferior end lies " + where_name(i) + " the scan";
      r.warnings.push_back("region '" + region_name + "' is only partly in the scan (" + what +
                           "): the crop holds the part that exists");
    }
  }
  const auto in_plane = body_in_plane_box(view, first, last, r.region.crop_in_plane_margin_mm);
  for (int a = 0; a < 3; ++a) {
    const auto range = a < 2 ? in_plane[static_cast<std::size_t>(a)] : std::array<std::size_t, 2>{first, last + 1};
    const auto original = original_range(scan.mapping, a, range[0], range[1]);
    const auto axis = static_cast<std::size_t>(scan.mapping.axes().axis[static_cast<std::size_t>(a)]);
    r.box.begin[axis] = original[0];
    r.box.end[axis] = original[1];
  }
  return r;
}

CropRecord plan_crop(const Model& model, const Volume& volume, const std::string& region_name, LocateMethod method,
                     const Progress& progress) {
  find_region(model, region_name);  // an unknown name fails before the slow preparation
  const PreparedScan scan = prepare_scan(model, volume, {false, progress.stage(0.0, 0.9)});
  return plan_crop(model, scan, volume, region_name, method);
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

void crop_file(const CropRecord& record, const std::string& image_path, const std::string& out_path, int gzip_level,
               const Progress& progress) {
  check_gzip_level(gzip_level);
  progress.at(0.0);
  const RawImage image = read_raw_image(image_path);
  const std::string mismatch = grid_mismatch(record.original, image.geometry);
  if (!mismatch.empty()) {
    fail(Status::invalid_argument, "'" + image_path + "' is not on the crop record's original grid: " + mismatch);
  }
  RawImage out;
  out.geometry = record.cropped();
  out.component_type = image.component_type;
  out.component_size = image.component_size;
  out.bytes.resize(out.geometry.voxel_count() * out.component_size);
  copy_box(image.bytes.data(), image.geometry.size, record.box.begin, out.bytes.data(), out.geometry.size, {0, 0, 0},
           record.box.size(), image.component_size);
  progress.at(0.5);
  write_raw_image(out, out_path, gzip_level);
}

void uncrop_file(const CropRecord& record, const std::string& image_path, const std::string& out_path, int gzip_level,
                 const Progress& progress) {
  check_gzip_level(gzip_level);
  progress.at(0.0);
  const RawImage image = read_raw_image(image_path);
  const std::string mismatch = grid_mismatch(record.cropped(), image.geometry);
  if (!mismatch.empty()) {
    fail(Status::invalid_argument, "'" + image_path + "' is not on the crop record's cropped grid: " + mismatch);
  }
  RawImage out;
  out.geometry = record.original;
  out.component_type = image.component_type;
  out.component_size = image.component_size;
  out.bytes.assign(out.geometry.voxel_count() * out.component_size, 0);  // background 0 in every scalar type
  copy_box(image.bytes.data(), image.geometry.size, {0, 0, 0}, out.bytes.data(), out.geometry.size, record.box.begin,
           record.box.size(), image.component_size);
  progress.at(0.5);
  write_raw_image(out, out_path, gzip_level);
}

double crop_recall(const CropRecord& record, const Volume& mask) {
  const auto& s = mask.geometry().size;
  if (s != record.original.size) {
    fail(Status::invalid_argument, "crop_recall: the mask's size differs from the record's original grid");
  }
  double total = 0, kept = 0;
  const IndexBox& b = record.box;
  for (std::size_t k = 0; k < s[2]; ++k) {
    for (std::size_t j = 0; j < s[1]; ++j) {
      for (std::size_t i = 0; i < s[0]; ++i) {
        if (mask.at(i, j, k) < 0.5f) continue;
        ++total;
        kept += i >= b.begin[0] && i < b.end[0] && j >= b.begin[1] && j < b.end[1] && k >= b.begin[2] && k < b.end[2];
      }
    }
  }
  return total > 0 ? kept / total : 1.0;
}

}  // namespace slicenav
