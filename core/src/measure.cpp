#include "slicenav/measure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

#include "body.hpp"

namespace slicenav {
namespace {

constexpr double kCellMm = 2.0;
// Aerated lung: inside the body, below this mean HU over a cell. The airway is followed on its lumen, cells
// below kAirwayHu: at -400 a lumen next to the lung merges with it through the partial volume of the wall.
constexpr float kAirHu = -400.0f;
constexpr float kAirwayHu = -850.0f;
// Per slice, air blobs smaller than this whose centroid lies this close to the body's midline are airway
// (trachea, main bronchi), not lung, so the trachea above the apex does not count as lung.
constexpr double kAirwayMaxCm2 = 10.0;
constexpr double kAirwayMidlineMm = 25.0;
// Lungs: the largest air components; another is kept when it holds this share of the largest. A lung seen
// whole holds at least kMinLungMl; a lung cut by the scan's first slice (only its base is in the scan)
// at least kMinCutLungMl.
constexpr double kMinLungMl = 150.0;
constexpr double kMinCutLungMl = 20.0;
constexpr double kKeptLungFraction = 0.1;
// Gas in the stomach or bowel is air without lung's vessels: a component with this share of its cells
// below kGasHu is not lung.
constexpr float kGasHu = -950.0f;
constexpr double kMaxGasShare = 0.6;
// The trachea (a midline lumen blob of at least kMinTracheaCm2 at the lung apex) is followed down as the
// lumen blobs overlapping the previous slice's; it has split when two blobs of at least kMinBronchusCm2
// remain, at least kMinTrackMm down (so a blob at a cut scan's first slice is not taken for the split), and
// is lost when a blob grows past kAirwayMaxCm2 (it joined the lung), nothing overlaps, or after kMaxTrackMm.
constexpr double kMinTracheaCm2 = 0.5;
constexpr double kMinBronchusCm2 = 0.2;
constexpr double kMaxTrackMm = 160.0;
constexpr double kMinTrackMm = 20.0;


// The body with its holes (lungs, airway, bowel gas): the largest 3D component of the cells above the body
// threshold (not the table, nor padding enclosed by the table), with the holes of each slice filled (cells a
// flood from the slice's border cannot reach without crossing the body).
std::vector<std::uint8_t> inside_body(const body::CellGrid& g) {
  const std::size_t w = g.cells[0], h = g.cells[1], per_slice = g.per_slice();
  std::vector<std::uint8_t> mask(g.mean_hu.size());
  std::transform(g.mean_hu.begin(), g.mean_hu.end(), mask.begin(), [](float hu) { return hu > body::kBodyHu ? 1 : 0; });
  std::vector<std::uint32_t> labels;
  const auto sizes = body::label_components(mask, {w, h, g.slices}, labels);
  const auto largest = static_cast<std::uint32_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
  std::vector<std::uint8_t> inside(mask.size(), 1);
  std::vector<std::size_t> stack;
  for (std::size_t k = 0; k < g.slices; ++k) {
    const std::size_t offset = k * per_slice;
    const auto seed = [&](std::size_t c) {
      if (inside[offset + c] && (largest == 0 || labels[offset + c] != largest)) {
        inside[offset + c] = 0;
        stack.push_back(c);
      }
    };
    for (std::size_t x = 0; x < w; ++x) {
      seed(x);
      seed((h - 1) * w + x);
    }
    for (std::size_t y = 0; y < h; ++y) {
      seed(y * w);
      seed(y * w + w - 1);
    }
    while (!stack.empty()) {
      const std::size_t c = stack.back();
      stack.pop_back();
      const std::size_t x = c % w, y = c / w;
      if (x > 0) seed(c - 1);
      if (x + 1 < w) seed(c + 1);
      if (y > 0) seed(c - w);
      if (y + 1 < h) seed(c + w);
    }
  }
  return inside;
}

struct Blob {
  std::size_t cells = 0;
  double centroid_x = 0;  // cell units
};

// 4-connected blobs of one slice's mask: labels (from 1) and each blob's size and centroid.
std::vector<Blob> slice_blobs(const std::vector<std::uint8_t>& mask, std::size_t w, std::size_t h,
                              std::vector<std::uint32_t>& labels) {
  const auto sizes = body::label_components(mask, {w, h, 1}, labels);
  std::vector<Blob> blobs(sizes.size());
  for (std::size_t c = 0; c < labels.size(); ++c) {
    if (labels[c]) blobs[labels[c]].centroid_x += static_cast<double>(c % w);
  }
  for (std::size_t b = 1; b < blobs.size(); ++b) {
    blobs[b].cells = sizes[b];
    blobs[b].centroid_x /= static_cast<double>(sizes[b]);
  }
  return blobs;
}

// The first slice below `start` where the airway blob found at `start` has split in two, following it down
// through the lumen mask. nullopt when there is no trachea-like midline blob at `start`, the airway is lost,
// or it splits less than kMinTrackMm below `start`.
std::optional<std::size_t> airway_split(const std::vector<std::uint8_t>& lumen, const std::vector<double>& midline_x,
                                        const body::CellGrid& g, std::size_t start, double slice_mm) {
  const std::size_t w = g.cells[0], h = g.cells[1], per_slice = g.per_slice();
  const double cell_cm2 = g.cell_mm[0] * g.cell_mm[1] / 100.0;
  std::vector<std::uint32_t> labels;
  const auto slice_mask = [&](std::size_t k) {
    return std::vector<std::uint8_t>(lumen.begin() + static_cast<std::ptrdiff_t>(k * per_slice),
                                     lumen.begin() + static_cast<std::ptrdiff_t>((k + 1) * per_slice));
  };
  // The trachea at the start slice: the largest midline air blob of trachea size.
  std::vector<Blob> blobs = slice_blobs(slice_mask(start), w, h, labels);
  std::uint32_t trachea = 0;
  for (std::uint32_t b = 1; b < blobs.size(); ++b) {
    const double area = static_cast<double>(blobs[b].cells) * cell_cm2;
    if (area < kMinTracheaCm2 || area > kAirwayMaxCm2) continue;
    if (std::abs(blobs[b].centroid_x - midline_x[start]) * g.cell_mm[0] > kAirwayMidlineMm) continue;
    if (trachea == 0 || blobs[b].cells > blobs[trachea].cells) trachea = b;
  }
  if (trachea == 0) return std::nullopt;
  std::vector<std::uint8_t> tracked(per_slice, 0);
  for (std::size_t c = 0; c < per_slice; ++c) tracked[c] = labels[c] == trachea;
  const auto max_steps = static_cast<std::size_t>(kMaxTrackMm / slice_mm);
  for (std::size_t k = start + 1; k < g.slices && k <= start + max_steps; ++k) {
    blobs = slice_blobs(slice_mask(k), w, h, labels);
    std::vector<std::uint8_t> overlaps(blobs.size(), 0);
    for (std::size_t c = 0; c < per_slice; ++c) {
      if (tracked[c] && labels[c]) overlaps[labels[c]] = 1;
    }
    std::size_t branches = 0, kept = 0;
    for (std::size_t b = 1; b < blobs.size(); ++b) {
      if (!overlaps[b]) continue;
      const double area = static_cast<double>(blobs[b].cells) * cell_cm2;
      if (area > kAirwayMaxCm2) return std::nullopt;  // joined the lung before splitting
      ++kept;
      if (area >= kMinBronchusCm2) ++branches;
    }
    if (kept == 0) return std::nullopt;
    if (branches >= 2 && static_cast<double>(k - start) * slice_mm >= kMinTrackMm) return k;
    for (std::size_t c = 0; c < per_slice; ++c) tracked[c] = labels[c] && overlaps[labels[c]];
  }
  return std::nullopt;
}

}  // namespace

std::vector<MeasuredKeySlice> measure_key_slices(const CanonicalView& view) {
  const std::size_t n = view.size()[2];
  const body::CellGrid g = body::mean_hu_cells(view, 0, n - 1, kCellMm);
  const std::size_t w = g.cells[0], h = g.cells[1], per_slice = g.per_slice();
  const double slice_mm = view.mapping().slice_step_mm();
  const double cell_cm2 = g.cell_mm[0] * g.cell_mm[1] / 100.0;
  const double cell_ml = cell_cm2 * slice_mm / 10.0;

  // The airway lumen, and the lung candidates: air inside the body less its small midline blobs (airway).
  std::vector<std::uint8_t> lumen(per_slice * n, 0), lung(per_slice * n, 0);
  std::vector<double> midline_x(n, static_cast<double>(w) / 2);
  std::vector<std::uint32_t> labels;
  const std::vector<std::uint8_t> body_and_holes = inside_body(g);
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint8_t* inside = body_and_holes.data() + k * per_slice;
    const float* hu = g.mean_hu.data() + k * per_slice;
    std::vector<std::uint8_t> slice_air(per_slice, 0);
    double sum_x = 0, body_cells = 0;
    for (std::size_t c = 0; c < per_slice; ++c) {
      if (!inside[c]) continue;
      slice_air[c] = hu[c] < kAirHu;
      if (hu[c] > body::kBodyHu) {
        sum_x += static_cast<double>(c % w);
        body_cells += 1;
      }
    }
    if (body_cells > 0) midline_x[k] = sum_x / body_cells;
    const std::vector<Blob> blobs = slice_blobs(slice_air, w, h, labels);
    for (std::size_t c = 0; c < per_slice; ++c) {
      if (!slice_air[c]) continue;
      lumen[k * per_slice + c] = hu[c] < kAirwayHu;
      const Blob& b = blobs[labels[c]];
      const bool airway = static_cast<double>(b.cells) * cell_cm2 < kAirwayMaxCm2 &&
                          std::abs(b.centroid_x - midline_x[k]) * g.cell_mm[0] < kAirwayMidlineMm;
      lung[k * per_slice + c] = !airway;
    }
  }

  // The lungs among the 3D air components.
  const auto sizes = body::label_components(lung, {w, h, n}, labels);
  std::vector<std::size_t> gas(sizes.size(), 0), first(sizes.size(), n), last(sizes.size(), 0);
  for (std::size_t c = 0; c < labels.size(); ++c) {
    const std::uint32_t l = labels[c];
    if (!l) continue;
    const std::size_t k = c / per_slice;
    first[l] = std::min(first[l], k);
    last[l] = std::max(last[l], k);
    if (g.mean_hu[c] < kGasHu) ++gas[l];
  }
  std::size_t largest = 0;
  for (std::size_t l = 1; l < sizes.size(); ++l) {
    if (static_cast<double>(gas[l]) <= kMaxGasShare * static_cast<double>(sizes[l])) largest = std::max(largest, sizes[l]);
  }
  std::size_t top = n, bottom = 0;
  for (std::size_t l = 1; l < sizes.size(); ++l) {
    const double ml = static_cast<double>(sizes[l]) * cell_ml;
    const bool lung_like = static_cast<double>(gas[l]) <= kMaxGasShare * static_cast<double>(sizes[l]);
    const bool big_enough = ml >= kMinLungMl || (first[l] == 0 && ml >= kMinCutLungMl);
    if (!lung_like || !big_enough || static_cast<double>(sizes[l]) < kKeptLungFraction * static_cast<double>(largest)) continue;
    top = std::min(top, first[l]);
    bottom = std::max(bottom, last[l]);
  }

  std::vector<MeasuredKeySlice> out;
  const auto add = [&](const char* name, std::size_t k) {
    out.push_back({name, static_cast<double>(k), view.mapping().world_z(static_cast<double>(k))});
  };
  if (top == n) return out;  // no lungs
  if (top > 0) add("lung_apex", top);
  if (const auto split = airway_split(lumen, midline_x, g, top, slice_mm)) add("carina", *split);
  if (bottom + 1 < n) add("lung_base", bottom);
  return out;
}

}  // namespace slicenav
