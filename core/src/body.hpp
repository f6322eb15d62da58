// The body in CT, shared by everything that looks at voxels directly (the model's input grid, the crop's
// in-plane box, the QC render, key slices measured in the image): the HU rule, grids of mean HU over
// in-plane cells, and connected components of a cell mask.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "slicenav/orientation.hpp"

namespace slicenav::body {

// Body: voxels above this many HU (fat, soft tissue, bone); air, lung and the space around the patient
// lie below it.
constexpr float kBodyHu = -500.0f;

// Mean HU over cells of about cell_mm x cell_mm voxels of canonical slices [first, last].
struct CellGrid {
  std::array<std::size_t, 2> factor{};  // voxels per cell along canonical i and j
  std::array<std::size_t, 2> cells{};   // cells per slice along canonical i and j (the last may be partial)
  std::size_t slices = 0;
  std::array<double, 2> cell_mm{};  // cell width along canonical i and j
  std::vector<float> mean_hu;       // cell (x, y, k) at (k * cells[1] + y) * cells[0] + x
  std::size_t per_slice() const { return cells[0] * cells[1]; }
};

// Throws Error(invalid_argument) for an empty or out-of-range slice range or a cell size that is not
// positive. Slices are shared out among the hardware threads.
CellGrid mean_hu_cells(const CanonicalView& view, std::size_t first, std::size_t last, double cell_mm);

// Morphological opening of each slice of a cell mask (cells[0] x cells[1] per slice) with a 3x3 square:
// erosion (outside the grid counts as set, so a body cut by the field of view is not eaten from the border),
// then dilation. Removes structures one cell thin: the table, its mattress, clothing.
void open_slices(std::vector<std::uint8_t>& mask, const std::array<std::size_t, 2>& cells, std::size_t slices);

// The cells of one w x h slice that a 4-connected flood from the slice's border reaches through cells where `open`
// is set: reached[c] = 1 (an open cell nothing reaches is a hole). `stack` is scratch, reused across calls.
void reach_from_border(const std::vector<std::uint8_t>& open, std::size_t w, std::size_t h,
                       std::vector<std::uint8_t>& reached, std::vector<std::size_t>& stack);

// Labels the face-connected components of the set cells of `mask` (n[0] x n[1] x n[2], x fastest; 4-connected
// within a slice when n[2] is 1), labels from 1 in scan order, and returns each component's size (index =
// label, size[0] = 0).
std::vector<std::size_t> label_components(const std::vector<std::uint8_t>& mask, const std::array<std::size_t, 3>& n,
                                          std::vector<std::uint32_t>& labels);

}  // namespace slicenav::body
