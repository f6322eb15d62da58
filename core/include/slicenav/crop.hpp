// ROI cropping: the box of a named region in a scan (z from the navigation model's located region ends
// plus calibrated margins, in-plane from the body with table and air removed plus a margin) or of an organ
// (its region's box cut to the organ's APE box, ape.hpp), a JSON crop record that carries the original
// grid, and crop / uncrop of image files of any scalar voxel type on that record. See docs/crop.md.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "slicenav/ape.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

// Voxels [begin, end) along each index axis of a grid.
struct IndexBox {
  std::array<std::size_t, 3> begin{0, 0, 0};
  std::array<std::size_t, 3> end{0, 0, 0};
  std::array<std::size_t, 3> size() const { return {end[0] - begin[0], end[1] - begin[1], end[2] - begin[2]}; }
  std::size_t voxel_count() const { return size()[0] * size()[1] * size()[2]; }
};

// The common part of two boxes (voxel_count() 0 when they do not overlap).
IndexBox intersection(const IndexBox& a, const IndexBox& b);
// The voxels of a grid that a world box covers: along each index axis from the floor of its lowest to the
// ceiling of its highest continuous index, clipped to the grid (empty when the box misses the grid).
IndexBox index_box(const Geometry& grid, const WorldBox& box);
// The world box of a non-empty index box's voxel centres (its eight corner voxels' positions).
WorldBox world_box(const Geometry& grid, const IndexBox& box);

// How an organ crop used the organ's APE box (ape.hpp, ape_organ_box).
struct CropApe {
  std::string organ;            // "" for a region crop (the rest is then unset)
  bool used = false;            // false: the region's crop was kept, `note` says why
  double factor = 1;            // enlargement of the retrieved box
  double match_distance = 0;    // median edge-point match distance ...
  double max_distance = 0;      // ... and the organ's not-found threshold
  std::size_t templates = 0;
  bool search_region = false;   // its edges were searched for in the region's crop (else the whole scan)
  WorldBox retrieved, box;      // the retrieved box and its enlargement cut to the scan, world LPS mm
  std::string corroborated_by;  // the other organ of the region also found in the scan ("" if none was sought)
  std::string note;
};

struct CropRecord {
  static constexpr int kFormatVersion = 1;

  Region region;              // the region as used, margins included
  std::string model_version;  // see model_version() (model.hpp)
  std::string method;         // "insertion" or "score": how the region's ends were located
  CropApe ape;                // for an organ crop: its APE box and whether it cut the region's box

  Geometry original;  // the grid the box was planned on
  std::string
      original_pixel_type;  // stored component type of the planned volume ("short", "float", ...; "" if unknown)
  IndexBox box;             // on the original grid's index axes

  // How the region lies in the scan: "full" (both ends inside), "partial" (the region reaches beyond the
  // scan; the crop holds the part that exists) or "unlocated" (a scan the model does not recognise,
  // cropped in-plane only, every slice kept; see Region::crop_unrecognised_keeps_all_slices).
  std::string coverage = "full";
  bool partial = false;
  bool recognised = true;
  double score_slope = 1.0;                      // recognise()'s slope, atlas mm per mm
  LocatedLandmark superior, inferior;            // the region's ends as located (without margins)
  LocatedLandmark superior_crop, inferior_crop;  // the crop's ends (ends plus margins) as located
  std::vector<std::string> warnings;             // what a user should know (partial coverage, unrecognised scan)

  // The cropped grid: the box's size, the original spacing and direction, and the origin at the box's
  // first voxel, so every voxel keeps its world position.
  Geometry cropped() const;
  // Original voxels / cropped voxels (the volume ratio of the seed).
  double volume_ratio() const;

  std::string to_json() const;
  // Parses and checks a record: Error(invalid_argument) naming the field for a foreign, malformed or
  // inconsistent one (a box outside the grid, world coordinates that disagree with the box).
  static CropRecord from_json(const std::string& text);
};

// Plans the crop of `name` in `volume` (already prepared as `scan` by prepare_scan): a region of
// regions(model), or an organ of ape_organs(model), whose crop is its region's crop cut to the organ's APE
// box. The box is used when the organ's edge points match the scan, its region is not only partly in the scan
// (coverage "partial": the organ may lie beyond it), and, where the model holds other organs of its region,
// one of those is found too (CropApe::corroborated_by); otherwise, or when the box misses the region's crop,
// the region's crop is kept with a warning. Throws Error:
//   invalid_argument   neither a region nor an organ (the message lists both)
//   unsupported_input  the region (an organ's: its region) is not in the scan (never an empty crop); the
//                      scan is not recognised and the region does not crop such scans (the message says
//                      why); no body in-plane; an organ crop of a volume that is not CT (require_ct)
CropRecord plan_crop(const Model& model, const PreparedScan& scan, const Volume& volume, const std::string& name,
                     LocateMethod method = LocateMethod::insertion);
// Prepares the scan and plans (the whole decision); `progress` is reported as the scan is prepared.
CropRecord plan_crop(const Model& model, const Volume& volume, const std::string& name,
                     LocateMethod method = LocateMethod::insertion, const Progress& progress = {});

// The names plan_crop takes: the model's regions, then its APE organs.
std::vector<std::string> crop_targets(const Model& model);

// The in-plane box of the body (voxels above -500 HU, thin structures such as the table and air removed,
// components much smaller than the largest dropped) over canonical slices [first, last] of `view`, as
// canonical i and j ranges [begin, end), grown by margin_mm and clipped to the grid. Throws
// Error(unsupported_input) when those slices hold no body.
std::array<std::array<std::size_t, 2>, 2> body_in_plane_box(const CanonicalView& view, std::size_t first,
                                                            std::size_t last, double margin_mm);

// Recall of a crop: the fraction of a mask's voxels (value >= 0.5) inside the record's box, the mask on the
// record's original grid; 1 for an empty mask. Throws Error(invalid_argument) for a mask of another size.
double crop_recall(const CropRecord& record, const Volume& mask);

// What makes `actual` another grid than `expected` (size, spacing, origin or direction beyond the float32
// precision NIfTI stores them with), for an error message; "" when they are the same grid.
std::string grid_mismatch(const Geometry& expected, const Geometry& actual);

// Writes / reads a record file (JSON). Writing is atomic. Reading throws Error(not_found, io) for the file
// and like from_json for its content.
void write_crop_record(const CropRecord& record, const std::string& path);
CropRecord read_crop_record(const std::string& path);

// Crops an image file on the record's original grid (any scalar voxel type, kept) to the box and writes
// it atomically (.nii, .nii.gz at `gzip_level`, .mha, .nrrd). Uncrop pastes an image on the record's cropped grid back
// into the original grid, background 0, voxel type kept. An image on another grid is
// Error(invalid_argument) naming the mismatch; reading fails like read_volume (not_found, io,
// unsupported_input).
// `progress` is reported before the image is read and before the output is written.
void crop_file(const CropRecord& record, const std::string& image_path, const std::string& out_path,
               int gzip_level = kDefaultGzipLevel, const Progress& progress = {});
void uncrop_file(const CropRecord& record, const std::string& image_path, const std::string& out_path,
                 int gzip_level = kDefaultGzipLevel, const Progress& progress = {});

}  // namespace slicenav
