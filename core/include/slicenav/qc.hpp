// Quality-control pictures (PNG): where marks fall on a canonical volume, and insertion heat maps.
//
// Both writers validate their input before touching the file system, draw into an 8-bit RGB raster and
// write it atomically (a temporary sibling renamed over `path`), so a failed call leaves no file behind.
// Errors: Error(invalid_argument) naming the problem for bad input (empty path, empty volume, size
// mismatch, zero sizes, non-finite values, a column label past the last column); Error(io) when the
// destination's directory is missing or not writable, or the PNG cannot be written.
//
// Text is drawn in a small built-in 5x8 bitmap font covering a-z, A-Z, 0-9, '_', '-', '.', ':' and ' ';
// any other character is drawn as '?'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "slicenav/orientation.hpp"

namespace slicenav {

struct QcColour {
  std::uint8_t r = 0, g = 0, b = 0;
};

struct QcMark {
  std::string label;       // drawn next to the line, e.g. "liver_dome"
  double canonical_slice;  // fractional canonical slice index (0 = most superior slice)
  bool dashed = false;     // e.g. low confidence
};

// Colour of marks[mark_index] in write_key_slice_png: a fixed palette of saturated colours (never grey),
// cycled by the mark's position in the list, so skipped marks do not shift the others' colours.
QcColour qc_mark_colour(std::size_t mark_index);

// Coronal (the plane through the body's centre j, showing i across) and sagittal (the plane through the
// body's centre i, showing j across) views of the canonical volume side by side, coronal left, with a
// 4-pixel black gap. Grey levels window HU [-1000, 400]; superior is up, patient right is on the
// coronal view's left (radiological) and anterior on the sagittal view's left. Views are resampled
// bilinearly so a display pixel is square in mm: the pixel size is the finest voxel spacing, coarsened
// so the picture is at most 512 pixels tall. The body centre is the mean i and j of voxels above
// -500 HU over up to 32 evenly spaced slices (the grid centre when there are none).
//
// Each mark whose slice lies within the volume (-0.5 <= canonical_slice <= slices - 0.5) gets a
// one-pixel horizontal line across the whole picture in qc_mark_colour(index) (dashes of 6 pixels with
// gaps of 4 when dashed) and its label on a black box at the coronal view's left edge, just above the
// line (below it near the top). Marks outside the volume are skipped; a non-finite slice is an error.
void write_key_slice_png(const CanonicalVolume& volume, const std::vector<QcMark>& marks, const std::string& path);

// Insertion heat map as in the insertion-network paper's Fig. 4: rows = query slices (top = first),
// columns = target positions (left = first), values = probabilities (rows x cols, row-major; clamped to
// [0, 1] for display) in a built-in viridis-like colour map whose luminance rises with the value. A cell
// is ceil(256 / cols) pixels wide and ceil(256 / rows) tall, so the grid is at least 256 pixels on each
// side (one pixel per cell beyond 256 cells), inside a one-pixel black frame. column_labels (column
// index, text) get a tick and a centred label in a white band below the frame.
void write_heatmap_png(const std::vector<float>& values, std::size_t rows, std::size_t cols, const std::string& path,
                       const std::vector<std::pair<std::size_t, std::string>>& column_labels = {});

}  // namespace slicenav
