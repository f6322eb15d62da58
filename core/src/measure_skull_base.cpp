// The skull base read off the bone (measure_bone.hpp).
#include "measure_bone.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "body.hpp"

namespace slicenav::detail {
namespace {

// ---- Skull base ------------------------------------------------------------------------------------------
// The brain is soft tissue enclosed by bone on every axial slice through the skull. Going down, the cranial
// cavity narrows to the posterior fossa and then to the foramen magnum; the skull base is the lower edge of the
// occipital bone and condyles around it: the last slice, below the posterior fossa, whose bone area within
// kRingMm of the foramen magnum is at least half-way between its maximum and the floor below.
constexpr double kSkullCellMm = 1.0;
constexpr float kEnclosingBoneHu = 150.0f;  // thin skull on 3 mm pixels or thick slices is partial-volumed
constexpr float kRingBoneHu = 250.0f;
constexpr double kMinHoleCm2 = 1.5;
constexpr double kBrainMinHu = 15.0, kBrainMaxHu = 60.0;  // median HU of an enclosed region of brain
constexpr float kPureLowHu = -30.0f, kPureHighHu = 100.0f;
constexpr double kMaxImpureShare = 0.05;  // a vault region holds no fat, air or bone inside
// A head: an enclosed brain region this large, reaching across the midline of the bone in its slice, on slices
// spanning this much z (a pelvic ring closes over a few).
constexpr double kVaultMinCm2 = 40.0;
constexpr double kVaultMinMm = 20.0;
constexpr double kFossaMinCm2 = 20.0;   // the posterior fossa: still larger than the foramen (7-9 cm2)
constexpr double kChainGapMm = 15.0;    // slices the cavity may be lost on when followed down (at least 2.5 slices)
constexpr double kChainShiftMm = 40.0;  // in-plane move of the cavity between followed slices
constexpr double kForamenBelowMm = 12.0;
constexpr double kForamenMinCm2 = 2.0, kForamenMaxCm2 = 15.0;
constexpr double kForamenMinHu = 0.0, kForamenMaxHu = 80.0;
constexpr double kForamenShiftMm = 35.0;
constexpr double kRingMm = 50.0;  // occipital bone, condyles, mastoids; not the mandible's body
constexpr double kProfileAboveMm = 10.0, kProfileBelowMm = 40.0;
constexpr double kPeakBelowFossaMm = 15.0;  // the bone maximum lies at most this far below the fossa's bottom
constexpr double kMinRingBoneCm2 = 15.0;    // vertebral rings alone hold less
constexpr std::size_t kChunkSlices = 32;

// Positions in mm from the centre of cell (0, 0).
struct Hole {
  double area_cm2 = 0, median_hu = 0, cy_mm = 0, cx_mm = 0, impure_share = 0;
  double x_min_mm = 0, x_max_mm = 0;
};

// Soft-tissue regions enclosed by bone in one slice of cells (bone bridged over one-cell gaps), of at least
// kMinHoleCm2. Buffers are reused across calls.
class EnclosedRegions {
 public:
  // The middle of the bone's left-right extent in the last slice given (mm).
  double bone_midline_mm() const { return bone_midline_mm_; }

  std::vector<Hole> operator()(const float* hu, std::size_t w, std::size_t h, const std::array<double, 2>& cell_mm) {
    // The rectangle around the bone, two cells wider: nothing outside it can be enclosed.
    std::size_t x0 = w, x1 = 0, y0 = h, y1 = 0;
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        if (hu[y * w + x] <= kEnclosingBoneHu) continue;
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
    }
    if (x0 > x1) return {};
    bone_midline_mm_ = 0.5 * static_cast<double>(x0 + x1) * cell_mm[0];
    x0 = x0 >= 2 ? x0 - 2 : 0, y0 = y0 >= 2 ? y0 - 2 : 0;
    x1 = std::min(w - 1, x1 + 2), y1 = std::min(h - 1, y1 + 2);
    const std::size_t W = x1 - x0 + 1, H = y1 - y0 + 1, N = W * H;
    sub_.resize(N);
    bone_.resize(N);
    open_.resize(N);
    for (std::size_t y = 0; y < H; ++y) {
      for (std::size_t x = 0; x < W; ++x) {
        sub_[y * W + x] = hu[(y + y0) * w + x + x0];
        bone_[y * W + x] = sub_[y * W + x] > kEnclosingBoneHu;
      }
    }
    dilate(bone_, W, H, bridged_);
    // Enclosed: not bridged bone, and not reached from the border through 4-neighbours.
    for (std::size_t c = 0; c < N; ++c) open_[c] = !bridged_[c];
    body::reach_from_border(open_, W, H, reached_, stack_);
    enclosed_.resize(N);
    for (std::size_t c = 0; c < N; ++c) enclosed_[c] = open_[c] && !reached_[c];
    dilate(enclosed_, W, H, region_);
    for (std::size_t c = 0; c < N; ++c) region_[c] = region_[c] && !bone_[c];
    const auto sizes = body::label_components(region_, {W, H, 1}, labels_);
    const double cell_cm2 = cell_mm[0] * cell_mm[1] / 100.0;
    std::vector<std::size_t> index(sizes.size(), 0);
    std::vector<Hole> holes;
    std::vector<std::vector<float>> values;
    std::vector<std::array<double, 4>> sums;  // y, x, impure inner cells, inner cells
    for (std::size_t l = 1; l < sizes.size(); ++l) {
      if (static_cast<double>(sizes[l]) * cell_cm2 < kMinHoleCm2) continue;
      index[l] = holes.size() + 1;
      holes.push_back({static_cast<double>(sizes[l]) * cell_cm2, 0, 0, 0, 0, HUGE_VAL, -HUGE_VAL});
      values.emplace_back();
      values.back().reserve(sizes[l]);
      sums.push_back({0, 0, 0, 0});
    }
    if (holes.empty()) return holes;
    for (std::size_t y = 0; y < H; ++y) {
      for (std::size_t x = 0; x < W; ++x) {
        const std::size_t c = y * W + x;
        if (!labels_[c] || !index[labels_[c]]) continue;
        const std::size_t hole = index[labels_[c]] - 1;
        values[hole].push_back(sub_[c]);
        auto& s = sums[hole];
        s[0] += static_cast<double>(y + y0), s[1] += static_cast<double>(x + x0);
        const double x_mm = static_cast<double>(x + x0) * cell_mm[0];
        holes[hole].x_min_mm = std::min(holes[hole].x_min_mm, x_mm);
        holes[hole].x_max_mm = std::max(holes[hole].x_max_mm, x_mm);
        const bool inner = x > 0 && x + 1 < W && y > 0 && y + 1 < H && region_[c - 1] && region_[c + 1] &&
                           region_[c - W] && region_[c + W];
        if (inner) {
          s[3] += 1;
          if (sub_[c] < kPureLowHu || sub_[c] > kPureHighHu) s[2] += 1;
        }
      }
    }
    for (std::size_t i = 0; i < holes.size(); ++i) {
      auto& v = values[i];
      const std::size_t m = v.size() / 2;
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
      double median = v[m];
      if (v.size() % 2 == 0)
        median = 0.5 * (median + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m)));
      const double count = static_cast<double>(v.size());
      holes[i].median_hu = median;
      holes[i].cy_mm = sums[i][0] / count * cell_mm[1];
      holes[i].cx_mm = sums[i][1] / count * cell_mm[0];
      holes[i].impure_share = sums[i][2] / std::max(sums[i][3], 1.0);
    }
    return holes;
  }

 private:
  // 3 x 3 square dilation; outside the rectangle counts as unset.
  static void dilate(const std::vector<std::uint8_t>& in, std::size_t W, std::size_t H,
                     std::vector<std::uint8_t>& out) {
    out.assign(in.size(), 0);
    for (std::size_t y = 0; y < H; ++y) {
      for (std::size_t x = 0; x < W; ++x) {
        if (!in[y * W + x]) continue;
        for (std::size_t yy = y > 0 ? y - 1 : 0; yy <= std::min(H - 1, y + 1); ++yy) {
          for (std::size_t xx = x > 0 ? x - 1 : 0; xx <= std::min(W - 1, x + 1); ++xx) out[yy * W + xx] = 1;
        }
      }
    }
  }

  double bone_midline_mm_ = 0;
  std::vector<float> sub_;
  std::vector<std::uint8_t> bone_, bridged_, open_, reached_, enclosed_, region_;
  std::vector<std::uint32_t> labels_;
  std::vector<std::size_t> stack_;
};

}  // namespace

std::optional<std::size_t> measure_skull_base(const CanonicalView& view, std::size_t first, std::size_t last) {
  const std::size_t n = view.size()[2];
  if (first > last || last >= n) return std::nullopt;
  const double dz = view.mapping().slice_step_mm();
  const auto slices_in = [&](double mm) { return static_cast<std::size_t>(std::floor(mm / dz + 1e-6)); };
  // Enclosed regions of every slice from `first` down to just past `last` (where the foramen may lie).
  const std::size_t end = std::min(n - 1, last + slices_in(kForamenBelowMm) + 1);
  std::vector<std::vector<Hole>> holes(end - first + 1);
  std::vector<double> midline(end - first + 1);  // of the bone's left-right extent
  EnclosedRegions enclosed;
  for (std::size_t c0 = first; c0 <= end; c0 += kChunkSlices) {
    const body::CellGrid g = body::mean_hu_cells(view, c0, std::min(end, c0 + kChunkSlices - 1), kSkullCellMm);
    for (std::size_t s = 0; s < g.slices; ++s) {
      const float* hu = g.mean_hu.data() + s * g.per_slice();
      holes[c0 + s - first] = enclosed(hu, g.cells[0], g.cells[1], g.cell_mm);
      midline[c0 + s - first] = enclosed.bone_midline_mm();
    }
  }
  // The largest brain-like region of each slice of the search range.
  std::vector<const Hole*> brain(last - first + 1, nullptr);
  std::vector<std::size_t> vault;
  for (std::size_t k = first; k <= last; ++k) {
    for (const Hole& h : holes[k - first]) {
      if (h.median_hu < kBrainMinHu || h.median_hu > kBrainMaxHu) continue;
      if (!brain[k - first] || h.area_cm2 > brain[k - first]->area_cm2) brain[k - first] = &h;
    }
    const Hole* b = brain[k - first];
    if (!b || b->area_cm2 < kVaultMinCm2 || b->impure_share >= kMaxImpureShare) continue;
    if (b->x_min_mm <= midline[k - first] && midline[k - first] <= b->x_max_mm) vault.push_back(k);
  }
  if (vault.empty() || static_cast<double>(vault.back() - vault.front()) * dz < kVaultMinMm) return std::nullopt;
  // Follow the cavity down from each vault slice; the lowest slice it reaches is the posterior fossa's bottom.
  const std::size_t gap = slices_in(std::max(kChainGapMm, 2.5 * dz));
  std::size_t fossa = vault.front();
  for (const std::size_t start : vault) {
    std::size_t at = start;
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t k = at + 1; k <= std::min(last, at + gap); ++k) {
        const Hole* b = brain[k - first];
        if (!b || b->area_cm2 < kFossaMinCm2) continue;
        const Hole* a = brain[at - first];
        if (std::hypot(b->cy_mm - a->cy_mm, b->cx_mm - a->cx_mm) > kChainShiftMm) continue;
        at = k, moved = true;
        break;
      }
    }
    fossa = std::max(fossa, at);
  }
  // The foramen magnum's centre: the first small soft-tissue region just below, near the fossa's centre.
  double cy = brain[fossa - first]->cy_mm, cx = brain[fossa - first]->cx_mm;
  for (std::size_t k = fossa + 1; k <= std::min(end, fossa + slices_in(kForamenBelowMm)); ++k) {
    const Hole* pick = nullptr;
    for (const Hole& h : holes[k - first]) {
      if (h.area_cm2 < kForamenMinCm2 || h.area_cm2 > kForamenMaxCm2) continue;
      if (h.median_hu < kForamenMinHu || h.median_hu > kForamenMaxHu) continue;
      if (std::hypot(h.cy_mm - cy, h.cx_mm - cx) > kForamenShiftMm) continue;
      if (!pick || h.area_cm2 > pick->area_cm2) pick = &h;
    }
    if (!pick) continue;
    cy = pick->cy_mm, cx = pick->cx_mm;
    break;
  }
  // Bone area within kRingMm of that centre, slice by slice around the fossa's bottom.
  const std::size_t p0 = fossa >= slices_in(kProfileAboveMm) ? fossa - slices_in(kProfileAboveMm) : 0;
  const std::size_t p1 = std::min(n - 1, fossa + slices_in(kProfileBelowMm));
  std::vector<double> bone(p1 - p0 + 1, 0.0);
  for (std::size_t c0 = p0; c0 <= p1; c0 += kChunkSlices) {
    const body::CellGrid g = body::mean_hu_cells(view, c0, std::min(p1, c0 + kChunkSlices - 1), kSkullCellMm);
    const double cell_cm2 = g.cell_mm[0] * g.cell_mm[1] / 100.0;
    for (std::size_t s = 0; s < g.slices; ++s) {
      const float* hu = g.mean_hu.data() + s * g.per_slice();
      std::size_t cells = 0;
      for (std::size_t y = 0; y < g.cells[1]; ++y) {
        for (std::size_t x = 0; x < g.cells[0]; ++x) {
          const double ddy = static_cast<double>(y) * g.cell_mm[1] - cy,
                       ddx = static_cast<double>(x) * g.cell_mm[0] - cx;
          if (hu[y * g.cells[0] + x] > kRingBoneHu && ddy * ddy + ddx * ddx <= kRingMm * kRingMm) ++cells;
        }
      }
      bone[c0 + s - p0] = static_cast<double>(cells) * cell_cm2;
    }
  }
  const std::size_t peak_end = std::min(p1, fossa + slices_in(kPeakBelowFossaMm));
  std::size_t peak = p0;
  for (std::size_t k = p0; k <= peak_end; ++k) {
    if (bone[k - p0] > bone[peak - p0]) peak = k;
  }
  if (bone[peak - p0] < kMinRingBoneCm2) return std::nullopt;
  const double floor = *std::min_element(bone.begin() + static_cast<std::ptrdiff_t>(peak - p0), bone.end());
  const double half = 0.5 * (bone[peak - p0] + floor);
  std::size_t edge = peak;
  while (edge < p1 && bone[edge + 1 - p0] >= half) ++edge;
  return edge;
}

}  // namespace slicenav::detail
