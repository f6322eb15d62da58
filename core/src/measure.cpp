#include "slicenav/measure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>

#include "body.hpp"
#include "measure_bone.hpp"

namespace slicenav {
namespace {

// Cells: about 3 mm for the lungs, 2 mm for the airway (main bronchi are 10-15 mm wide).
constexpr double kLungCellMm = 3.0;
constexpr double kAirwayCellMm = 2.0;
constexpr std::size_t kChunkSlices = 32;  // slices of cells held at once
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
// A slice shows lung on both sides (which no slice near the hips does) when it holds lung-like air blobs of
// at least kSideLungCm2 whose centroids lie kSideLungMm or more left and right of the midline.
constexpr double kSideLungCm2 = 8.0;
constexpr double kSideLungMm = 30.0;
// The trachea (a midline lumen blob of at least kMinTracheaCm2 at the lung apex) is followed down as the
// lumen blobs overlapping the previous slice's; it has split when two blobs of at least kMinBronchusCm2
// remain, at least kMinTrackMm down (so a blob at a cut scan's first slice is not taken for the split), and
// is lost when a blob grows past kAirwayMaxCm2 (it joined the lung), nothing overlaps, or after kMaxTrackMm.
constexpr double kMinTracheaCm2 = 0.5;
constexpr double kMinBronchusCm2 = 0.2;
constexpr double kMaxTrackMm = 160.0;
constexpr double kMinTrackMm = 20.0;

// The body with its holes (lungs, airway, bowel gas) in one slice of cells: the largest component of the
// cells above the body threshold (not the table, nor padding the table encloses), with its holes filled
// (cells a flood from the slice's border cannot reach without crossing it). Buffers are reused across calls.
struct InsideBody {
  std::vector<std::uint8_t> mask, outside, inside;
  std::vector<std::uint32_t> labels;
  std::vector<std::size_t> stack;

  const std::vector<std::uint8_t>& operator()(const float* hu, std::size_t w, std::size_t h) {
    const std::size_t per_slice = w * h;
    mask.resize(per_slice);
    for (std::size_t c = 0; c < per_slice; ++c) mask[c] = hu[c] > body::kBodyHu;
    const auto sizes = body::label_components(mask, {w, h, 1}, labels);
    const auto largest = static_cast<std::uint32_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
    // Open: every cell but the body's; inside: what the border cannot reach through them.
    for (std::size_t c = 0; c < per_slice; ++c) mask[c] = largest == 0 || labels[c] != largest;
    body::reach_from_border(mask, w, h, outside, stack);
    inside.resize(per_slice);
    for (std::size_t c = 0; c < per_slice; ++c) inside[c] = !outside[c];
    return inside;
  }
};

// Mean x (cells) of the body cells inside, or the slice's centre.
double midline_of(const float* hu, const std::vector<std::uint8_t>& inside, std::size_t w) {
  double sum_x = 0, count = 0;
  for (std::size_t c = 0; c < inside.size(); ++c) {
    if (inside[c] && hu[c] > body::kBodyHu) {
      sum_x += static_cast<double>(c % w);
      count += 1;
    }
  }
  return count > 0 ? sum_x / count : static_cast<double>(w) / 2;
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

// Slices after the first of `g` (the lung apex onwards) until the airway blob found in the first has split in
// two, following it down through the lumen. nullopt when there is no trachea-like midline blob in the first
// slice, the airway is lost, or it splits less than kMinTrackMm down.
std::optional<std::size_t> airway_split(const body::CellGrid& g, double slice_mm) {
  const std::size_t w = g.cells[0], h = g.cells[1], per_slice = g.per_slice();
  const double cell_cm2 = g.cell_mm[0] * g.cell_mm[1] / 100.0;
  InsideBody inside_body;
  std::vector<std::uint8_t> lumen(per_slice);
  std::vector<std::uint32_t> labels;
  const auto lumen_blobs = [&](std::size_t k) {
    const float* hu = g.mean_hu.data() + k * per_slice;
    const auto& inside = inside_body(hu, w, h);
    for (std::size_t c = 0; c < per_slice; ++c) lumen[c] = inside[c] && hu[c] < kAirwayHu;
    return slice_blobs(lumen, w, h, labels);
  };
  // The trachea at the first slice: the largest midline lumen blob of trachea size.
  std::vector<Blob> blobs = lumen_blobs(0);
  const double midline = midline_of(g.mean_hu.data(), inside_body.inside, w);
  std::uint32_t trachea = 0;
  for (std::uint32_t b = 1; b < blobs.size(); ++b) {
    const double area = static_cast<double>(blobs[b].cells) * cell_cm2;
    if (area < kMinTracheaCm2 || area > kAirwayMaxCm2) continue;
    if (std::abs(blobs[b].centroid_x - midline) * g.cell_mm[0] > kAirwayMidlineMm) continue;
    if (trachea == 0 || blobs[b].cells > blobs[trachea].cells) trachea = b;
  }
  if (trachea == 0) return std::nullopt;
  std::vector<std::uint8_t> tracked(per_slice, 0);
  for (std::size_t c = 0; c < per_slice; ++c) tracked[c] = labels[c] == trachea;
  for (std::size_t k = 1; k < g.slices; ++k) {
    blobs = lumen_blobs(k);
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
    if (branches >= 2 && static_cast<double>(k) * slice_mm >= kMinTrackMm) return k;
    for (std::size_t c = 0; c < per_slice; ++c) tracked[c] = labels[c] && overlaps[labels[c]];
  }
  return std::nullopt;
}

}  // namespace

std::vector<MeasuredKeySlice> measure_key_slices(const CanonicalView& view) {
  const std::size_t n = view.size()[2];
  const double slice_mm = view.mapping().slice_step_mm();
  // One pass over the slices, a chunk of cells at a time: each slice's air blobs that are not airway are
  // nodes, joined (union-find) with the overlapping nodes of the slice above into 3D components.
  struct Node {
    std::size_t slice = 0, cells = 0, gas = 0;
  };
  std::vector<Node> nodes;
  std::vector<std::uint32_t> parent;
  const auto root = [&](std::uint32_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  constexpr auto kNone = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> node_above, node_here, labels;
  std::vector<std::uint8_t> air, lungs_both_sides(n, 0);
  InsideBody inside_body;
  double cell_ml = 0;
  for (std::size_t first = 0; first < n; first += kChunkSlices) {
    const body::CellGrid g = body::mean_hu_cells(view, first, std::min(n, first + kChunkSlices) - 1, kLungCellMm);
    const std::size_t w = g.cells[0], h = g.cells[1], per_slice = g.per_slice();
    const double cell_cm2 = g.cell_mm[0] * g.cell_mm[1] / 100.0;
    cell_ml = cell_cm2 * slice_mm / 10.0;
    node_above.resize(per_slice, kNone);
    for (std::size_t s = 0; s < g.slices; ++s) {
      const float* hu = g.mean_hu.data() + s * per_slice;
      const auto& inside = inside_body(hu, w, h);
      const double midline = midline_of(hu, inside, w);
      air.resize(per_slice);
      for (std::size_t c = 0; c < per_slice; ++c) air[c] = inside[c] && hu[c] < kAirHu;
      const std::vector<Blob> blobs = slice_blobs(air, w, h, labels);
      std::vector<std::uint32_t> node_of_blob(blobs.size(), kNone);
      for (std::size_t b = 1; b < blobs.size(); ++b) {
        const bool airway = static_cast<double>(blobs[b].cells) * cell_cm2 < kAirwayMaxCm2 &&
                            std::abs(blobs[b].centroid_x - midline) * g.cell_mm[0] < kAirwayMidlineMm;
        if (airway) continue;
        node_of_blob[b] = static_cast<std::uint32_t>(nodes.size());
        parent.push_back(node_of_blob[b]);
        nodes.push_back({first + s, blobs[b].cells, 0});
      }
      node_here.assign(per_slice, kNone);
      for (std::size_t c = 0; c < per_slice; ++c) {
        if (!labels[c] || node_of_blob[labels[c]] == kNone) continue;
        const std::uint32_t node = node_of_blob[labels[c]];
        node_here[c] = node;
        if (hu[c] < kGasHu) ++nodes[node].gas;
        if (node_above[c] != kNone) {
          const std::uint32_t a = root(node_above[c]), b = root(node);
          parent[std::max(a, b)] = std::min(a, b);
        }
      }
      bool left = false, right = false;
      for (std::size_t b = 1; b < blobs.size(); ++b) {
        if (node_of_blob[b] == kNone) continue;
        const Node& blob = nodes[node_of_blob[b]];
        if (static_cast<double>(blob.cells) * cell_cm2 < kSideLungCm2) continue;
        if (static_cast<double>(blob.gas) > kMaxGasShare * static_cast<double>(blob.cells)) continue;
        const double off_midline = (blobs[b].centroid_x - midline) * g.cell_mm[0];
        left = left || off_midline <= -kSideLungMm;
        right = right || off_midline >= kSideLungMm;
      }
      lungs_both_sides[first + s] = left && right;
      std::swap(node_above, node_here);
    }
  }

  // The lungs among the 3D components.
  struct Component {
    std::size_t cells = 0, gas = 0, first = 0, last = 0;
  };
  std::map<std::uint32_t, Component> components;
  for (std::uint32_t i = 0; i < nodes.size(); ++i) {
    auto [it, fresh] = components.try_emplace(root(i));
    Component& c = it->second;
    if (fresh) c.first = c.last = nodes[i].slice;
    c.cells += nodes[i].cells;
    c.gas += nodes[i].gas;
    c.first = std::min(c.first, nodes[i].slice);
    c.last = std::max(c.last, nodes[i].slice);
  }
  const auto lung_like = [](const Component& c) {
    return static_cast<double>(c.gas) <= kMaxGasShare * static_cast<double>(c.cells);
  };
  std::size_t largest = 0;
  for (const auto& [id, c] : components) {
    if (lung_like(c)) largest = std::max(largest, c.cells);
  }
  std::size_t top = n, bottom = 0;
  for (const auto& [id, c] : components) {
    const double ml = static_cast<double>(c.cells) * cell_ml;
    const bool big_enough = ml >= kMinLungMl || (c.first == 0 && ml >= kMinCutLungMl);
    const bool kept_share = static_cast<double>(c.cells) >= kKeptLungFraction * static_cast<double>(largest);
    if (!lung_like(c) || !big_enough || !kept_share) continue;
    top = std::min(top, c.first);
    bottom = std::max(bottom, c.last);
  }

  std::vector<MeasuredKeySlice> out;
  const auto add = [&](const char* name, std::size_t k, double window_mm) {
    out.push_back({name, static_cast<double>(k), view.mapping().world_z(static_cast<double>(k)), window_mm});
  };
  // The skull lies above the lungs and the hips below them: each is searched there, or in the whole scan
  // when it shows no lungs.
  const bool lungs = top < n;
  if (!lungs || top > 0) {
    if (const auto k = detail::measure_skull_base(view, 0, lungs ? top - 1 : n - 1))
      add("skull_base", *k, kBoneMeasurementWindowMm);
  }
  if (lungs) {
    if (top > 0) add("lung_apex", top, kAirMeasurementWindowMm);
    const std::size_t track_end = std::min(n - 1, top + static_cast<std::size_t>(kMaxTrackMm / slice_mm));
    if (const auto split = airway_split(body::mean_hu_cells(view, top, track_end, kAirwayCellMm), slice_mm)) {
      add("carina", top + *split, kAirMeasurementWindowMm);
    }
    if (bottom + 1 < n) add("lung_base", bottom, kAirMeasurementWindowMm);
  }
  if (!lungs || bottom + 1 < n) {
    if (const auto k = detail::measure_femur_head_top(view, lungs ? bottom + 1 : 0, n - 1, lungs_both_sides))
      add("femur_head_top", *k, kBoneMeasurementWindowMm);
  }
  return out;
}

}  // namespace slicenav
