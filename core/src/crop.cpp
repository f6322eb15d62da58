#include "slicenav/crop.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "body.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/orientation.hpp"
#include "text.hpp"

namespace slicenav {
namespace {

// The in-plane body mask (body::kBodyHu) is built on cells about this wide, and thin structures (the
// table, its mattress, clothing) are removed by an opening one cell wide.
constexpr double kCellMm = 4.0;
// Body components smaller than this fraction of the largest are dropped (arms at the side, the table's
// remains); two legs are kept.
constexpr double kKeptComponentFraction = 0.2;

const char* method_name(LocateMethod method) { return method == LocateMethod::insertion ? "insertion" : "score"; }

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
  return "world z " + detail::fixed_decimals(std::min(a, b), 1) + " to " + detail::fixed_decimals(std::max(a, b), 1) +
         " mm";
}

}  // namespace

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
                                        " HU, thicker than " + detail::fixed_decimals(kCellMm * 3, 0) +
                                        " mm) in the region's slices");
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

namespace {

CropRecord plan_region_crop(const Model& model, const PreparedScan& scan, const Volume& volume,
                            const std::string& region_name, LocateMethod method) {
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
           "the model does not recognise this scan (its slice scores rise at " +
               detail::fixed_decimals(recognition.score_slope, 2) + " atlas mm per mm, below " +
               detail::fixed_decimals(Recognition::kMinRecognisedSlope, 2) +
               ": an extremity, a head-and-neck scan beyond the model's atlas, or not anatomy), so the ends of '" +
               region_name + "' cannot be located; no crop was made");
    }
    r.coverage = "unlocated";
    r.warnings.push_back(
        "the model does not recognise this scan (slice-score slope " +
        detail::fixed_decimals(recognition.score_slope, 2) +
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

// An organ's crop: its region's crop cut to the organ's APE box, used when the organ's edges match the scan,
// the region lies wholly in the scan (or the scan is unlocated), and, where `organs` (the model's) hold other
// organs of its region, at least one of those matches too.
CropRecord plan_organ_crop(const Model& model, const PreparedScan& scan, const Volume& volume,
                           const std::vector<ApeOrgan>& organs, const ApeOrgan& organ, LocateMethod method) {
  CropRecord r;
  try {
    r = plan_region_crop(model, scan, volume, organ.region, method);
  } catch (const Error& e) {
    if (e.status() != Status::unsupported_input) throw;
    fail(e.status(), "organ '" + organ.name + "' (region '" + organ.region + "'): " + e.what());
  }
  // The region's crop margins may reach into a scan that the region itself misses: no organ there.
  using W = InsertedSlice::Where;
  const W s = r.superior.position.where, i = r.inferior.position.where;
  if (r.coverage != "unlocated" && s != W::inside && s == i) {
    fail(Status::unsupported_input, "organ '" + organ.name + "' is not in the scan: its region '" + organ.region +
                                        "' lies " + where_name(s) + " the scan (" + scan_extent(scan) +
                                        "), only the region's crop margin reaches in; no crop was made");
  }
  const ApeMap map = ape_map(model, volume);
  const WorldBox region_box = world_box(r.original, r.box);
  const auto box_of = [&](const ApeOrgan& o) {
    return ape_organ_box(o, map, o.search_region ? region_box : WorldBox::everything());
  };
  const OrganBox b = box_of(organ);
  r.ape.organ = organ.name;
  r.ape.factor = b.factor;
  r.ape.match_distance = b.match_distance;
  r.ape.max_distance = organ.max_distance;
  r.ape.templates = b.templates;
  r.ape.search_region = organ.search_region;
  r.ape.retrieved = b.retrieved;
  r.ape.box = b.box;
  const std::string keep = "; the crop is region '" + organ.region + "''s";
  const auto keep_region = [&](const std::string& why) {
    r.ape.note = why;
    r.warnings.push_back(why + keep);
    return r;
  };
  if (!b.found) return keep_region(b.note);
  // A region only partly in the scan says the organ may lie beyond it, and its edges then match what the scan
  // holds nearest to them (a mandible's, in a chest CT that starts at the thoracic inlet).
  if (r.partial) {
    return keep_region(organ.name + "'s region '" + organ.region +
                       "' is only partly in the scan, so the organ may lie beyond it: its APE box is not used");
  }
  // One organ's edges can match a scan that shows none of its region (an extremity's soft tissue can look
  // like a larynx): another organ of the region found there corroborates it.
  std::string others;
  for (const ApeOrgan& o : organs) {
    if (o.region != organ.region || o.name == organ.name) continue;
    if (box_of(o).found) {
      r.ape.corroborated_by = o.name;
      break;
    }
    others += (others.empty() ? "" : ", ") + o.name;
  }
  if (!others.empty() && r.ape.corroborated_by.empty()) {
    return keep_region(organ.name + "'s edge points match the scan, but none of region '" + organ.region +
                       "''s other organs (" + others + ") is found in it");
  }
  const IndexBox cut = intersection(r.box, index_box(r.original, b.box));
  if (cut.voxel_count() == 0) {
    return keep_region(organ.name + "'s APE box lies outside region '" + organ.region + "''s crop");
  }
  r.box = cut;
  r.ape.used = true;
  if (b.partial) {
    r.ape.note = b.note;
    r.warnings.push_back(b.note);
  }
  return r;
}

const ApeOrgan* find_organ(const std::vector<ApeOrgan>& organs, const std::string& name) {
  const auto it = std::find_if(organs.begin(), organs.end(), [&](const ApeOrgan& o) { return o.name == name; });
  return it == organs.end() ? nullptr : &*it;
}

// Fails like find_region, listing the organs too, unless `name` is a region or one of `organs`.
void check_crop_target(const Model& model, const std::vector<ApeOrgan>& organs, const std::string& name) {
  std::vector<std::string> targets;
  for (const Region& r : regions(model)) targets.push_back(r.name);
  for (const ApeOrgan& o : organs) targets.push_back(o.name);
  if (std::find(targets.begin(), targets.end(), name) != targets.end()) return;
  std::string known;
  for (const std::string& t : targets) known += (known.empty() ? "" : ", ") + t;
  fail(Status::invalid_argument, "unknown region or organ '" + name + "'; the model crops " + known +
                                     (organs.empty() ? " (it holds no APE organs)" : ""));
}

}  // namespace

IndexBox intersection(const IndexBox& a, const IndexBox& b) {
  IndexBox c;
  for (std::size_t k = 0; k < 3; ++k) {
    c.begin[k] = std::max(a.begin[k], b.begin[k]);
    c.end[k] = std::max(c.begin[k], std::min(a.end[k], b.end[k]));
  }
  return c;
}

IndexBox index_box(const Geometry& grid, const WorldBox& box) {
  Vec3 lo{1e300, 1e300, 1e300}, hi{-1e300, -1e300, -1e300};
  for (int corner = 0; corner < 8; ++corner) {
    const Vec3 w{(corner & 1) ? box.hi[0] : box.lo[0], (corner & 2) ? box.hi[1] : box.lo[1],
                 (corner & 4) ? box.hi[2] : box.lo[2]};
    const Vec3 i = grid.world_to_index(w);
    for (std::size_t a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], i[a]);
      hi[a] = std::max(hi[a], i[a]);
    }
  }
  IndexBox out;
  for (std::size_t a = 0; a < 3; ++a) {
    const double n = static_cast<double>(grid.size[a]);
    const double first = std::clamp(std::floor(lo[a]), 0.0, n), end = std::clamp(std::ceil(hi[a]) + 1.0, 0.0, n);
    out.begin[a] = static_cast<std::size_t>(first);
    out.end[a] = static_cast<std::size_t>(std::max(first, end));
  }
  return out;
}

WorldBox world_box(const Geometry& grid, const IndexBox& box) {
  Vec3 first, last;
  for (std::size_t a = 0; a < 3; ++a) {
    first[a] = static_cast<double>(box.begin[a]);
    last[a] = static_cast<double>(box.end[a] - 1);
  }
  return world_bounds(grid, first, last);
}

std::vector<std::string> crop_targets(const Model& model) {
  std::vector<std::string> out;
  for (const Region& r : regions(model)) out.push_back(r.name);
  for (const ApeOrgan& o : ape_organs(model)) out.push_back(o.name);
  return out;
}

CropRecord plan_crop(const Model& model, const PreparedScan& scan, const Volume& volume, const std::string& name,
                     LocateMethod method) {
  const std::vector<ApeOrgan> organs = ape_organs(model);
  check_crop_target(model, organs, name);
  const ApeOrgan* organ = find_organ(organs, name);
  return organ == nullptr ? plan_region_crop(model, scan, volume, name, method)
                          : plan_organ_crop(model, scan, volume, organs, *organ, method);
}

CropRecord plan_crop(const Model& model, const Volume& volume, const std::string& name, LocateMethod method,
                     const Progress& progress) {
  const std::vector<ApeOrgan> organs = ape_organs(model);
  check_crop_target(model, organs, name);  // an unknown name fails before the slow preparation
  const PreparedScan scan = prepare_scan(model, volume, {false, progress.stage(0.0, 0.9)});
  return plan_crop(model, scan, volume, name, method);
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
